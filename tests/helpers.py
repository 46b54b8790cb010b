"""Small synthetic domains made inside the tests: the same shapes in two colour schemes."""

from __future__ import annotations

import numpy as np

from style_wrap.train.data import save_frames

SCHEMES = {
    "A": ((200, 40, 40), (30, 30, 160)),  # red shapes on blue
    "B": ((40, 200, 40), (230, 220, 60)),  # green shapes on yellow
}


def shapes_and_poses(n: int, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of random rectangles, ``(n, size, size)``, and each one's "qpos"
    ``(0, y, x, h, w)`` (a first entry that, like the cheetah's x, a frame does not show)."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), bool)
    poses = np.zeros((n, 5))
    for m, pose in zip(masks, poses):
        y, x = rng.integers(0, size - 4, 2)
        h, w = rng.integers(3, size // 2, 2)
        m[y : y + h, x : x + w] = True
        pose[1:] = y, x, h, w
    return masks, poses


def shapes(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    """Boolean masks of random rectangles, ``(n, size, size)``."""
    return shapes_and_poses(n, size, seed)[0]


def paint(masks: np.ndarray, scheme: str) -> np.ndarray:
    """Frames (uint8 NHWC) drawing ``masks`` in a domain's colours."""
    fg, bg = (np.array(c, np.uint8) for c in SCHEMES[scheme])
    return np.where(masks[..., None], fg, bg).astype(np.uint8)


def make_domains(root, n: int = 64, size: int = 16, state: bool = False) -> tuple[str, str]:
    """Two unpaired dataset folders (different shapes in each) under ``root``; with ``state``,
    each frame's rectangle is stored as its qpos."""
    a, b = str(root / "A"), str(root / "B")
    for folder, scheme, seed in ((a, "A", 1), (b, "B", 2)):
        masks, poses = shapes_and_poses(n, size, seed)
        extra = {"qpos": poses, "qvel": np.zeros_like(poses)} if state else {}
        save_frames(folder, paint(masks, scheme), name=scheme, **extra)
    return a, b
