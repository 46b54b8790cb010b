#!/usr/bin/env bash
# Rebuild the shipped files from nothing: the state expert, the pixel policy (DAgger), the two
# frame datasets and the translator. Run from an empty work folder with style_wrap installed:
#   bash /path/to/style_wrap/pretrained/recipe/reproduce.sh
# Every step resumes if interrupted (rerun the script). On 2 CPU cores the whole recipe takes
# about three hours; the expert and the translator run side by side with the distillation.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OMP_NUM_THREADS=1 MUJOCO_GL="${MUJOCO_GL:-egl}"
size=(--env-kwarg width=64 --env-kwarg height=64)

# 1. State expert (PPO, VecNormalize), the teacher of the pixel policy.
[ -f expert/expert.zip ] || style-wrap expert --out expert --steps 250000 --seed 0

# 2. Pixel policy: DAgger into an SB3 CnnPolicy on 3 stacked 64x64 frames (resumes by round).
style-wrap distill --expert expert --out dagger &
distill=$!

# 3. Unpaired frames of each domain along the expert's (sampled) gait; different seeds, so no
#    frame of one domain has a twin in the other.
[ -f data/restyled/manifest.json ] || style-wrap collect --env StyleWrap/HalfCheetahRestyled-v5 \
  --frames 6000 --every 2 --seed 1 --policy expert --out data/restyled --name restyled "${size[@]}"
[ -f data/standard/manifest.json ] || style-wrap collect --env StyleWrap/HalfCheetah-v5 \
  --frames 6000 --every 2 --seed 2 --policy expert --out data/standard --name standard "${size[@]}"

# 4. Translator restyled -> standard (and back), then its generators as fp16 safetensors.
if [ -d runs/restyled-to-standard/checkpoints ]; then
  style-wrap train --config "$here/translator.toml" --resume
else
  style-wrap train --config "$here/translator.toml"
fi
wait "$distill"

# 5. The shipped names.
mkdir -p shipped
cp runs/restyled-to-standard/generator_a2b.safetensors shipped/halfcheetah-restyled-to-standard.safetensors
cp runs/restyled-to-standard/generator_b2a.safetensors shipped/halfcheetah-standard-to-restyled.safetensors
cp dagger/best.zip shipped/halfcheetah-pixel-policy.zip
style-wrap demo --policy shipped/halfcheetah-pixel-policy.zip \
  --weights shipped/halfcheetah-restyled-to-standard.safetensors --episodes 5 --json shipped/demo.json
