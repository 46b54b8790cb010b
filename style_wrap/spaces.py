"""Which part of an observation is the image to translate.

Example:
    >>> import numpy as np
    >>> from gymnasium.spaces import Box, Dict
    >>> from style_wrap.spaces import image_key, image_space
    >>> frame = Box(0, 255, (64, 64, 3), np.uint8)
    >>> image_key(frame), image_key(Dict({"pixels": frame, "state": Box(-1, 1, (3,))}))
    (None, 'pixels')
    >>> image_space(Dict({"pixels": frame})).shape
    (64, 64, 3)
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from style_wrap.errors import ObservationError

__all__ = ["image_key", "image_space", "is_image_space"]


def is_image_space(space: gym.Space) -> bool:
    """An HWC uint8 ``Box`` with 3 channels."""
    return (
        isinstance(space, gym.spaces.Box)
        and space.dtype == np.uint8
        and len(space.shape) == 3
        and space.shape[-1] == 3
    )


def image_key(space: gym.Space) -> str | None:
    """``None`` when ``space`` is an HWC uint8 RGB image, ``"pixels"`` for a dict holding one.

    Raises :class:`ObservationError` for any other space.
    """
    if is_image_space(space):
        return None
    if isinstance(space, gym.spaces.Dict) and "pixels" in space.spaces:
        if is_image_space(space["pixels"]):
            return "pixels"
    raise ObservationError(
        f"observation space {space}; expected an HWC uint8 image Box with 3 channels, or a Dict "
        "with such a 'pixels' entry (gymnasium's AddRenderObservation(render_only=False))"
    )


def image_space(space: gym.Space) -> gym.spaces.Box:
    """The image part of an observation space."""
    key = image_key(space)
    return space if key is None else space[key]  # type: ignore[return-value]
