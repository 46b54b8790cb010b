"""How well pose encoders read a closed loop's states, offline and in seconds.

A closed-loop run (`pose_translator.py probe --trace`) takes minutes and mixes the encoder's
error with the policy's chaos. This script draws the states of a recorded trace again in the
source look (``render_state``, the env's own frames: no policy, nothing learned), pairs each
frame with the one before it as the wrapper does (an episode's first frame with itself), and
prints, for each weights file, the encoder's mean absolute joint error per joint, its height
and pitch error, and how it falls on and off the floor. The frames are cached next to the trace
(``--cache``), so scoring a new encoder takes a few seconds. A loop's states are a zoo member's:
they judge an encoder, never train one.

    python research/loop_reads.py research/zoo/eval/decompose/trace-shipped.npy \
        halfcheetah-restyled-to-standard-policyfree runs/drift1/translator.safetensors

The first file's reads are also checked against the trace's own (the encoder the loop ran with):
their agreement says the frames drawn again are the frames the loop saw.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from style_wrap.envs import render_state
from style_wrap.weights import load_generator

JOINTS = ("bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot")


def episode_starts(qpos: np.ndarray) -> np.ndarray:
    """Rows where an episode starts: the first, and each where the root's x falls back by
    more than a metre (a reset)."""
    return np.concatenate([[0], np.nonzero(np.diff(qpos[:, 0]) < -1.0)[0] + 1])


def loop_frames(qpos: np.ndarray, look: str) -> np.ndarray:
    """Every state drawn in ``look`` (uint8, ``(N, 64, 64, 3)``)."""
    return np.stack([render_state(look, q, width=64, height=64) for q in qpos.astype(np.float64)])


@torch.no_grad()
def reads(weights: str, frames: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The encoder's read of every frame with the one before it (``(N, 10)``)."""
    enc = load_generator(weights)[0].encoder.float().eval()
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1
    before = np.arange(len(frames)) - 1
    before[starts] = starts  # an episode's first frame is read with itself
    out = [enc(x[before[j]], x[j]) for j in torch.arange(len(frames)).split(256)]
    return torch.cat(out).numpy()


def scores(got: np.ndarray, qpos: np.ndarray, starts: np.ndarray) -> dict[str, float]:
    err = np.abs(got[:, 3:9] - qpos[:, 3:9])
    on = np.abs(qpos[:, 0]) < 38
    pitch = np.arctan2(got[:, 1], got[:, 2])
    later = np.setdiff1d(np.arange(1, len(qpos)), starts)  # frames with one before them
    step = qpos[later, 0] - qpos[later - 1, 0]
    near = later[(qpos[later, 0] > 30) & (qpos[later, 0] < 60)]  # the floor's end, 38 m
    return {
        "joints": float(err.mean()),
        **{n: float(e) for n, e in zip(JOINTS, err.mean(0))},
        "height": float(np.abs(got[:, 0] - qpos[:, 1]).mean()),
        "pitch": float(np.abs(np.angle(np.exp(1j * (pitch - qpos[:, 2])))).mean()),
        "joints_on_floor": float(err[on].mean()) if on.any() else float("nan"),
        "joints_off_floor": float(err[~on].mean()) if (~on).any() else float("nan"),
        # the x step: its mean absolute error, and the read steps' sum over the true ones',
        # on the floor, off it, and from 8 m before its end to 22 m after
        "step": float(np.abs(got[later, 9] - step).mean()),
        **{
            f"step_ratio_{name}": float(
                got[rows, 9].sum() / (qpos[rows, 0] - qpos[rows - 1, 0]).sum()
            )
            if len(rows)
            else float("nan")
            for name, rows in (
                ("on_floor", later[on[later]]),
                ("off_floor", later[~on[later]]),
                ("floor_end", near),
            )
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("trace", help="a .npy of pose_translator.py probe --trace")
    p.add_argument("weights", nargs="+", help="pose translator files (or shipped names)")
    p.add_argument("--look", default="restyled", help="the source look to draw the states in")
    p.add_argument("--cache", default="", help="the drawn frames' .npz (default: beside trace)")
    p.add_argument("--json", default="", help="write the scores here")
    args = p.parse_args()
    torch.set_num_threads(1)
    t = np.load(args.trace)
    qpos, loop_read = t[:, :9].astype(np.float64), t[:, 9:]
    cache = Path(args.cache or Path(args.trace).with_suffix(f".{args.look}.npz"))
    if cache.is_file():
        frames = np.load(cache)["frames"]
    else:
        frames = loop_frames(qpos, args.look)
        tmp = cache.with_name(cache.name + ".tmp.npz")
        np.savez(tmp, frames=frames)
        tmp.replace(cache)
    starts = episode_starts(qpos)
    print(f"{len(qpos)} frames, {len(starts)} episodes; the loop's own reads:", end=" ")
    print(f"joints {scores(loop_read, qpos, starts)['joints']:.4f}")
    out = {}
    for i, w in enumerate(args.weights):
        got = reads(w, frames, starts)
        s = scores(got, qpos, starts)
        if i == 0:
            s["agreement_with_trace"] = float(np.abs(got[:, 3:9] - loop_read[:, 3:9]).mean())
        out[w] = s
        print(w, json.dumps({k: round(v, 4) for k, v in s.items()}))
    if args.json:
        Path(args.json).write_text(json.dumps({"trace": args.trace, "scores": out}, indent=1))


if __name__ == "__main__":
    main()
