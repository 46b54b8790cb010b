from __future__ import annotations

import mujoco
import numpy as np
import pytest

from style_wrap import StyleError
from style_wrap.envs.mjcf import HIDDEN_GROUP, _base_xml, compile_model, style_to_mjcf
from style_wrap.envs.styles import get_style, sample_style


def _gymnasium_model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(_base_xml())


def test_standard_model_equals_gymnasiums():
    ours, theirs = compile_model(get_style("standard"), profile="stock"), _gymnasium_model()
    for name in (
        "geom_size",
        "geom_pos",
        "geom_rgba",
        "body_mass",
        "body_inertia",
        "dof_M0",
        "mat_texrepeat",
        "light_diffuse",
    ):
        np.testing.assert_array_equal(
            getattr(ours, name)[: getattr(theirs, name).shape[0]],
            getattr(theirs, name),
            err_msg=name,
        )
    assert ours.ngeom == theirs.ngeom


def test_compile_model_matches_the_text_with_settotalmass():
    style = get_style("restyled")
    direct = mujoco.MjModel.from_xml_string(style_to_mjcf(style))
    quiet = compile_model(style)
    for name in ("body_mass", "body_inertia", "dof_M0", "dof_invweight0", "actuator_acc0"):
        np.testing.assert_array_equal(getattr(quiet, name), getattr(direct, name), err_msg=name)


def test_restyled_physics_geoms_are_unchanged_and_hidden():
    restyled, standard = compile_model(get_style("restyled")), _gymnasium_model()
    np.testing.assert_array_equal(restyled.body_mass, standard.body_mass)
    np.testing.assert_array_equal(restyled.body_inertia, standard.body_inertia)
    for i in range(standard.ngeom):
        name = mujoco.mj_id2name(standard, mujoco.mjtObj.mjOBJ_GEOM, i)
        j = mujoco.mj_name2id(restyled, mujoco.mjtObj.mjOBJ_GEOM, name)
        np.testing.assert_array_equal(restyled.geom_size[j], standard.geom_size[i])
        if name != "floor":
            assert restyled.geom_group[j] == HIDDEN_GROUP
            twin = mujoco.mj_name2id(restyled, mujoco.mjtObj.mjOBJ_GEOM, f"{name}_visual")
            assert restyled.geom_contype[twin] == 0 and restyled.geom_conaffinity[twin] == 0
            assert restyled.geom_size[twin][0] > standard.geom_size[i][0]  # drawn thicker


def test_physical_geometry_changes_the_bodies():
    physical = compile_model(get_style("restyled"), physical=True)
    standard = _gymnasium_model()
    assert physical.ngeom == standard.ngeom
    assert not np.array_equal(physical.body_inertia, standard.body_inertia)


@pytest.mark.parametrize("seed", range(25))
def test_sampled_styles_compile(seed):
    model = compile_model(sample_style(seed))
    assert model.nq == 9 and model.nu == 6


def test_unknown_profile():
    with pytest.raises(StyleError, match="render profile 'ultra'"):
        style_to_mjcf(get_style("standard"), profile="ultra")


def test_fast_profile_written():
    assert compile_model(get_style("standard")).vis.quality.offsamples == 0
    assert compile_model(get_style("standard"), profile="stock").vis.quality.shadowsize == 4096
