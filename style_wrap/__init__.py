"""style_wrap: run a pixel policy in a new visual domain by translating its observations.

A CycleGAN generator, trained on unpaired frames of two domains, turns each observation of the
new domain into the look of the old one inside a gymnasium wrapper, so the old policy runs as is.
Importing the package registers the cheetah pixel environments. It imports gymnasium, MuJoCo
and torch, nothing more: ``VecStyleTransfer`` (stable-baselines3) loads on first use.

Example:
    >>> import gymnasium as gym
    >>> import style_wrap
    >>> sorted(i for i in gym.registry if i.startswith("StyleWrap/"))
    ['StyleWrap/HalfCheetah-v5', 'StyleWrap/HalfCheetahRandomized-v5', 'StyleWrap/HalfCheetahRestyled-v5']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from style_wrap.envs import (  # the GL backend is chosen there, before MuJoCo loads
    DOMAINS,
    ENV_IDS,
    CheetahPixelEnv,
    Style,
    get_style,
    register_envs,
    render_state,
    sample_style,
)
from style_wrap.errors import (
    ConfigError,
    DataError,
    DeviceError,
    ObservationError,
    RenderBackendError,
    StyleError,
    StyleWrapError,
    WeightsError,
)
from style_wrap.hub import list_pretrained
from style_wrap.translator import Translator
from style_wrap.weights import load_generator
from style_wrap.wrappers import StyleTransfer, VectorStyleTransfer

if TYPE_CHECKING:
    from style_wrap.rl.vec_env import VecStyleTransfer

__version__ = "0.1.0"

register_envs()


def __getattr__(name: str) -> Any:
    # stable-baselines3 is imported only by those who ask for its wrapper.
    if name == "VecStyleTransfer":
        from style_wrap.rl.vec_env import VecStyleTransfer

        return VecStyleTransfer
    raise AttributeError(f"module 'style_wrap' has no attribute {name!r}")


__all__ = [
    "DOMAINS",
    "ENV_IDS",
    "CheetahPixelEnv",
    "ConfigError",
    "DataError",
    "DeviceError",
    "ObservationError",
    "RenderBackendError",
    "Style",
    "StyleError",
    "StyleTransfer",
    "Translator",
    "VecStyleTransfer",
    "VectorStyleTransfer",
    "StyleWrapError",
    "WeightsError",
    "__version__",
    "get_style",
    "list_pretrained",
    "load_generator",
    "register_envs",
    "render_state",
    "sample_style",
]
