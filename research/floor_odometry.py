"""The root's x step read from the floor's motion, instead of from the encoder's head.

The pose encoder's x step is fitted on one expert's gait and leans on it: on the gaits of the
zoo's policies it undershoots (the shipped policy's: 21 % on the floor). The floor itself tells
the camera's step: each image row of the ground slides by its slope (pixels per metre, fixed by
the camera: ``style_wrap.train.flow.fit_row_motion``) times the step, so the step is the shift
that best carries one frame onto the next. The source look's checker repeats every
``period`` metres, so the search is a window narrower than one period around the encoder's
guess. The camera follows the centre of mass, so the root's step is the camera's minus the change
of the camera's offset from the root, which a least-squares fit on the pose gives. Where no floor
shows (past its end), the error does not depend on the shift, and the encoder's step stands.

    PYTHONPATH=research python research/floor_odometry.py fit --a data/tr-restyled \
        --out research/pose/odometry-restyled.json
    PYTHONPATH=research python research/floor_odometry.py check \
        research/pose/odometry-restyled.json --data data/eval-restyled4
    PYTHONPATH=research python research/floor_odometry.py gaits \
        research/pose/odometry-restyled.json --policies POLICY ... --encoder research/pose/pc2

``gaits`` is a diagnostic: each policy runs a clean standard episode, its states are drawn in the
restyled look (for judging only), and the encoder's and the floor's steps are compared with the
truth on the floor.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from pose_translator import consecutive, load, look_geometry, pose9, to_model

from style_wrap.floor import warp_rows
from style_wrap.train.flow import fit_row_motion

ENV = "StyleWrap/HalfCheetahRestyled-v5"


def offset_features(pose: np.ndarray) -> np.ndarray:
    """Features of a pose (``pose9``) the camera's offset is fitted on: it, the joints' sines and
    cosines, and 1."""
    joints = pose[:, 3:]
    return np.concatenate([pose, np.sin(joints), np.cos(joints), np.ones((len(pose), 1))], 1)


class FloorOdometry:
    def __init__(
        self,
        path: str,
        window: float = 0.24,
        resolution: float = 0.01,
        depth: float = 0.04,
        min_pixels: float = 8.0,
        still: float = 0.05,
        min_votes: int = 6,
    ):
        d = json.loads(Path(path).read_text())
        self.slopes = torch.tensor(d["slopes"])
        self.coef = np.array(d["offset_coef"], np.float32)
        self.window, self.resolution, self.depth, self.still = window, resolution, depth, still
        self.min_votes = min_votes
        # Only rows where one checker period spans at least `min_pixels`: the far rows, where
        # the checker blurs to grey, are ruled by the body, which the camera keeps still.
        self.rows = self.slopes.abs() * d["period"] >= min_pixels

    def offset(self, pose: np.ndarray) -> float:
        return float((offset_features(np.asarray(pose, np.float32)[None]) @ self.coef)[0])

    def camera_step(self, before: torch.Tensor, after: torch.Tensor, guess: float) -> float | None:
        """The camera's x step between two (1, C, H, W) frames in model units, searched around
        ``guess``; None where the floor does not show (a flat error curve)."""
        half = round(self.window / self.resolution)
        steps = guess + self.resolution * torch.arange(-half, half + 1, dtype=torch.float32)
        n = len(steps)
        moved, valid = warp_rows(
            before.expand(n, -1, -1, -1), self.slopes.view(1, -1) * steps.view(-1, 1)
        )
        # Each patch of a row (16 columns) votes for its best step; the median of the votes
        # that have a clear minimum is the answer, so patches the body fills (it stays still
        # in the image while the floor slides) are outvoted.
        err = (moved - after).abs().mean(1)  # (n, H, W)
        rows = torch.nonzero(self.rows).flatten()
        w = err.shape[-1] // 16 * 16
        inside = valid[:, 0][:, rows, :w].reshape(n, len(rows), -1, 16).all(-1).all(0)
        patch = err[:, rows, :w].reshape(n, len(rows), -1, 16).mean(-1)  # (n, rows, patches)
        best = patch.argmin(0)
        clear = (patch.mean(0) - patch.amin(0) > self.depth) & inside & (best > 0) & (best < n - 1)
        if int(clear.sum()) < self.min_votes:
            return None
        return float(steps[best[clear]].median())

    def root_step(
        self, before, after, pose_before, pose_after, encoder_step: float
    ) -> tuple[float, bool]:
        d_off = self.offset(pose_after) - self.offset(pose_before)
        cam = self.camera_step(before, after, encoder_step + d_off)
        if cam is None:
            return encoder_step, False
        return cam - d_off, True


def fit(args) -> None:
    torch.set_num_threads(1)
    frames, qpos, steps = load(args.a)
    offset, _ = look_geometry(ENV, qpos)
    pose = pose9(qpos)
    coef, *_ = np.linalg.lstsq(offset_features(pose), offset, rcond=None)
    resid = offset - offset_features(pose) @ coef
    print(f"offset std {offset.std():.4f} m, residual {resid.std():.4f} m")
    after = consecutive(steps)
    on = after[np.abs(qpos[after, 0]) < 30][:400]
    cam = qpos[:, 0] + offset
    x = to_model(frames)
    slopes = fit_row_motion(
        torch.stack([x[on - 1], x[on]], 1),
        torch.from_numpy((cam[on] - cam[on - 1]).astype(np.float32)),
    )
    print("slopes", [round(float(s), 2) for s in slopes])
    Path(args.out).write_text(
        json.dumps(
            {
                "env": ENV,
                "data": args.a,
                "slopes": slopes.tolist(),
                "offset_coef": coef.tolist(),
                "period": args.period,
            },
            indent=1,
        )
    )


def _readers(args) -> tuple[FloorOdometry, torch.nn.Module]:
    """The odometry and the encoder (fp32, eval) that ``args`` name; one thread."""
    from safetensors.torch import load_file

    from style_wrap.posenet import PoseEncoder

    torch.set_num_threads(1)
    enc = PoseEncoder()
    enc.load_state_dict(load_file(str(Path(args.encoder) / "encoder.safetensors")))
    return FloorOdometry(args.odometry), enc.float().eval()


@torch.no_grad()
def _steps(odo: FloorOdometry, enc, x: torch.Tensor, after, first_pose: np.ndarray):
    """Along the pairs ``(i - 1, i)`` for ``i`` in ``after``: the encoder's x steps, the floor's
    (the encoder's where no floor shows) and whether the floor's was used; the pose before each
    pair is the encoder's estimate of the pair before (``first_pose`` for the first)."""
    est_e, est_f, used, before = [], [], [], first_pose
    for i in after:
        got = enc(x[i - 1 : i], x[i : i + 1])[0].numpy()
        step, u = odo.root_step(x[i - 1 : i], x[i : i + 1], before, got[:9], float(got[9]))
        before = got[:9]
        est_e.append(got[9])
        est_f.append(step)
        used.append(u)
    return np.array(est_e), np.array(est_f), np.array(used)


def check(args) -> None:
    odo, enc = _readers(args)
    frames, qpos, steps = load(args.data)
    after = consecutive(steps)[: args.limit]
    est_e, est_f, used = _steps(odo, enc, to_model(frames), after, pose9(qpos[after[:1] - 1])[0])
    true, xs = qpos[after, 0] - qpos[after - 1, 0], qpos[after, 0]
    for name, m in (("on", np.abs(xs) < 38), ("off", np.abs(xs) > 42)):
        if m.sum() < 5:
            continue
        for label, est in (("encoder", est_e), ("floor", est_f)):
            ratio = est[m].sum() / true[m].sum()
            mae = np.abs(est[m] - true[m]).mean()
            print(f"{name} {int(m.sum())} {label}: ratio {ratio:.3f} mae {mae:.4f}", end="")
            print(f"  floor used {used[m].mean():.2f}")


def gaits(args) -> None:
    import gymnasium as gym

    from style_wrap.envs import render_state
    from style_wrap.rl.policies import FrameStacker, frames_stacked, load_policy

    odo, enc = _readers(args)
    out = {}
    for name in args.policies:
        policy = load_policy(name, device="cpu")
        env = gym.make("StyleWrap/HalfCheetah-v5", width=64, height=64)
        obs, _ = env.reset(seed=args.seed)
        stacker = FrameStacker(frames_stacked(policy, 3), obs.shape)
        stack, qs = stacker.reset(obs), [env.unwrapped.data.qpos.copy()]
        for _ in range(args.steps):
            action, _ = policy.predict(stack, deterministic=True)
            obs, *_ = env.step(action)
            stack = stacker.push(obs)
            qs.append(env.unwrapped.data.qpos.copy())
        env.close()
        qs = np.array(qs)
        x = to_model(np.stack([render_state("restyled", q, width=64, height=64) for q in qs]))
        est_e, est_f, _ = _steps(odo, enc, x, range(1, len(qs)), pose9(qs[:1])[0])
        true, on = np.diff(qs[:, 0]), np.abs(qs[1:, 0]) < 38
        row = {"frames_on_floor": int(on.sum())}
        for label, est in (("encoder", est_e), ("floor", est_f)):
            row[f"{label}_ratio"] = float(est[on].sum() / true[on].sum())
            row[f"{label}_mae"] = float(np.abs(est[on] - true[on]).mean())
        out[name] = row
        print(name, {k: round(v, 4) for k, v in row.items()}, flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"encoder": args.encoder, "members": out}, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("--a", nargs="+", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--period", type=float, default=80 / 150, help="the look's checker period, m")
    c = sub.add_parser("check")
    c.add_argument("odometry")
    c.add_argument("--data", nargs="+", required=True)
    c.add_argument("--encoder", default="research/pose/pc2")
    c.add_argument("--limit", type=int, default=600)
    g = sub.add_parser("gaits")
    g.add_argument("odometry")
    g.add_argument("--policies", nargs="+", required=True)
    g.add_argument("--encoder", default="research/pose/pc2")
    g.add_argument("--seed", type=int, default=701)
    g.add_argument("--steps", type=int, default=300)
    g.add_argument("--out", default="")
    args = p.parse_args()
    {"fit": fit, "check": check, "gaits": gaits}[args.cmd](args)


if __name__ == "__main__":
    main()
