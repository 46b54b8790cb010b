#!/usr/bin/env bash
# Rebuild the shipped files from nothing: the state expert, the pixel policy (DAgger), the two
# frame datasets and the translator. Run from an empty work folder with style_wrap installed:
#   bash /path/to/style_wrap/research/recipes/reproduce.sh
# It made the first pair (kept in research/pretrained/ as the -round10 files); flipaware.sh
# continues from it to the shipped pair.
# Every step resumes if interrupted (rerun the script). On 2 CPU cores the whole recipe takes
# about three hours; the expert and the translator run side by side with the distillation.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OMP_NUM_THREADS=1 MUJOCO_GL="${MUJOCO_GL:-egl}"
size=(--env-kwarg width=64 --env-kwarg height=64)

# 1. State expert (PPO, VecNormalize), the teacher of the pixel policy. (Seed 0 at 250k steps
#    stood still in 2 of 5 episodes; seed 2 at 400k ran every episode, 4557 +- 33.)
[ -f expert/expert.zip ] || style-wrap expert --out expert --steps 400000 --seed 2

# 2. Pixel policy: DAgger into an SB3 CnnPolicy on 3 stacked 64x64 frames (resumes by round).
#    10 rounds and a final fit, then 4 more rounds and a final fit again (as the shipped one was).
#    (--no-flip-reset: the shipped student was made before rollouts ended at a flip.)
(style-wrap distill --expert expert --out dagger --no-flip-reset && style-wrap distill \
  --expert expert --out dagger --rounds 14 --no-flip-reset) &
distill=$!

# 3. Unpaired frames of each domain along the expert's (sampled) gait; different seeds, so no
#    frame of one domain has a twin in the other.
[ -f data/restyled/manifest.json ] || style-wrap collect --env StyleWrap/HalfCheetahRestyled-v5 \
  --frames 6000 --every 2 --seed 1 --policy expert --out data/restyled --name restyled "${size[@]}"
[ -f data/standard/manifest.json ] || style-wrap collect --env StyleWrap/HalfCheetah-v5 \
  --frames 6000 --every 2 --seed 2 --policy expert --out data/standard --name standard "${size[@]}"
# held-out states for `style-wrap eval --states data/eval-restyled`
[ -f data/eval-restyled/manifest.json ] || style-wrap collect --env StyleWrap/HalfCheetahRestyled-v5 \
  --frames 1000 --every 2 --seed 9 --policy expert --out data/eval-restyled --name restyled "${size[@]}"

# 4. Translator restyled -> standard (and back): stage 1, 20k iterations.
train() {  # train CONFIG RUN_NAME: start, or resume after an interruption
  if [ -f "runs/$2/generator_a2b.safetensors" ]; then return; fi
  if [ -f "runs/$2/checkpoints/latest.pt" ]; then
    style-wrap train --config "$1" --resume
  else
    style-wrap train --config "$1"
  fi
}
train "$here/translator.toml" restyled-to-standard

# 5. Stage 2: more frames on the floor (episodes cut at 150 steps: the cheetah is still on
#    gymnasium's 40 m floor), appended to copies of the stage-1 data; warm start, pose weight 5.
for d in restyled standard; do
  if [ ! -f "data/$d-floor/manifest.json" ]; then
    rm -rf "data/$d-floor" && cp -r "data/$d" "data/$d-floor"
    env=StyleWrap/HalfCheetah-v5; seed=12
    if [ "$d" = restyled ]; then env=StyleWrap/HalfCheetahRestyled-v5; seed=11; fi
    style-wrap collect --env "$env" --frames 2000 --seed "$seed" --policy expert \
      --out "data/$d-floor" --name "$d" "${size[@]}" --env-kwarg max_episode_steps=150
  fi
done
train "$here/finetune.toml" restyled-to-standard-ft

# 6. Stage 3: frames of the floor only (3000 per domain, new seeds), warm start from stage 2.
for d in restyled standard; do
  env=StyleWrap/HalfCheetah-v5; seed=22
  if [ "$d" = restyled ]; then env=StyleWrap/HalfCheetahRestyled-v5; seed=21; fi
  [ -f "data/$d-onfloor/manifest.json" ] || style-wrap collect --env "$env" --frames 3000 \
    --seed "$seed" --policy expert --out "data/$d-onfloor" --name "$d" "${size[@]}" \
    --env-kwarg max_episode_steps=150
done
train "$here/finetune2.toml" restyled-to-standard-ft2
wait "$distill"

# 7. The shipped names.
mkdir -p shipped
cp runs/restyled-to-standard-ft2/generator_a2b.safetensors shipped/halfcheetah-restyled-to-standard-round10.safetensors
cp runs/restyled-to-standard-ft2/generator_b2a.safetensors shipped/halfcheetah-standard-to-restyled-round10.safetensors
cp dagger/best.zip shipped/halfcheetah-pixel-policy-round10.safetensors
style-wrap demo --policy shipped/halfcheetah-pixel-policy-round10.safetensors \
  --weights shipped/halfcheetah-restyled-to-standard-round10.safetensors --episodes 5 --json shipped/demo.json
