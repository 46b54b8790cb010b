#!/usr/bin/env bash
# The policy zoo's own members: pixel policies of the standard look from outside the shipped
# distillation (another expert seed; another frame-stack depth; random-shift augmentation only).
# None of them is in any translator's loss: they judge translators. Run from a work folder with
# style_wrap installed:  bash /path/to/research/zoo/recipe.sh
# Every step resumes if interrupted (rerun the script). One core throughout.
set -euo pipefail
export OMP_NUM_THREADS=1 MUJOCO_GL="${MUJOCO_GL:-egl}"

# 1. A state expert of another seed than the shipped students' teacher (seed 2, 400k steps); at
#    400k steps seed 3 scored 756 +- 624, so it trains for 1M (rl-baselines3-zoo's budget).
# The expert is committed (research/zoo/expert3/, 1.7 MB): copy it here instead of retraining.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -f expert3/expert.safetensors ] || { [ -f "$here/expert3/expert.safetensors" ] && cp -r "$here/expert3" .; } || true
[ -f expert3/expert.safetensors ] || style-wrap expert --out expert3 --steps 1000000 --seed 3 --episodes 5

# 2. A student reading 4 stacked frames (the shipped ones read 3), default augmentation.
style-wrap distill --expert expert3 --out stack4 --n-stack 4 --seed 3 --rounds 6 --threads 1

# 3. A student of 3 frames trained with random shifts only (no colour jitter, no noise).
style-wrap distill --expert expert3 --out shiftonly --seed 5 --jitter 0 --shift 4 --rounds 4 --threads 1

# 4. The pickle-free copies that are committed (research/zoo/*.safetensors).
for s in stack4 shiftonly; do
  python -c "from style_wrap.rl.policies import load_policy as l, save_policy_weights as s; s(l('$s/best.zip'), '$s.safetensors')"
done
