"""Turn a :class:`~style_wrap.envs.styles.Style` into MJCF, starting from gymnasium's cheetah.

The physics of every style equals the standard cheetah's unless ``physical=True``: each original
geom keeps its size, mass and contacts but moves to a hidden geom group, and a massless,
contact-free twin draws the restyled shape. The same actions from the same state therefore give
the same trajectory in every domain; only the pixels differ.

Example:
    >>> from style_wrap.envs.mjcf import compile_model, style_to_mjcf
    >>> from style_wrap.envs.styles import get_style
    >>> style_to_mjcf(get_style("restyled"))[:30]
    '<mujoco model="cheetah-restyle'
    >>> model = compile_model(get_style("restyled"))
    >>> model.nbody, model.ngeom, model.vis.quality.shadowsize
    (8, 17, 1024)
"""

from __future__ import annotations

import copy
import functools
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import mujoco

from style_wrap.envs.styles import Style
from style_wrap.errors import StyleError

__all__ = ["RenderProfile", "RENDER_PROFILES", "style_to_mjcf", "compile_model", "HIDDEN_GROUP"]

#: Geom group of the physical geoms when a twin draws them; MuJoCo draws groups 0-2 by default.
HIDDEN_GROUP = 3

_BODY_GEOMS = ("torso", "head", "bthigh", "fthigh")
_LIMB_GEOMS = ("bshin", "bfoot", "fshin", "ffoot")


@dataclass(frozen=True)
class RenderProfile:
    """Renderer quality settings written into the model's ``<visual>`` element.

    MuJoCo's software renderer spends most of a small frame on the shadow map and multisampling;
    ``fast`` trades them for a ~4x faster frame at about one grey level of mean difference
    (``benchmarks/render_profile.py`` measures it).
    """

    name: str
    shadowsize: int
    offsamples: int


RENDER_PROFILES = {
    "fast": RenderProfile("fast", shadowsize=1024, offsamples=0),
    "stock": RenderProfile("stock", shadowsize=4096, offsamples=4),
}


@functools.cache
def _base_xml() -> str:
    import gymnasium.envs.mujoco

    path = os.path.join(
        os.path.dirname(gymnasium.envs.mujoco.__file__), "assets", "half_cheetah.xml"
    )
    with open(path, encoding="utf-8") as f:
        return f.read()


def _fmt(*values: float) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def _find(root: ET.Element, path: str) -> ET.Element:
    element = root.find(path)
    if element is None:  # gymnasium changed its model; fail loudly rather than draw wrong
        raise StyleError(f"gymnasium's half_cheetah.xml has no element {path!r}")
    return element


def _scale_geometry(geom: ET.Element, style: Style) -> None:
    name = geom.get("name", "")
    radius, *rest = (float(v) for v in geom.get("size", "").split())
    geom.set("size", _fmt(radius * style.thickness, *rest))
    if name == "torso":
        x0, y0, z0, x1, y1, z1 = (float(v) for v in geom.get("fromto", "").split())
        s = style.torso_length
        geom.set("fromto", _fmt(x0 * s, y0, z0, x1 * s, y1, z1))
    elif rest:
        scale = style.head_length if name == "head" else style.limb_length
        geom.set("size", _fmt(radius * style.thickness, rest[0] * scale))


def style_to_mjcf(
    style: Style, *, physical: bool = False, profile: RenderProfile | str = "fast"
) -> str:
    """The MJCF text of a cheetah drawn in ``style``.

    Prefer :func:`compile_model` to compile it: it gives the same model without MuJoCo's
    deprecation warning for gymnasium's ``settotalmass``.

    Args:
        style: The visual style.
        physical: Make the geometry changes physical too (thickness and lengths then change
            masses, inertias and contacts, opening a dynamics gap as well as a visual one).
        profile: A :class:`RenderProfile` or its name in :data:`RENDER_PROFILES`.

    Returns:
        MJCF text that ``mujoco.MjModel.from_xml_string`` compiles.
    """
    return ET.tostring(_build(style, physical, profile), encoding="unicode")


def compile_model(
    style: Style, *, physical: bool = False, profile: RenderProfile | str = "fast"
) -> mujoco.MjModel:
    """Compile the cheetah drawn in ``style``; arguments as in :func:`style_to_mjcf`.

    gymnasium's model scales its masses with the deprecated ``settotalmass`` compiler attribute,
    which makes MuJoCo print a warning at every compile; this applies the same scaling after
    compiling (``mj_setTotalmass``, then ``mj_setConst``), which gives bit-identical masses,
    inertias and derived constants.
    """
    root = _build(style, physical, profile)
    compiler = _find(root, "compiler")
    total_mass = compiler.attrib.pop("settotalmass", None)
    model = mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))
    if total_mass is not None:
        mujoco.mj_setTotalmass(model, float(total_mass))
        mujoco.mj_setConst(model, mujoco.MjData(model))
    return model


def _style_body(root: ET.Element, style: Style, twin: bool) -> None:
    """Colour (and, for styles that change geometry, reshape) the cheetah's geoms; with ``twin``
    the reshaped geom is a drawn-only copy and the physical one is hidden."""
    for name in _BODY_GEOMS + _LIMB_GEOMS:
        geom = _find(root, f".//geom[@name='{name}']")
        rgb = style.body_rgb if name in _BODY_GEOMS else style.limb_rgb
        if twin:
            drawn = copy.deepcopy(geom)
            drawn.set("name", f"{name}_visual")
            # No contacts and no mass: the twin changes nothing the solver sees.
            drawn.attrib.update(contype="0", conaffinity="0", mass="0", group="0")
            geom.set("group", str(HIDDEN_GROUP))
            parent = root.find(f".//geom[@name='{name}']/..")
            assert parent is not None
            parent.insert(list(parent).index(geom) + 1, drawn)
        else:
            drawn = geom
        drawn.set("rgba", _fmt(*rgb, 1.0))
        drawn.set("material", "body")
        if style.changes_geometry:
            _scale_geometry(drawn, style)


def _build(style: Style, physical: bool, profile: RenderProfile | str) -> ET.Element:
    if isinstance(profile, str):
        if profile not in RENDER_PROFILES:
            raise StyleError(
                f"render profile {profile!r} is unknown; "
                f"expected one of {', '.join(RENDER_PROFILES)}"
            )
        profile = RENDER_PROFILES[profile]
    root = ET.fromstring(_base_xml())

    if profile != RENDER_PROFILES["stock"]:
        visual = ET.Element("visual")
        ET.SubElement(
            visual,
            "quality",
            shadowsize=str(profile.shadowsize),
            offsamples=str(profile.offsamples),
        )
        root.insert(list(root).index(_find(root, "size")), visual)

    sky = _find(root, "asset/texture[@type='skybox']")
    sky.set("rgb1", _fmt(*style.sky_rgb1))
    sky.set("rgb2", _fmt(*style.sky_rgb2))
    checker = _find(root, "asset/texture[@name='texplane']")
    checker.set("rgb1", _fmt(*style.checker_rgb1))
    checker.set("rgb2", _fmt(*style.checker_rgb2))
    plane = _find(root, "asset/material[@name='MatPlane']")
    plane.set("texrepeat", _fmt(style.checker_repeat, style.checker_repeat))
    plane.set("reflectance", _fmt(style.floor_reflectance))
    # gymnasium's geoms use no material (its "geom" material is unused); with MuJoCo's default
    # values an untextured material draws exactly as none, so the standard look is unchanged.
    ET.SubElement(
        _find(root, "asset"),
        "material",
        name="body",
        specular=_fmt(style.body_specular),
        shininess=_fmt(style.body_shininess),
        reflectance=_fmt(style.body_reflectance),
    )

    light = _find(root, "worldbody/light")
    light.set("diffuse", _fmt(*(style.light_diffuse,) * 3))
    light.set("dir", _fmt(style.light_tilt, 0.0, -1.3))
    _find(root, "worldbody/geom[@name='floor']").set("rgba", _fmt(*style.floor_rgb, 1.0))

    _style_body(root, style, twin=style.changes_geometry and not physical)
    model = root.get("model", "cheetah")
    root.set("model", f"{model}-{style.name}")
    return root
