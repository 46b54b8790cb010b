"""Milliseconds per frame of the floor lock's search, against the plain-PyTorch way.

:func:`style_wrap.posenet.floor_lock` draws the source look's floor at each candidate x. The
plain way composes a whole frame per candidate (:meth:`CameraRenderer.compose` with the camera
repeated for each); the lock composes each candidate from the body's layers computed once and
the camera's footprints shared by every candidate (:meth:`CameraRenderer.over`). This times both
on the same recorded restyled frames, interleaved round by round on one thread, checks that
they pick the same x, and prints the median of each and their ratio.

Run: ``python benchmarks/floor_lock.py WEIGHTS DATA [--frames 100] [--rounds 5]``. WEIGHTS: a
pose translator file with a lock (``research/pose_translator.py add-lock``); DATA: a
``style-wrap collect`` folder of the source look with ``qpos`` (the true pose stands in for the
encoder's, the true x plus 7 cm for its guess).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from style_wrap.posenet import LOCK_SEARCH, CameraRenderer, floor_lock
from style_wrap.train.data import load_frames
from style_wrap.train.posefit import pose_vector
from style_wrap.weights import load_generator


def plain_lock(
    source: CameraRenderer, pose: torch.Tensor, x: torch.Tensor, guess: torch.Tensor
) -> torch.Tensor:
    """The same search, each candidate's whole frame composed on its own."""
    out = guess.clone().float()
    with torch.no_grad():
        ends, cam_x, cam_z = source.geometry(pose)
        paint = source.body_paint(ends, cam_x, cam_z)
        for i in range(len(x)):
            best = float(guess[i])
            for n_search, (half, n) in enumerate(LOCK_SEARCH):
                cands = torch.linspace(best - half, best + half, n)
                frames = source.compose(
                    paint[i : i + 1], cands, cam_x[i].expand(n), cam_z[i].expand(n)
                )
                err = (frames - x[i : i + 1]).abs().mean((1, 2, 3))
                if n_search == 0 and float(err.max() - err.min()) < 1e-3:
                    break
                best = float(cands[int(err.argmin())])
            out[i] = best
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights")
    parser.add_argument("data")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = load_generator(args.weights)[0].float().eval()
    if getattr(net, "lock", None) is None:
        raise SystemExit(f"{args.weights} has no floor lock")
    data = load_frames(args.data)
    if data.qpos is None:
        raise SystemExit(f"{args.data} has no qpos")
    n = min(args.frames, len(data))
    x = torch.from_numpy(data.frames[:n]).permute(0, 3, 1, 2).float() / 127.5 - 1
    pose = torch.from_numpy(pose_vector(data.qpos[:n]))
    guess = torch.from_numpy(data.qpos[:n, 0]).float() + 0.07

    def per_frame(lock) -> tuple[float, torch.Tensor]:
        start = time.perf_counter()
        got = torch.cat(
            [lock(net.lock, pose[i : i + 1], x[i : i + 1], guess[i : i + 1]) for i in range(n)]
        )
        return (time.perf_counter() - start) / n * 1000, got

    plain, shared = [], []
    for _ in range(args.rounds):
        ms, a = per_frame(plain_lock)
        plain.append(ms)
        ms, b = per_frame(floor_lock)
        shared.append(ms)
        if not torch.equal(a, b):
            raise SystemExit(f"the two searches differ: max {float((a - b).abs().max())} m")
    ratios = [p / s for p, s in zip(plain, shared)]
    print(
        f"{n} frames, {args.rounds} rounds, one thread: plain {statistics.median(plain):.2f} ms,"
        f" shared {statistics.median(shared):.2f} ms a frame; plain / shared per round"
        f" {min(ratios):.2f}-{max(ratios):.2f}, median {statistics.median(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
