#!/usr/bin/env bash
# Off-floor coverage for the pose translator (pc2): full 1000-step episodes of one look, most of
# whose frames lie past the floor's end as the zoo's episodes do. research/recipes/pose_long.sh
# LOOK SEEDBASE (restyled 80, standard 90), from the work folder of pose.sh; resumable.
set -euo pipefail
look=$1; s=$2
export OMP_NUM_THREADS=1 MUJOCO_GL=egl
SW=style-wrap
F="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../pose_envs.py:scrambled"
id=StyleWrap/HalfCheetah-v5; [ $look = restyled ] && id=StyleWrap/HalfCheetahRestyled-v5
size=(--env-kwarg width=64 --env-kwarg height=64)
$SW collect --env $id --frames 10000 --total --max-episode-steps 1000 --seed $((s+41)) --policy expert3 --out data/long-$look --name $look "${size[@]}"
$SW collect --env $F --env-kwarg look=$look --env-kwarg action_noise=0.3 --frames 8000 --total --max-episode-steps 1000 --seed $((s+51)) --policy expert3 --out data/longnoisy-$look --name $look "${size[@]}"
echo done $look
