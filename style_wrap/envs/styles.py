"""Visual styles of the cheetah as data: the standard look, the restyled look, a seeded family.

A :class:`Style` holds every visual knob the domains vary (colours, materials, checker size,
link thickness and proportions as drawn, lighting). :mod:`style_wrap.envs.mjcf` turns one into
MJCF. Styles are frozen and hashable, so they can key caches and travel in env kwargs.

Example:
    >>> from style_wrap.envs.styles import get_style, sample_style
    >>> get_style("standard").checker_repeat
    60.0
    >>> get_style("restyled").thickness > 1.0
    True
    >>> sample_style(3) == sample_style(3), sample_style(3) == sample_style(4)
    (True, False)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from style_wrap.errors import StyleError

__all__ = ["Style", "DOMAINS", "get_style", "sample_style", "resolve_style"]

RGB = tuple[float, float, float]

#: The visual domains by name; ``randomized`` needs a seed.
DOMAINS = ("standard", "restyled", "randomized")


def _colour(doc: str, default: RGB) -> Any:
    return field(default=default, metadata={"doc": doc, "kind": "rgb"})


def _number(doc: str, default: float, low: float, high: float, *, open_low: bool = False) -> Any:
    return field(
        default=default,
        metadata={"doc": doc, "kind": "number", "low": low, "high": high, "open_low": open_low},
    )


@dataclass(frozen=True)
class Style:
    """Every visual property a cheetah domain can change. Defaults are gymnasium's HalfCheetah.

    Geometry fields (``thickness`` and the ``*_length`` scales) change only what is drawn, unless
    the env is built with ``physical_geometry=True``.

    Example:
        >>> Style().replace(thickness=1.5).thickness
        1.5
        >>> Style().replace(thickness=-1.0)
        Traceback (most recent call last):
        ...
        style_wrap.errors.StyleError: style field 'thickness' = -1.0 is out of range; expected a value in (0.0, 4.0]
    """

    name: str = "standard"
    body_rgb: RGB = _colour("Torso, head and thighs.", (0.8, 0.6, 0.4))
    limb_rgb: RGB = _colour("Shins and feet.", (0.9, 0.6, 0.6))
    body_specular: float = _number("Body material specular.", 0.5, 0.0, 1.0)
    body_shininess: float = _number("Body material shininess.", 0.5, 0.0, 1.0)
    body_reflectance: float = _number("Body material reflectance.", 0.0, 0.0, 1.0)
    checker_rgb1: RGB = _colour("First checker colour of the floor.", (0.0, 0.0, 0.0))
    checker_rgb2: RGB = _colour("Second checker colour of the floor.", (0.8, 0.8, 0.8))
    floor_rgb: RGB = _colour("Floor tint, multiplying the checker.", (0.8, 0.9, 0.8))
    checker_repeat: float = _number(
        "Checker repeats across the floor: larger means smaller squares.",
        60.0,
        0.0,
        1000.0,
        open_low=True,
    )
    floor_reflectance: float = _number("Floor reflectance.", 0.5, 0.0, 1.0)
    sky_rgb1: RGB = _colour("Skybox gradient, top.", (1.0, 1.0, 1.0))
    sky_rgb2: RGB = _colour("Skybox gradient, bottom.", (0.0, 0.0, 0.0))
    thickness: float = _number("Link radius scale.", 1.0, 0.0, 4.0, open_low=True)
    torso_length: float = _number("Torso length scale.", 1.0, 0.0, 2.0, open_low=True)
    head_length: float = _number("Head length scale.", 1.0, 0.0, 3.0, open_low=True)
    limb_length: float = _number("Thigh, shin and foot length scale.", 1.0, 0.0, 2.0, open_low=True)
    light_diffuse: float = _number("Main light intensity.", 1.0, 0.0, 1.0)
    light_tilt: float = _number("Main light direction, x component.", 0.0, -1.0, 1.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = f.metadata.get("kind")
            if kind == "rgb":
                object.__setattr__(self, f.name, _check_rgb(f.name, value))
            elif kind == "number":
                object.__setattr__(self, f.name, _check_number(f, value))
        if not isinstance(self.name, str) or not self.name:
            raise StyleError(f"style field 'name' = {self.name!r}; expected a non-empty string")

    @property
    def changes_geometry(self) -> bool:
        """Whether any link is drawn at another thickness or length than the standard cheetah's."""
        return any(
            getattr(self, n) != 1.0
            for n in ("thickness", "torso_length", "head_length", "limb_length")
        )

    def replace(self, **changes: Any) -> Style:
        """A copy with some fields changed; unknown names raise :class:`StyleError`."""
        _check_names(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The style as plain data (lists for colours), the inverse of :meth:`from_dict`."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Style:
        """Build a style from plain data; missing fields take the standard values."""
        _check_names(data)
        return cls(**dict(data))


def _check_names(data: Mapping[str, Any]) -> None:
    known = {f.name for f in fields(Style)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise StyleError(
            f"unknown style field {unknown[0]!r}; expected one of {', '.join(sorted(known))}"
        )


def _check_rgb(name: str, value: Any) -> RGB:
    try:
        rgb = tuple(float(c) for c in value)
    except (TypeError, ValueError):
        raise StyleError(
            f"style field {name!r} = {value!r}; expected 3 numbers in [0, 1]"
        ) from None
    if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
        raise StyleError(f"style field {name!r} = {value!r}; expected 3 numbers in [0, 1]")
    return rgb  # type: ignore[return-value]


def _check_number(f: dataclasses.Field[Any], value: Any) -> float:
    low, high, open_low = f.metadata["low"], f.metadata["high"], f.metadata["open_low"]
    interval = f"{'(' if open_low else '['}{low}, {high}]"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StyleError(
            f"style field {f.name!r} = {value!r}; expected a number in {interval}"
        ) from None
    if not (low < number if open_low else low <= number) or not number <= high:
        raise StyleError(
            f"style field {f.name!r} = {value!r} is out of range; expected a value in {interval}"
        )
    return number


STANDARD = Style()

#: The post's second domain: other colours and materials, thicker links, slightly different
#: proportions as drawn, and a smaller checkerboard in other colours.
RESTYLED = Style(
    name="restyled",
    body_rgb=(0.15, 0.35, 0.75),
    limb_rgb=(0.95, 0.75, 0.2),
    body_specular=0.9,
    body_shininess=0.8,
    body_reflectance=0.1,
    checker_rgb1=(0.3, 0.15, 0.1),
    checker_rgb2=(0.95, 0.9, 0.75),
    floor_rgb=(1.0, 1.0, 1.0),
    checker_repeat=150.0,
    floor_reflectance=0.2,
    sky_rgb1=(0.6, 0.8, 1.0),
    sky_rgb2=(0.1, 0.1, 0.25),
    thickness=1.6,
    torso_length=1.04,
    head_length=1.25,
    limb_length=1.08,
    light_diffuse=0.85,
    light_tilt=0.3,
)


def sample_style(seed: int) -> Style:
    """A randomized cheetah: the same seed always gives the same style.

    Args:
        seed: Any non-negative integer.

    Returns:
        A :class:`Style` named ``randomized-{seed}``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise StyleError(f"style_seed = {seed!r}; expected a non-negative integer")
    rng = np.random.default_rng([int(seed), 0x5717E])

    def rgb(low: float = 0.0, high: float = 1.0) -> RGB:
        return tuple(round(float(c), 4) for c in rng.uniform(low, high, 3))  # type: ignore[return-value]

    dark, light = rgb(0.0, 0.45), rgb(0.55, 1.0)
    if rng.random() < 0.5:
        dark, light = light, dark
    return Style(
        name=f"randomized-{int(seed)}",
        body_rgb=rgb(0.1, 1.0),
        limb_rgb=rgb(0.1, 1.0),
        body_specular=float(rng.uniform(0.0, 1.0)),
        body_shininess=float(rng.uniform(0.0, 1.0)),
        body_reflectance=float(rng.uniform(0.0, 0.3)),
        checker_rgb1=dark,
        checker_rgb2=light,
        floor_rgb=rgb(0.7, 1.0),
        checker_repeat=float(rng.uniform(30.0, 180.0)),
        floor_reflectance=float(rng.uniform(0.0, 0.6)),
        sky_rgb1=rgb(),
        sky_rgb2=rgb(),
        thickness=float(rng.uniform(0.8, 1.8)),
        torso_length=float(rng.uniform(0.95, 1.05)),
        head_length=float(rng.uniform(0.8, 1.4)),
        limb_length=float(rng.uniform(0.92, 1.12)),
        light_diffuse=float(rng.uniform(0.6, 1.0)),
        light_tilt=float(rng.uniform(-0.5, 0.5)),
    )


def get_style(domain: str, seed: int | None = None) -> Style:
    """The style of a named domain.

    Args:
        domain: One of :data:`DOMAINS`.
        seed: The style seed, for ``randomized`` only (default 0).

    Returns:
        The domain's :class:`Style`.
    """
    if domain == "randomized":
        return sample_style(0 if seed is None else seed)
    if seed is not None:
        raise StyleError(
            f"style_seed = {seed!r} was given for domain {domain!r}; "
            "expected it only with domain 'randomized'"
        )
    if domain == "standard":
        return STANDARD
    if domain == "restyled":
        return RESTYLED
    raise StyleError(f"unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")


def resolve_style(style: str | Style | Mapping[str, Any], seed: int | None = None) -> Style:
    """Accept a domain name, a :class:`Style`, or a mapping of fields over the standard style."""
    if isinstance(style, Style):
        if seed is not None:
            raise StyleError(
                f"style_seed = {seed!r} was given with an explicit Style; "
                "expected it only with domain 'randomized'"
            )
        return style
    if isinstance(style, str):
        return get_style(style, seed)
    if isinstance(style, Mapping):
        return Style.from_dict({"name": "custom", **style})
    raise StyleError(
        f"style = {style!r}; expected a domain name ({', '.join(DOMAINS)}), a Style or a dict"
    )
