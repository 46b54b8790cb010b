"""The one registry of shipped files: each name's kind, file and purpose.

The wheel ships, for the cheetah, two translators (restyled -> standard: the demo's, fitted with
its policy's lineage in the loss, and a policy-free one through the pose for other policies) and a pixel
policy of the standard look, all safetensors (loading them unpickles nothing). Every lookup of a
shipped file goes through here: a weights argument (:func:`resolve_weights`), a policy argument
(:func:`resolve_policy`), and what :func:`list_pretrained` offers a user to wrap. Files are found
through ``importlib.resources``, so an installed (non-editable) copy finds them too.

A shipped name always means the shipped file, found inside the package: a file of the same name
in the current folder is not picked up in its place (a warning says so). A path is a path: to use
a local file of a shipped name, write it as one (``./halfcheetah-pixel-policy.zip``).

Example:
    >>> from style_wrap.hub import SHIPPED, list_pretrained
    >>> list_pretrained()
    ['halfcheetah-restyled-to-standard', 'halfcheetah-restyled-to-standard-policyfree']
    >>> SHIPPED["halfcheetah-pixel-policy"].kind
    'policy'
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from style_wrap.errors import WeightsError

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_TRANSLATOR",
    "SHIPPED",
    "Shipped",
    "list_pretrained",
    "resolve_policy",
    "resolve_weights",
    "shipped_file",
]

Kind = Literal["translator", "policy"]


@dataclass(frozen=True)
class Shipped:
    """One shipped file: its name (what users type), kind, file in ``pretrained/``, purpose."""

    name: str
    kind: Kind
    file: str
    purpose: str


SHIPPED: dict[str, Shipped] = {
    s.name: s
    for s in (
        Shipped(
            "halfcheetah-restyled-to-standard",
            "translator",
            "halfcheetah-restyled-to-standard.safetensors",
            "CycleGAN generator (ngf 8, fp16): restyled cheetah frames -> standard look, 64x64",
        ),
        Shipped(
            "halfcheetah-restyled-to-standard-policyfree",
            "translator",
            "halfcheetah-restyled-to-standard-policyfree.safetensors",
            "translator through the pose (an encoder of restyled frames, a renderer of the "
            "standard look, fp16) fitted with no policy in its loss: for pixel policies of other "
            "lineages than the shipped one; restyled -> standard, 64x64",
        ),
        Shipped(
            "halfcheetah-pixel-policy",
            "policy",
            "halfcheetah-pixel-policy.safetensors",
            "SB3 PPO CnnPolicy on 3 stacked 64x64 standard frames, distilled from a state expert "
            "(pickle-free: rebuilt from the file's header)",
        ),
    )
}
#: The demo's translator and the default of every command that takes ``--weights``.
DEFAULT_TRANSLATOR = "halfcheetah-restyled-to-standard"
#: The demo's pixel policy and the default of every command that takes ``--policy``.
DEFAULT_POLICY = "halfcheetah-pixel-policy"


def _folder() -> Path:
    return Path(str(resources.files("style_wrap.pretrained")))


def list_pretrained(kind: Kind = "translator") -> list[str]:
    """Names of the shipped files of ``kind`` (translators: what ``StyleTransfer`` can wrap)."""
    return sorted(s.name for s in SHIPPED.values() if s.kind == kind)


_SUFFIXES = (".zip", ".safetensors")


def _lookup(name: str, kind: Kind) -> Shipped | None:
    """The shipped entry ``name`` means: a bare name, with or without a file suffix."""
    if os.sep in name or (os.altsep and os.altsep in name):
        return None  # a path, never a name
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix in _SUFFIXES else name
    entry = SHIPPED.get(name) or SHIPPED.get(stem)
    return entry if entry is not None and entry.kind == kind else None


def _shipped_or_path(value: str | os.PathLike[str], kind: Kind) -> Path | None:
    """The shipped file when ``value`` is a shipped name (saying so if a local file shares the
    name), else ``None``."""
    text = os.fspath(value)
    if isinstance(value, os.PathLike) or _lookup(text, kind) is None:
        return None
    path = shipped_file(text, kind)
    if Path(text).is_file():
        warnings.warn(
            f"{text!r} names the shipped {kind} ({path}), which is used; the file of that name "
            f"in the current folder is not. To use it, pass it as a path: ./{text}",
            stacklevel=3,
        )
    return path


def shipped_file(name: str, kind: Kind) -> Path:
    """The file of a shipped ``kind`` called ``name``; :class:`WeightsError` if there is none.

    Example:
        >>> shipped_file("halfcheetah-pixel-policy", "policy").name
        'halfcheetah-pixel-policy.safetensors'
        >>> shipped_file("nope", "translator")
        Traceback (most recent call last):
        ...
        style_wrap.errors.WeightsError: no shipped translator 'nope'; expected one of: halfcheetah-restyled-to-standard, halfcheetah-restyled-to-standard-policyfree
    """
    entry = _lookup(name, kind)
    if entry is None:
        names = ", ".join(list_pretrained(kind)) or "none shipped"
        raise WeightsError(f"no shipped {kind} {name!r}; expected one of: {names}")
    path = _folder() / entry.file
    if not path.is_file():
        raise WeightsError(f"shipped {kind} {name!r} is missing its file {path}; reinstall")
    return path


def resolve_weights(weights: str | os.PathLike[str]) -> Path:
    """A weights argument as a file path: an existing path, or a shipped translator's name."""
    shipped_path = _shipped_or_path(weights, "translator")
    if shipped_path is not None:
        return shipped_path
    path = Path(weights)
    if path.is_file():
        return path
    shipped = ", ".join(list_pretrained()) or "none shipped"
    raise WeightsError(
        f"weights {str(weights)!r} is neither a file nor a shipped model; expected a "
        f".safetensors path or one of: {shipped}"
    )


def resolve_policy(policy: str | os.PathLike[str] | None = None) -> Path:
    """A pixel policy argument as a path: a shipped policy's name, a path, or the default.

    A path that does not exist comes back as it is, for the loader to name in its error.

    Example:
        >>> resolve_policy() == resolve_policy("halfcheetah-pixel-policy")
        True
        >>> resolve_policy("./halfcheetah-pixel-policy.zip").as_posix()
        'halfcheetah-pixel-policy.zip'
    """
    if policy is None:
        return shipped_file(DEFAULT_POLICY, "policy")
    return _shipped_or_path(policy, "policy") or Path(policy)
