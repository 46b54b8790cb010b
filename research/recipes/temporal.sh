#!/usr/bin/env bash
# The temporal translator (temporal.toml), from floor1's final pair. Run from a work folder with
# style_wrap installed; every step resumes (rerun the script). One core, about an hour.
# Frames: whole episodes (--every 1) of 400 steps along the zoo's expert (seed 3) in both looks,
# so that about half of each look's frames are on the floor (it ends at x = 40 m).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
floor="$here/../floor1"
export OMP_NUM_THREADS=1 MUJOCO_GL="${MUJOCO_GL:-egl}"
size=(--env-kwarg width=64 --env-kwarg height=64)
[ -f expert3/expert.safetensors ] || cp -r "$here/../zoo/expert3" .
style-wrap collect --env StyleWrap/HalfCheetahRestyled-v5 --frames 8000 --total \
  --max-episode-steps 400 --seed 81 --policy expert3 --out data/tr-restyled --name restyled "${size[@]}"
style-wrap collect --env StyleWrap/HalfCheetah-v5 --frames 8000 --total \
  --max-episode-steps 400 --seed 82 --policy expert3 --out data/tr-standard --name standard "${size[@]}"
if [ ! -f runs/temporal1/generator_a2b.safetensors ]; then
  if [ -f runs/temporal1/checkpoints/latest.pt ]; then
    style-wrap train --config "$here/temporal.toml" --resume --name temporal1
  else
    style-wrap train --config "$here/temporal.toml" \
      --init-g-ab "$floor/final-6000-a2b.safetensors" --init-g-ba "$floor/final-6000-b2a.safetensors"
  fi
fi
# The earlier policy-free translator (research/pretrained/halfcheetah-restyled-to-standard-policyfree-cyclegan,
# shipped until the pose translator replaced it) is this run's export at step 4000: runs/temporal1/exports/step-004000/generator_a2b.safetensors
