#!/usr/bin/env bash
# Wheels the lent CUDA machine lacks (Python 3.12 there), into .whl/ (ignored by git), for
# benchmarks/gpu_check.sh. Run here, where pip reaches the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
  --platform manylinux2014_x86_64 --platform any)
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" -d .whl gymnasium mujoco stable-baselines3 farama-notifications glfw \
  cloudpickle imageio-ffmpeg absl-py etils pyopengl
python3 -m pip download --no-deps -d .whl .  # style_wrap itself, as a wheel
