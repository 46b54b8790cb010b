#!/usr/bin/env bash
# The drifted gaits of the restyled look and the encoder refits on them (issue 18, twenty-second
# session), from a work folder holding expert3/ (research/zoo/expert3) and the pose.sh data of
# `pose.sh restyled 80` and `pose.sh restyled 80 long`; resumable (a collected folder is kept,
# fit-pose resumes its run folder).
#   research/recipes/drift.sh collect     the twenty-first session's 8000 frames and five drifted sets of 5000 (6 min)
#   research/recipes/drift.sh collect2    five more, other drifts and seeds
#   research/recipes/drift.sh warm        the shipped encoder refitted warm on all of them (30 min)
#   research/recipes/drift.sh scratch     an encoder fitted from scratch on the same (45 min)
# An encoder is judged offline on the zoo's loops: research/loop_reads.py.
set -euo pipefail
export OMP_NUM_THREADS=1 MUJOCO_GL=egl
F="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../pose_envs.py:scrambled"
size=(--env-kwarg width=64 --env-kwarg height=64)
collect() {  # DRIFT STEPS SEED [OUT FRAMES]
  out=${4:-data/drift$1-$2-s$3-restyled}
  [ -f $out/manifest.json ] && return 0
  style-wrap collect --env $F --env-kwarg look=restyled --env-kwarg action_drift=$1 \
    --env-kwarg drift_steps=$2 --frames ${5:-5000} --total --max-episode-steps 400 --seed $3 \
    --policy expert3 --out $out --name restyled "${size[@]}"
}
first=(data/drift-restyled data/drift0.3-10-s521-restyled data/drift0.5-20-s531-restyled
  data/drift0.8-20-s541-restyled data/drift0.5-10-s551-restyled data/drift0.65-40-s561-restyled)
base=(data/tr-restyled data/rnd-restyled data/noisy-restyled data/scr-restyled
  data/long-restyled data/longnoisy-restyled)
fit=(--target data/tr-standard --renderer-width 16 --threads 1)
case ${1:-} in
  collect) collect 0.5 10 511 data/drift-restyled 8000
    for s in "0.3 10 521" "0.5 20 531" "0.8 20 541" "0.5 10 551" "0.65 40 561"; do collect $s; done ;;
  collect2) for s in "0.4 15 571" "0.6 10 581" "0.6 30 591" "0.8 10 601" "1.0 20 611"; do collect $s; done ;;
  warm) style-wrap fit-pose --source "${base[@]}" "${first[@]}" "${fit[@]}" \
      --init halfcheetah-restyled-to-standard-policyfree --renderer-steps 0 \
      --encoder-steps 10000 --encoder-lr 1e-3 --out runs/drift2w ;;
  scratch) style-wrap fit-pose --source "${base[@]}" "${first[@]}" "${fit[@]}" \
      --renderer-steps 1 --encoder-steps 16000 --encoder-lr 1e-3 --out runs/drift2s ;;
  *) echo "usage: drift.sh collect|collect2|warm|scratch" >&2; exit 2 ;;
esac
