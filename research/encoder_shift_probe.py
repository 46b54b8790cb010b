"""Whether averaging the pose encoder over shifted copies of its frame pair lowers its error.

Each consecutive pair of a recorded folder (with ``qpos``) is read as it is and shifted left or
right by a pixel or two (edges replicated); the mean absolute error of height, pitch (sin and
cos), joints and the root's x step is printed for one read and for the mean of 3 and of 5. It
also prints how the one read's joint errors correlate from frame to frame, and how far a
constant-velocity guess from the two frames before misses the true joints (what a causal
smoothing of the reads would have to beat).

    python research/encoder_shift_probe.py halfcheetah-restyled-to-standard-policyfree \
        data/eval-restyled4
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.nn import functional

from style_wrap.posenet import POSE_SIZE
from style_wrap.train.data import load_frames
from style_wrap.train.posefit import pose_vector
from style_wrap.weights import load_generator


def shifted(x: torch.Tensor, s: int) -> torch.Tensor:
    """``x`` moved ``s`` pixels right (left if negative), the edge column repeated."""
    if s == 0:
        return x
    pad = functional.pad(x, (max(s, 0), max(-s, 0), 0, 0), mode="replicate")
    return pad[..., max(-s, 0) : max(-s, 0) + x.shape[-1]] if s < 0 else pad[..., : x.shape[-1]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("weights")
    p.add_argument("data")
    args = p.parse_args()
    torch.set_num_threads(1)
    enc = load_generator(args.weights)[0].encoder
    d = load_frames(args.data)
    frames = torch.from_numpy(d.frames).permute(0, 3, 1, 2).float() / 127.5 - 1
    later = np.nonzero(np.asarray(d.steps)[1:] > 0)[0] + 1  # frames with one before them
    i = torch.from_numpy(later)
    pose = torch.from_numpy(pose_vector(d.qpos))[i]
    step = torch.from_numpy(d.qpos[later, 0] - d.qpos[later - 1, 0]).float()
    reads = {}
    with torch.no_grad():
        for s in (-2, -1, 0, 1, 2):
            reads[s] = torch.cat(
                [enc(shifted(frames[j - 1], s), shifted(frames[j], s)) for j in torch.split(i, 256)]
            )
    # Could a causal filter smooth the reads? Their errors from one frame to the next, against
    # how far a constant-velocity guess from the two frames before misses the true joints.
    e = (reads[0][:, 3:POSE_SIZE] - pose[:, 3:]).numpy()
    same = np.asarray(d.steps)[later[1:]] > 0
    lag = float((e[1:][same] * e[:-1][same]).mean() / (e * e).mean())
    q, steps = d.qpos[:, 3:9], np.asarray(d.steps)
    third = np.nonzero(steps >= 2)[0]
    guess = np.abs(q[third] - (2 * q[third - 1] - q[third - 2])).mean()
    print(f"joints' read errors, lag-one correlation {lag:.2f}; a constant-velocity guess "
          f"misses the joints by {guess:.3f} rad")  # fmt: skip
    for name, got in (
        ("one read", reads[0]),
        ("mean of 3 (shifts -1..1)", sum(reads[s] for s in (-1, 0, 1)) / 3),
        ("mean of 5 (shifts -2..2)", sum(reads.values()) / 5),
    ):
        err = (got[:, :POSE_SIZE] - pose).abs().mean(0)
        print(
            f"{name:26s} height {err[0]:.4f} m, pitch {err[1:3].mean():.4f}, joints "
            f"{err[3:].mean():.4f} rad, x step {(got[:, POSE_SIZE] - step).abs().mean():.4f} m"
        )


if __name__ == "__main__":
    main()
