"""Any physics state drawn in any look: frames, body and floor masks, and seeded rollouts.

The paired ground truth of evaluation: the simulator draws one state in both looks, so a
translated frame has a true frame to be compared with.

Example:
    >>> import numpy as np
    >>> render_state("restyled", np.zeros(9), width=32, height=32).shape
    (32, 32, 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mujoco
import numpy as np

from style_wrap.envs.cheetah import CheetahPixelEnv, FrameRenderer, _check_size, set_state
from style_wrap.envs.mjcf import compile_model
from style_wrap.envs.styles import Style, resolve_style

__all__ = ["body_mask", "floor_mask", "is_upside_down", "render_state", "rollout_states"]


class _StateRenderer:
    def __init__(self, style: Style, width: int, height: int, profile: str, physical: bool):
        self.model = compile_model(style, physical=physical, profile=profile)
        self.data = mujoco.MjData(self.model)
        self.frames = FrameRenderer(self.model, width, height)


_state_renderers: dict[tuple[Any, ...], _StateRenderer] = {}


def _state_renderer(
    style: Any, seed: int | None, width: int, height: int, profile: str, physical: bool
) -> _StateRenderer:
    resolved = resolve_style(style, seed)
    key = (
        resolved,
        _check_size("width", width),
        _check_size("height", height),
        profile,
        bool(physical),
    )
    renderer = _state_renderers.get(key)
    if renderer is None:
        renderer = _state_renderers[key] = _StateRenderer(
            resolved, width, height, profile, physical
        )
    return renderer


def render_state(
    style: str | Style | Mapping[str, Any],
    qpos: Any,
    qvel: Any = None,
    *,
    style_seed: int | None = None,
    width: int = 64,
    height: int = 64,
    render_profile: str = "fast",
    physical_geometry: bool = False,
) -> np.ndarray:
    """Draw one physics state of the cheetah in any domain, as its pixel env would.

    The model and GL context of each (style, size, profile) are built once and reused.

    Example:
        >>> import numpy as np
        >>> qpos = np.zeros(9)
        >>> a, b = render_state("standard", qpos), render_state("restyled", qpos)
        >>> a.shape, bool(np.abs(a.astype(int) - b).mean() > 10)
        ((64, 64, 3), True)

    Args:
        style: A domain name, a ``Style``, or a dict of style fields.
        qpos: Joint positions, shape ``(9,)`` (rootx first).
        qvel: Joint velocities, shape ``(9,)``; zeros when omitted (they do not change the frame).
        style_seed: The seed of a ``randomized`` style.
        width: Frame width.
        height: Frame height.
        render_profile: ``fast`` or ``stock``.
        physical_geometry: As in :class:`CheetahPixelEnv`.

    Returns:
        An ``(height, width, 3)`` uint8 frame.
    """
    renderer = _state_renderer(style, style_seed, width, height, render_profile, physical_geometry)
    set_state(renderer.model, renderer.data, qpos, qvel)
    return renderer.frames.render(renderer.data)


def body_mask(
    style: str | Style | Mapping[str, Any],
    qpos: Any,
    *,
    style_seed: int | None = None,
    width: int = 64,
    height: int = 64,
    dilate: int = 1,
) -> np.ndarray:
    """Pixels of the cheetah's body in a frame of ``qpos``, from MuJoCo's segmentation rendering.

    Example:
        >>> import numpy as np
        >>> mask = body_mask("standard", np.zeros(9))
        >>> mask.shape, mask.dtype, bool(0.005 < mask.mean() < 0.3)
        ((64, 64), dtype('bool'), True)

    Args:
        style: A domain name, a ``Style``, or a dict of style fields.
        qpos: Joint positions, shape ``(9,)``.
        style_seed: The seed of a ``randomized`` style.
        width: Frame width.
        height: Frame height.
        dilate: Grow the mask by this many pixels (a square neighbourhood), so it covers the
            anti-aliased edge of the body as well.
    """
    return _mask("body", style, qpos, style_seed, width, height, dilate)


def floor_mask(
    style: str | Style | Mapping[str, Any],
    qpos: Any,
    *,
    style_seed: int | None = None,
    width: int = 64,
    height: int = 64,
) -> np.ndarray:
    """Pixels of the floor in a frame of ``qpos`` (none once the cheetah has run past the end of
    gymnasium's 40 m floor), from MuJoCo's segmentation rendering; arguments as :func:`body_mask`.

    Example:
        >>> import numpy as np
        >>> on, off = np.zeros(9), np.zeros(9)
        >>> off[0] = 80.0  # 80 m along: past the floor's end
        >>> bool(floor_mask("standard", on).mean() > 0.2), bool(floor_mask("standard", off).any())
        (True, False)
    """
    return _mask("floor", style, qpos, style_seed, width, height, 0)


def _mask(
    part: str, style: Any, qpos: Any, style_seed: int | None, width: int, height: int, dilate: int
) -> np.ndarray:
    renderer = _state_renderer(style, style_seed, width, height, "fast", False)
    set_state(renderer.model, renderer.data, qpos, None)
    frames = renderer.frames
    mask = frames.body_mask(renderer.data) if part == "body" else frames.floor_mask(renderer.data)
    for _ in range(dilate):
        grown = mask.copy()
        grown[1:] |= mask[:-1]
        grown[:-1] |= mask[1:]
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
        mask = grown
    return mask


def is_upside_down(pitch: Any) -> Any:
    """Whether the cheetah lies on its back, from the root's pitch (``qpos[2]``, as in MuJoCo's
    planar walkers): past 90 degrees. Elementwise for an array of pitches.

    Example:
        >>> bool(is_upside_down(3.0)), is_upside_down(np.array([0.0, -2.0])).tolist()
        (True, [False, True])
    """
    return np.cos(pitch) < 0


def rollout_states(
    n_sequences: int, length: int, *, seed: int = 0, warmup: int = 0, every: int = 1
) -> np.ndarray:
    """``(n_sequences, length, 9)`` qpos from seeded random-action rollouts of the cheetah.

    Sequence ``i`` resets with seed ``seed + i``, skips ``warmup`` steps, then keeps the state
    after every ``every``-th step.

    Example:
        >>> rollout_states(2, 3, seed=1, every=5).shape
        (2, 3, 9)
    """
    env = CheetahPixelEnv("standard", width=8, height=8)
    env.action_space.seed(seed)
    out = np.zeros((n_sequences, length, env.model.nq))
    for i in range(n_sequences):
        env.reset(seed=seed + i)
        for _ in range(warmup):
            env.step(env.action_space.sample())
        for t in range(length):
            for _ in range(every):
                env.step(env.action_space.sample())
            out[i, t] = env.data.qpos
    env.close()
    return out
