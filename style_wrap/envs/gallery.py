"""A picture of the domains side by side: one row per domain, the same poses in every row.

Example:
    >>> from style_wrap.envs.gallery import domain_grid
    >>> domain_grid([("standard", None), ("restyled", None)], poses=2, size=32).shape
    (64, 64, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from style_wrap.envs.states import render_state, rollout_states

__all__ = ["DEFAULT_ROWS", "domain_grid"]

#: Standard, restyled and four randomized cheetahs.
DEFAULT_ROWS: tuple[tuple[str, int | None], ...] = (
    ("standard", None),
    ("restyled", None),
    ("randomized", 1),
    ("randomized", 2),
    ("randomized", 3),
    ("randomized", 4),
)


def domain_grid(
    rows: Sequence[tuple[str, int | None]] = DEFAULT_ROWS,
    *,
    poses: int = 4,
    size: int = 128,
    seed: int = 0,
) -> np.ndarray:
    """An image grid: a row per (domain, style seed), a column per pose of one rollout."""
    qpos = rollout_states(1, poses, seed=seed, every=10)[0]
    return np.concatenate(
        [
            np.concatenate(
                [render_state(d, q, style_seed=s, width=size, height=size) for q in qpos], 1
            )
            for d, s in rows
        ],
        0,
    )
