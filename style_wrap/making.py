"""``gym.make`` with the package's errors: an unknown id or a keyword the env does not take is a
:class:`~style_wrap.errors.ConfigError` naming it, not gymnasium's or the constructor's own.

Example:
    >>> make_env("NoSuchEnv-v0")
    Traceback (most recent call last):
    ...
    style_wrap.errors.ConfigError: env id 'NoSuchEnv-v0' is not registered ...
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from style_wrap.errors import ConfigError

__all__ = ["make_env"]


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make(env_id, **kwargs)``; a bad id or keyword raises :class:`ConfigError`."""
    import style_wrap  # noqa: F401  (registers the StyleWrap/ ids)

    if not isinstance(env_id, str) or not env_id:
        raise ConfigError(f"env id {env_id!r}; expected a gymnasium id such as 'HalfCheetah-v5'")
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as err:
        raise ConfigError(
            f"env id {env_id!r} is not registered ({err}); expected a gymnasium id, e.g. "
            "StyleWrap/HalfCheetahRestyled-v5 (import the package that registers yours first)"
        ) from None
    except TypeError as err:
        if "argument" not in str(err):
            raise
        raise ConfigError(
            f"env {env_id!r} does not take the keywords {sorted(kwargs)} ({err}); expected "
            "keywords of its constructor"
        ) from None
