"""style_wrap: run a pixel policy in a new visual domain by translating its observations.

A CycleGAN generator, trained on unpaired frames of two domains, turns each observation of the
new domain into the look of the old one inside a gymnasium wrapper, so the old policy runs as is.
Importing the package registers the cheetah pixel environments:

Example:
    >>> import gymnasium as gym
    >>> import style_wrap
    >>> sorted(i for i in gym.registry if i.startswith("StyleWrap/"))
    ['StyleWrap/HalfCheetah-v5', 'StyleWrap/HalfCheetahRandomized-v5', 'StyleWrap/HalfCheetahRestyled-v5']
"""

from __future__ import annotations

from style_wrap.headless import choose_gl_backend

choose_gl_backend()  # before anything imports mujoco

from style_wrap.domains import (  # noqa: E402
    DOMAINS,
    ENV_IDS,
    CheetahPixelEnv,
    Style,
    get_style,
    register_envs,
    render_state,
    sample_style,
)
from style_wrap.errors import (  # noqa: E402
    ConfigError,
    DataError,
    DeviceError,
    ObservationError,
    RenderBackendError,
    StyleError,
    StyleWrapError,
    WeightsError,
)
from style_wrap.translator import Translator  # noqa: E402
from style_wrap.weights import list_pretrained, load_generator  # noqa: E402
from style_wrap.wrappers import StyleTransfer, VecStyleTransfer, VectorStyleTransfer  # noqa: E402

__version__ = "0.1.0"

register_envs()

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
