"""Can a pose regressor read the checker floor's phase? (the premise of --floor-period-a/-b)

Renders 1200 random-pose frames of each look at x uniform in [-5, 60] m, fits the pose regressor
on 900 (targets with the look's checker period, 80 / checker_repeat), and prints the phase error
on the 300 others. About 13 minutes on one core.

Run: ``OMP_NUM_THREADS=1 python research/floor_phase_probe.py``.
"""

from __future__ import annotations

import numpy as np
import torch

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap.envs import render_state, rollout_states
from style_wrap.nets import to_model_input
from style_wrap.train.pose import fit_pose_regressor, pose_targets


def main() -> None:
    torch.set_num_threads(1)
    q = rollout_states(40, 30, seed=0, warmup=20).reshape(-1, 9)
    q[:, 0] = np.random.default_rng(0).uniform(-5, 60, len(q))
    for look, period in (("standard", 80 / 60), ("restyled", 80 / 150)):
        frames = np.stack([render_state(look, s, width=64, height=64) for s in q])
        y = pose_targets(q, period)
        n = 900
        net = fit_pose_regressor(
            to_model_input(torch.from_numpy(frames[:n])), torch.from_numpy(y[:n]), steps=2000
        )
        with torch.no_grad():
            p = net.predict(to_model_input(torch.from_numpy(frames[n:]))).numpy()
        mae = np.abs(p[:, -2:] - y[n:, -2:]).mean(0)
        base = np.abs(y[n:, -2:] - y[:n, -2:].mean(0)).mean(0)
        on = np.abs(q[n:, 0]) <= 40
        d = np.arctan2(p[on, -2], p[on, -1]) - np.arctan2(y[n:][on, -2], y[n:][on, -1])
        phase = np.degrees(np.median(np.abs(np.angle(np.exp(1j * d)))))
        print(
            f"{look}: sin/cos MAE {mae.round(3)} (the mean: {base.round(3)}), "
            f"median phase error on the floor {phase:.1f} deg"
        )


if __name__ == "__main__":
    main()
