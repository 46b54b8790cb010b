"""Where a closed loop's states lie against recorded ones, and how well the encoder reads them.

Reads a trace of `pose_translator.py probe --trace` (per frame the true qpos, then the encoder's
read) and prints the encoder's mean absolute error per joint, by the root's height and on and
off the floor; then, for each recorded folder given (with ``qpos``), its mean height and the
distance from the loop's states (height, pitch, joints; every 5th frame) to their nearest
neighbour in the folder:

    python research/loop_states.py research/zoo/eval/decompose/trace-shipped.npy \
        data/eval-restyled4 data/g-noisy-restyled
"""

from __future__ import annotations

import argparse

import numpy as np

from style_wrap.train.data import load_frames

JOINTS = ("bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot")


def nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each row of ``a``'s Euclidean distance to its nearest row of ``b``."""
    return np.stack([np.sqrt(((b - row) ** 2).sum(1)).min() for row in a])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("trace")
    p.add_argument("folders", nargs="*")
    args = p.parse_args()
    t = np.load(args.trace)
    q, got = t[:, :9], t[:, 9:]
    err = np.abs(got[:, 3:9] - q[:, 3:9])
    print("joint errors (rad):", {n: round(float(e), 4) for n, e in zip(JOINTS, err.mean(0))})
    print(f"all {err.mean():.4f}; loop height {q[:, 1].mean():.3f} +- {q[:, 1].std():.3f} m")
    on = np.abs(q[:, 0]) < 38
    print(f"on the floor ({on.mean():.2f} of frames) {err[on].mean():.4f}", end=", ")
    print(f"off {err[~on].mean():.4f}")
    for lo, hi in ((-1, -0.2), (-0.2, -0.1), (-0.1, 0), (0, 1)):
        m = (q[:, 1] >= lo) & (q[:, 1] < hi)
        if m.any():
            print(f"height in [{lo}, {hi}): {m.sum()} frames, joint error {err[m].mean():.4f}")
    loop = q[::5, 1:9]
    for folder in args.folders:
        states = load_frames(folder).qpos[:, 1:9]
        d = nearest(loop, states)
        print(
            f"{folder}: height {states[:, 0].mean():.3f} m; loop to nearest state median "
            f"{np.median(d):.3f}, 90th percentile {np.percentile(d, 90):.3f}"
        )


if __name__ == "__main__":
    main()
