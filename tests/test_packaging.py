"""The wheel carries pretrained/ as package data, found from a non-editable install."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_pretrained_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "style_wrap", src / "style_wrap", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "pretrained", src / "pretrained")

    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("style_wrap-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert "style_wrap/pretrained/halfcheetah-restyled-to-standard.safetensors" in names
        assert "style_wrap/rl/vec_env.py" in names and "style_wrap/evaluation/demo.py" in names
        assert "style_wrap/py.typed" in names  # type checkers read the annotations
        shipped = {
            f"style_wrap/pretrained/{p.relative_to(ROOT / 'pretrained').as_posix()}"
            for p in (ROOT / "pretrained").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        assert shipped <= names, shipped - names  # weights, policy, model card
        z.extractall(site)
    # This test runs beside an editable install of the source tree; drop its import hook so
    # the extracted wheel is what gets imported, as on a user's machine.
    check = (
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path "
        "if not getattr(f, '__module__', '').startswith('__editable__')]; "
        "import style_wrap; print(style_wrap.list_pretrained()); "
        "g, s = style_wrap.load_generator('halfcheetah-restyled-to-standard'); "
        "print(s.domain_from, s.domain_to); print(style_wrap.__file__); "
        "from style_wrap.hub import resolve_policy; print(resolve_policy().is_file())"
    )
    out = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "MUJOCO_GL": "egl", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines[0] == (
        "['halfcheetah-restyled-to-standard', 'halfcheetah-restyled-to-standard-policyfree']"
    )
    assert lines[1] == "restyled standard"
    assert lines[2].startswith(str(site))  # the installed copy, not the source tree
    assert lines[3] == "True"  # the shipped policy, found by the registry
