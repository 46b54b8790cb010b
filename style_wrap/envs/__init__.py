"""The visual domains: styles as data, turned into MJCF, served as pixel environments.

Importing this package first picks a headless GL backend (:mod:`style_wrap.envs.headless`):
MuJoCo reads ``MUJOCO_GL`` once, when it is first imported.
"""

from __future__ import annotations

from style_wrap.envs.headless import choose_gl_backend

choose_gl_backend()  # before anything imports mujoco

from style_wrap.envs.cheetah import ENV_IDS, CheetahPixelEnv, FrameRenderer, register_envs  # noqa: E402
from style_wrap.envs.mjcf import (  # noqa: E402
    RENDER_PROFILES,
    RenderProfile,
    compile_model,
    style_to_mjcf,
)
from style_wrap.envs.states import (  # noqa: E402
    body_mask,
    floor_mask,
    is_upside_down,
    render_state,
    rollout_states,
)
from style_wrap.envs.styles import (  # noqa: E402
    DOMAINS,
    Style,
    get_style,
    resolve_style,
    sample_style,
)

__all__ = [
    "body_mask",
    "floor_mask",
    "rollout_states",
    "DOMAINS",
    "ENV_IDS",
    "RENDER_PROFILES",
    "CheetahPixelEnv",
    "FrameRenderer",
    "RenderProfile",
    "Style",
    "get_style",
    "is_upside_down",
    "compile_model",
    "register_envs",
    "render_state",
    "resolve_style",
    "sample_style",
    "style_to_mjcf",
]
