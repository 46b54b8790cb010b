"""The one registry of shipped files: each name's kind, file and purpose.

The wheel ships one pair for the cheetah: a translator (restyled -> standard) and a pixel policy
of the standard look. Every lookup of a shipped file goes through here: a weights argument
(:func:`resolve_weights`), a policy argument (:func:`resolve_policy`), and what
:func:`list_pretrained` offers a user to wrap. Files are found through ``importlib.resources``,
so an installed (non-editable) copy finds them too.

Example:
    >>> from style_wrap.hub import SHIPPED, list_pretrained
    >>> list_pretrained()
    ['halfcheetah-restyled-to-standard']
    >>> SHIPPED["halfcheetah-pixel-policy"].kind
    'policy'
"""

from __future__ import annotations

import os
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
            "halfcheetah-pixel-policy",
            "policy",
            "halfcheetah-pixel-policy.zip",
            "SB3 PPO CnnPolicy on 3 stacked 64x64 standard frames, distilled from a state expert",
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


def _lookup(name: str, kind: Kind) -> Shipped | None:
    entry = SHIPPED.get(name) or SHIPPED.get(Path(name).stem if name.endswith(".zip") else "")
    return entry if entry is not None and entry.kind == kind else None


def shipped_file(name: str, kind: Kind) -> Path:
    """The file of a shipped ``kind`` called ``name``; :class:`WeightsError` if there is none.

    Example:
        >>> shipped_file("halfcheetah-pixel-policy.zip", "policy").name
        'halfcheetah-pixel-policy.zip'
        >>> shipped_file("nope", "translator")
        Traceback (most recent call last):
        ...
        style_wrap.errors.WeightsError: no shipped translator 'nope'; expected one of: halfcheetah-restyled-to-standard
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
    path = Path(weights)
    if path.is_file():
        return path
    if _lookup(str(weights), "translator") is not None:
        return shipped_file(str(weights), "translator")
    shipped = ", ".join(list_pretrained()) or "none shipped"
    raise WeightsError(
        f"weights {str(weights)!r} is neither a file nor a shipped model; expected a "
        f".safetensors path or one of: {shipped}"
    )


def resolve_policy(policy: str | os.PathLike[str] | None = None) -> Path:
    """A pixel policy argument as a path: as given, a shipped policy's name, or the default.

    A path that does not exist comes back as it is, for the loader to name in its error.

    Example:
        >>> resolve_policy() == resolve_policy("halfcheetah-pixel-policy.zip")
        True
    """
    if policy is None:
        return shipped_file(DEFAULT_POLICY, "policy")
    path = Path(policy)
    if path.is_file() or path.parent != Path(".") or _lookup(path.name, "policy") is None:
        return path
    return shipped_file(path.name, "policy")
