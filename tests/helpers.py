"""Small synthetic domains made inside the tests: the same shapes in two colour schemes."""

from __future__ import annotations

import numpy as np

from style_wrap.data import save_frames

SCHEMES = {
    "A": ((200, 40, 40), (30, 30, 160)),  # red shapes on blue
    "B": ((40, 200, 40), (230, 220, 60)),  # green shapes on yellow
}


def shapes(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    """Boolean masks of random rectangles, ``(n, size, size)``."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), bool)
    for m in masks:
        y, x = rng.integers(0, size - 4, 2)
        h, w = rng.integers(3, size // 2, 2)
        m[y : y + h, x : x + w] = True
    return masks


def paint(masks: np.ndarray, scheme: str) -> np.ndarray:
    """Frames (uint8 NHWC) drawing ``masks`` in a domain's colours."""
    fg, bg = (np.array(c, np.uint8) for c in SCHEMES[scheme])
    return np.where(masks[..., None], fg, bg).astype(np.uint8)


def make_domains(root, n: int = 64, size: int = 16) -> tuple[str, str]:
    """Two unpaired dataset folders (different shapes in each) under ``root``."""
    a, b = str(root / "A"), str(root / "B")
    save_frames(a, paint(shapes(n, size, seed=1), "A"), name="A")
    save_frames(b, paint(shapes(n, size, seed=2), "B"), name="B")
    return a, b
