"""The package's exception types.

Every error that style_wrap raises on bad input derives from :class:`StyleWrapError`, and each
also derives from the built-in type that fits it (``ValueError``, ``FileNotFoundError``, ...) so
existing ``except`` clauses keep working. Messages name the offending value and what was expected.

Example:
    >>> from style_wrap.errors import StyleError, StyleWrapError
    >>> issubclass(StyleError, StyleWrapError) and issubclass(StyleError, ValueError)
    True
"""

from __future__ import annotations

__all__ = [
    "StyleWrapError",
    "StyleError",
    "RenderBackendError",
    "ObservationError",
    "WeightsError",
    "DeviceError",
    "DataError",
    "ConfigError",
    "CheckpointError",
    "TrainingError",
]


class StyleWrapError(Exception):
    """Base class of every error raised by style_wrap."""


class StyleError(StyleWrapError, ValueError):
    """A visual style or domain name is unknown or holds an out-of-range value."""


class RenderBackendError(StyleWrapError, RuntimeError):
    """No working OpenGL backend for MuJoCo's renderer (see ``MUJOCO_GL``)."""


class ObservationError(StyleWrapError, ValueError):
    """An observation or observation space is not an image the translator can take."""


class WeightsError(StyleWrapError, ValueError):
    """A weights file is missing, corrupt, or not a generator of the expected shape."""


class DeviceError(StyleWrapError, RuntimeError):
    """A requested torch device or dtype is not available here."""


class DataError(StyleWrapError, ValueError):
    """A frame dataset folder is missing, empty, inconsistent or corrupt."""


class ConfigError(StyleWrapError, ValueError):
    """A training setting or settings file is invalid."""


class CheckpointError(StyleWrapError, ValueError):
    """A training checkpoint is missing, damaged, or not of this run."""


class TrainingError(StyleWrapError, RuntimeError):
    """Training cannot go on (e.g. a loss became NaN or infinite)."""
