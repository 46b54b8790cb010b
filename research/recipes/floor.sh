#!/usr/bin/env bash
# The policy-free floor-phase translator (floor.toml), then the zoo's judgement of its exports.
# Run from a work folder with style_wrap installed; every step resumes (rerun the script).
# One core. Domain frames follow the zoo's expert (seed 3, research/zoo/expert3), 1000-step
# episodes in both looks, so both hold the same share of frames past the floor's end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kept="$here/../pretrained"
export OMP_NUM_THREADS=1 MUJOCO_GL="${MUJOCO_GL:-egl}"
size=(--env-kwarg width=64 --env-kwarg height=64)
[ -f expert3/expert.safetensors ] || cp -r "$here/../zoo/expert3" .
[ -f data/fl-restyled/manifest.json ] || style-wrap collect --env StyleWrap/HalfCheetahRestyled-v5 \
  --frames 6000 --every 2 --seed 61 --policy expert3 --out data/fl-restyled --name restyled "${size[@]}"
[ -f data/fl-standard/manifest.json ] || style-wrap collect --env StyleWrap/HalfCheetah-v5 \
  --frames 6000 --every 2 --seed 62 --policy expert3 --out data/fl-standard --name standard "${size[@]}"
if [ ! -f runs/floor1/generator_a2b.safetensors ]; then
  if [ -f runs/floor1/checkpoints/latest.pt ]; then
    style-wrap train --config "$here/floor.toml" --resume
  else
    style-wrap train --config "$here/floor.toml" \
      --init-g-ab "$kept/halfcheetah-restyled-to-standard-round10.safetensors" \
      --init-g-ba "$kept/halfcheetah-standard-to-restyled-round10.safetensors"
  fi
fi
