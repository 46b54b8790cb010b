"""The visual domains: styles as data, turned into MJCF, served as pixel environments."""

from __future__ import annotations

from style_wrap.domains.envs import (
    ENV_IDS,
    CheetahPixelEnv,
    FrameRenderer,
    body_mask,
    register_envs,
    render_state,
)
from style_wrap.domains.mjcf import RENDER_PROFILES, RenderProfile, compile_model, style_to_mjcf
from style_wrap.domains.styles import DOMAINS, Style, get_style, resolve_style, sample_style

__all__ = [
    "body_mask",
    "DOMAINS",
    "ENV_IDS",
    "RENDER_PROFILES",
    "CheetahPixelEnv",
    "FrameRenderer",
    "RenderProfile",
    "Style",
    "get_style",
    "compile_model",
    "register_envs",
    "render_state",
    "resolve_style",
    "sample_style",
    "style_to_mjcf",
]
