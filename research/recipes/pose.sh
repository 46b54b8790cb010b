#!/usr/bin/env bash
# The pose translator data of one look (pt3): research/recipes/pose.sh LOOK SEEDBASE (restyled 80, standard 90), from a work folder holding expert3/ (research/zoo/expert3); resumable.
# With a third argument `eval`: the held-out states `style-wrap eval` reads (data/eval-LOOK4).
# With a third argument `jitter` (pc5): expert 3 on the floor with the root moved along x before each step (pose_envs.py x_jitter).
# With a third argument `gravity` (pc6): expert 3 under a heavier gravity per episode (pose_envs.py gravity), some with x_jitter.
# With a third argument `long` (pc2): full 1000-step episodes instead, most of whose frames lie past the floor's end as the zoo's episodes do.
set -euo pipefail
look=$1; s=$2; part=${3:-base}
export OMP_NUM_THREADS=1 MUJOCO_GL=egl
SW=style-wrap
F="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../pose_envs.py:scrambled"
id=StyleWrap/HalfCheetah-v5; [ $look = restyled ] && id=StyleWrap/HalfCheetahRestyled-v5
size=(--env-kwarg width=64 --env-kwarg height=64)
if [ "$part" = eval ]; then  # `pose.sh restyled 0 eval`: held-out states of expert 3, every step from the reset, for `style-wrap eval`
$SW collect --env $id --frames 2000 --total --max-episode-steps 1000 --seed $((s+9)) --policy expert3 --out data/eval-${look}4 --name $look "${size[@]}"
exit 0
fi
if [ "$part" = jitter ]; then  # pc5: `pose.sh restyled 80 jitter`: on the floor the root is moved along x before each step, so the gait does not tell the step
$SW collect --env $F --env-kwarg look=$look --env-kwarg "x_jitter=(-0.2, 0.05)" --frames 6000 --total --max-episode-steps 300 --seed $((s+61)) --policy expert3 --out data/jitter-$look --name $look "${size[@]}"
$SW collect --env $F --env-kwarg look=$look --env-kwarg "x_jitter=(-0.2, 0.05)" --env-kwarg action_noise=0.3 --frames 4000 --total --max-episode-steps 300 --seed $((s+71)) --policy expert3 --out data/jitternoisy-$look --name $look "${size[@]}"
echo done $look jitter; exit 0
fi
if [ "$part" = gravity ]; then  # pc6: `pose.sh restyled 80 gravity`: expert 3 under 1.3-2.2x gravity runs low and crouched, as the students do in closed loop
$SW collect --env $F --env-kwarg look=$look --env-kwarg "gravity=(1.3, 2.2)" --frames 6000 --total --max-episode-steps 300 --seed $((s+81)) --policy expert3 --out data/grav-$look --name $look "${size[@]}"
$SW collect --env $F --env-kwarg look=$look --env-kwarg "gravity=(1.3, 2.2)" --env-kwarg "x_jitter=(-0.15, 0.1)" --frames 4000 --total --max-episode-steps 300 --seed $((s+91)) --policy expert3 --out data/gravjitter-$look --name $look "${size[@]}"
echo done $look gravity; exit 0
fi
if [ "$part" = long ]; then
$SW collect --env $id --frames 10000 --total --max-episode-steps 1000 --seed $((s+41)) --policy expert3 --out data/long-$look --name $look "${size[@]}"
$SW collect --env $F --env-kwarg look=$look --env-kwarg action_noise=0.3 --frames 8000 --total --max-episode-steps 1000 --seed $((s+51)) --policy expert3 --out data/longnoisy-$look --name $look "${size[@]}"
echo done $look long; exit 0
fi
$SW collect --env $id --frames 8000 --total --max-episode-steps 400 --seed $((s+1)) --policy expert3 --out data/tr-$look --name $look "${size[@]}"
$SW collect --env $id --frames 4000 --total --max-episode-steps 200 --seed $((s+11)) --policy random --out data/rnd-$look --name $look "${size[@]}"
$SW collect --env $F --env-kwarg look=$look --env-kwarg action_noise=0.5 --frames 6000 --total --max-episode-steps 300 --seed $((s+21)) --policy expert3 --out data/noisy-$look --name $look "${size[@]}"
$SW collect --env $F --env-kwarg look=$look --env-kwarg action_noise=0.3 --env-kwarg scramble=1.0 --skip-steps 20 --frames 6000 --total --max-episode-steps 120 --seed $((s+31)) --policy expert3 --out data/scr-$look --name $look "${size[@]}"
echo done $look
