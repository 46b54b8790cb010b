"""Settings dataclasses: documented fields, range checks, and their command-line flags.

One mechanism for every settings class of the package (training, distillation, evaluation):
each field is made with :func:`setting` (its doc shows in ``--help``), :func:`check_at_least`
is the range check with the package's message, and :func:`add_arguments` /
:func:`from_arguments` turn the class into flags and back.

Example:
    >>> import argparse
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo:
    ...     steps: int = setting(10, "How many steps.")
    ...     fast: bool = setting(False, "Go fast.")
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser, Demo)
    >>> from_arguments(Demo, parser.parse_args(["--steps", "3", "--fast"]))
    Demo(steps=3, fast=True)
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import MISSING, field, fields
from typing import Any

from style_wrap.errors import ConfigError, StyleWrapError

__all__ = [
    "add_arguments",
    "check_at_least",
    "check_fields",
    "fields_of",
    "from_arguments",
    "setting",
]


def setting(default: Any, doc: str, choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with a default, a doc for ``--help`` and, optionally, its choices."""
    return field(default=default, metadata={"doc": doc, "choices": choices})


def check_at_least(
    values: Mapping[str, Any],
    minimum: int,
    error: type[StyleWrapError] = ConfigError,
    prefix: str = "",
) -> None:
    """Raise ``error`` naming the first of ``values`` below ``minimum``, non-finite or not a number.

    Example:
        >>> check_at_least({"frames": 10, "jobs": 0}, 1)
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: jobs = 0; expected >= 1
        >>> check_at_least({"lr": float("nan")}, 0)
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: lr = nan; expected a finite number >= 0
    """
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise error(f"{prefix}{name} = {value!r}; expected a number >= {minimum}")
        if not math.isfinite(value):
            raise error(f"{prefix}{name} = {value!r}; expected a finite number >= {minimum}")
        if value < minimum:
            raise error(f"{prefix}{name} = {value!r}; expected >= {minimum}")


def check_fields(
    owner: Any, error: type[StyleWrapError] = ConfigError, prefix: str = "setting "
) -> None:
    """Check a settings dataclass's fields against their defaults' types, choices and finiteness.

    An ``int`` given where a ``float`` is expected becomes that float (frozen classes too); a bool
    is never a number; every float must be finite (NaN and infinities pass ``< 0`` checks).

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Demo:
        ...     lr: float = setting(0.1, "Step size.")
        ...     def __post_init__(self):
        ...         check_fields(self)
        >>> Demo(lr=float("inf"))
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: setting lr = inf; expected a finite number
        >>> Demo(lr=1).lr
        1.0
    """
    for f in fields(owner):
        value, expected = getattr(owner, f.name), type(f.default)
        if f.default is MISSING or f.default is None:
            continue
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
            object.__setattr__(owner, f.name, value)
        if not isinstance(value, expected) or (
            expected in (int, float) and isinstance(value, bool)
        ):
            raise error(f"{prefix}{f.name} = {value!r}; expected a {expected.__name__}")
        if expected is float and not math.isfinite(value):
            raise error(f"{prefix}{f.name} = {value!r}; expected a finite number")
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise error(f"{prefix}{f.name} = {value!r}; expected one of {', '.join(choices)}")


def fields_of(owner: Any, *names: str) -> dict[str, Any]:
    """``{name: owner.name}`` for the ``names`` given (for :func:`check_at_least`)."""
    return {name: getattr(owner, name) for name in names}


def add_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    skip: tuple[str, ...] = (),
    suppress: bool = False,
) -> None:
    """One flag per field of ``cls`` (``--batch-size`` for ``batch_size``), help from its doc.

    Booleans get ``--flag/--no-flag``. With ``suppress`` an absent flag leaves no attribute (so
    that a settings file can fill it); otherwise it takes the field's default.
    """
    for f in fields(cls):
        if f.name in skip:
            continue
        default = f.default if f.default is not MISSING else None
        doc, choices = f.metadata.get("doc", ""), f.metadata.get("choices")
        kwargs: dict[str, Any] = {
            "default": argparse.SUPPRESS if suppress else default,
            "help": f"{doc} (default: {default})".lstrip(),
        }
        if isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = type(default)
            if choices:
                kwargs["choices"] = choices
        parser.add_argument("--" + f.name.replace("_", "-"), **kwargs)


def from_arguments(cls: type, args: argparse.Namespace, **values: Any) -> Any:
    """An instance of ``cls`` from ``values``, overridden by the flags present in ``args``."""
    names = {f.name for f in fields(cls)}
    values.update({k: v for k, v in vars(args).items() if k in names})
    return cls(**values)
