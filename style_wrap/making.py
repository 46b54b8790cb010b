"""Making any env the user can build, with the package's errors.

An env argument is a gymnasium id (``"StyleWrap/HalfCheetah-v5"``, ``"my_pkg:MyEnv-v0"``) or a
factory: ``"module:function"`` or ``"path/to/file.py:function"``, called with the env keywords.
``pixels=N`` renders an env whose observations are states (``render_mode="rgb_array"``) and
resizes each frame to ``N x N``: the pixel env that a translator and a pixel policy see. An
unknown id or a keyword the env does not take is a :class:`~style_wrap.errors.ConfigError`
naming it.

Example:
    >>> make_env("NoSuchEnv-v0")
    Traceback (most recent call last):
    ...
    style_wrap.errors.ConfigError: env id 'NoSuchEnv-v0' is not registered ...
    >>> env = make_env("InvertedPendulum-v5", pixels=32)
    >>> env.observation_space.shape
    (32, 32, 3)
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from style_wrap.errors import ConfigError

__all__ = ["PixelObservation", "default_kwargs", "load_object", "make_env", "make_vector_env"]

_OBJECT = re.compile(r"(?P<module>[^:]+):(?P<name>[A-Za-z_]\w*)")


def load_object(spec: str, what: str = "object") -> Any | None:
    """The object ``"module:name"`` or ``"file.py:name"`` names, or ``None`` when ``spec`` is not
    of that form (or its module does not import: e.g. a gymnasium ``"pkg:Env-v0"`` id).

    The current folder is searched for the module too, as ``python -m`` would.
    """
    match = _OBJECT.fullmatch(spec)
    if match is None:
        return None
    module_name, name = match["module"], match["name"]
    if module_name.endswith(".py"):
        path = Path(module_name)
        if not path.is_file():
            raise ConfigError(f"{what} {spec!r}: no file {module_name!r}")
        loaded = importlib.util.spec_from_file_location(path.stem, path)
        assert loaded is not None and loaded.loader is not None
        module = importlib.util.module_from_spec(loaded)
        sys.modules.setdefault(path.stem, module)
        loaded.loader.exec_module(module)
    else:
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return None
    obj = getattr(module, name, None)
    if obj is None:
        raise ConfigError(f"{what} {spec!r}: module {module_name!r} has no {name!r}")
    return obj


class PixelObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Observations replaced by the env's rendered frame, resized to ``size x size`` (uint8 HWC,
    antialiased bilinear): a state env as a pixel env. The env must render ``rgb_array``."""

    def __init__(self, env: gym.Env, size: int):
        gym.utils.RecordConstructorArgs.__init__(self, size=size)
        gym.ObservationWrapper.__init__(self, env)
        if env.render_mode != "rgb_array":
            raise ConfigError(
                f"pixels={size} needs an env made with render_mode='rgb_array'; got "
                f"{env.render_mode!r}"
            )
        self.size = size
        self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), np.uint8)

    def observation(self, observation: Any) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        frame = np.asarray(self.env.render())
        if frame.shape[:2] == (self.size, self.size):
            return np.ascontiguousarray(frame[..., :3])
        x = torch.from_numpy(np.ascontiguousarray(frame[..., :3])).permute(2, 0, 1)[None].float()
        x = F.interpolate(x, (self.size, self.size), mode="bilinear", antialias=True)
        return x[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def default_kwargs(env: str, size: int = 64) -> dict[str, Any]:
    """The keywords an env is made with when none are given: ``size x size`` frames for the
    package's cheetahs (``StyleWrap/`` ids; 64, what the shipped policies read), none for others.

    Example:
        >>> default_kwargs("StyleWrap/HalfCheetah-v5"), default_kwargs("InvertedPendulum-v5")
        ({'width': 64, 'height': 64}, {})
    """
    return {"width": size, "height": size} if env.startswith("StyleWrap/") else {}


def make_env(env: str, *, pixels: int | None = None, **kwargs: Any) -> gym.Env:
    """The env ``env`` names (a gymnasium id or a factory), made with ``kwargs``.

    Args:
        env: A gymnasium id, or ``"module:function"`` / ``"file.py:function"`` returning an env.
        pixels: Render a state env into ``pixels x pixels`` frames (``None``: as it is).
        kwargs: Keywords for ``gym.make`` or the factory.
    """
    import style_wrap  # noqa: F401  (registers the StyleWrap/ ids)

    if not isinstance(env, str) or not env:
        raise ConfigError(f"env {env!r}; expected a gymnasium id or 'module:function'")
    if pixels is not None:
        if isinstance(pixels, bool) or not isinstance(pixels, int) or pixels < 4:
            raise ConfigError(f"pixels = {pixels!r}; expected a frame side of at least 4")
        kwargs = {"render_mode": "rgb_array", **kwargs}
    factory = load_object(env, "env factory")
    try:
        made = factory(**kwargs) if callable(factory) else gym.make(env, **kwargs)
    except gym.error.Error as err:
        raise ConfigError(
            f"env id {env!r} is not registered ({err}); expected a gymnasium id, e.g. "
            "StyleWrap/HalfCheetahRestyled-v5 (import the package that registers yours first), "
            "or an env factory 'module:function'"
        ) from None
    except TypeError as err:
        if "argument" not in str(err):
            raise
        raise ConfigError(
            f"env {env!r} does not take the keywords {sorted(kwargs)} ({err}); expected "
            "keywords of its constructor"
        ) from None
    if not isinstance(made, gym.Env):
        raise ConfigError(f"env factory {env!r} returned {type(made).__name__}; expected a gym.Env")
    return PixelObservation(made, pixels) if pixels is not None else made


def make_vector_env(env: str, n: int, *, pixels: int | None = None, **kwargs: Any) -> Any:
    """``n`` copies of :func:`make_env` in one ``SyncVectorEnv``."""
    fns: list[Callable[[], gym.Env]] = [
        lambda: make_env(env, pixels=pixels, **kwargs) for _ in range(n)
    ]
    return gym.vector.SyncVectorEnv(fns)
