#!/usr/bin/env bash
# The device check: run first whenever a CUDA machine is lent (about 3-4 minutes on an H200).
#   1. the tests marked `cuda` (they skip on machines without a GPU, CI included);
#   2. `style-wrap bench` on CUDA at batches 1, 8, 64, 256 (env alone vs env + wrapper);
#   3. the translator alone on CUDA, fp16 and fp32, CUDA graph on and off, against plain PyTorch;
#   4. a training-speed sample per width (ngf 8 and 32, about a minute each), style_wrap's step
#      against the plain PyTorch step.
# Results land in $OUT (or ./gpu-check): copy their numbers into docs/usage.md ("On CUDA").
#
# The lent machine has torch but not gymnasium, MuJoCo or stable-baselines3, and reaches no
# registry: fetch their wheels here first (`bash benchmarks/gpu_wheels.sh`, into the ignored
# .whl/) and carry `.whl` with the run:  bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check}"
mkdir -p "$out"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site:$PWD"
fi
export MUJOCO_GL=egl PYTHONUNBUFFERED=1
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA here'" || exit 1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1

timeout 90 python3 -m pytest -q -p no:cacheprovider -m cuda tests 2>&1 | tee "$out/cuda-tests.log"
timeout 60 python3 -m style_wrap.cli bench --batches 1,8,64,256 --steps 256 \
  --json "$out/bench.json" 2>&1 | tee "$out/bench.log"
timeout 45 python3 benchmarks/translator_cuda.py --json "$out/translator.json" 2>&1 \
  | tee "$out/translator.log"
for ngf in 8 32; do
  timeout 70 python3 benchmarks/train_step.py --device cuda --ngf "$ngf" --iters 200 \
    --json "$out/train-ngf$ngf.json" 2>&1 | tee "$out/train-ngf$ngf.log"
done
