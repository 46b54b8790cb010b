from __future__ import annotations

import ctypes.util

import pytest

from style_wrap import RenderBackendError
from style_wrap.envs.headless import choose_gl_backend, render_backend_error


def test_an_explicit_choice_is_kept():
    env = {"MUJOCO_GL": "osmesa"}
    assert choose_gl_backend(env) == "osmesa" and env == {"MUJOCO_GL": "osmesa"}


def test_a_display_means_no_headless_choice():
    env = {"DISPLAY": ":0"}
    assert choose_gl_backend(env) is None and "MUJOCO_GL" not in env


@pytest.mark.skipif(not ctypes.util.find_library("EGL"), reason="needs libEGL (CI has it)")
def test_headless_picks_egl_when_present():
    env: dict[str, str] = {}
    assert choose_gl_backend(env) == "egl"
    assert env["MUJOCO_GL"] == "egl" and env["PYOPENGL_PLATFORM"] == "egl"


def test_the_error_names_mujoco_gl():
    err = render_backend_error(RuntimeError("no context"))
    assert isinstance(err, RenderBackendError)
    assert "MUJOCO_GL" in str(err) and "no context" in str(err) and "osmesa" in str(err)


def test_importing_mujoco_first_without_a_backend_is_explained(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import mujoco, numpy as np, style_wrap\n"
        "try:\n    style_wrap.render_state('standard', np.zeros(9))\n"
        "except style_wrap.RenderBackendError as e:\n    print(e)\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MUJOCO_GL", "DISPLAY", "PYOPENGL_PLATFORM")
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert "mujoco was imported before style_wrap" in out.stdout, out.stdout + out.stderr
    assert "MUJOCO_GL=egl" in out.stdout
