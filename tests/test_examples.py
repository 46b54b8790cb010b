"""The examples (and the research scripts whose results the docs quote) run as they are, as
scripts (short settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_evaluate_across_domains_on_the_shipped_files():
    out = _run(
        "examples/evaluate_across_domains.py",
        "--episodes",
        "1",
        "--max-steps",
        "20",
        "--randomized-seeds",
        "1",
    )
    names = [line.split("  ")[0] for line in out.splitlines()]
    assert names == ["standard", "restyled", "restyled + StyleTransfer", "randomized 1"]


@pytest.mark.slow
def test_train_new_pair(tmp_path):
    out = _run(
        "examples/train_new_pair.py", "--frames", "12", "--iters", "2", "--out", str(tmp_path)
    )
    assert "translates randomized-3 frames" in out
    assert len(list(tmp_path.glob("*/generator_a2b.safetensors"))) == 1


@pytest.mark.slow
def test_cycle_ablation(tmp_path):
    args = ["--iters", "2", "--modes", "detached,none", "--sequences", "1"]
    args += ["--probe-states", "50", "--probe-steps", "2"]
    out = _run("research/cycle_ablation.py", *args, "--out", str(tmp_path))
    table = (tmp_path / "ablation.md").read_text().splitlines()
    assert [row.split(" | ")[0] for row in table[2:]] == [
        "| detached",
        "| none",
        "| (untranslated)",
    ]
    assert (tmp_path / "cycle-none-pose-0" / "eval" / "grid.png").is_file()
    assert "ablation.md" in out
    # one row per held-out state: source, truth, then one translation per run
    assert iio.imread(tmp_path / "ablation-grid.png").shape == (6 * 64, 4 * 64, 3)

    # A rerun neither retrains nor re-evaluates a finished run, and writes the same table.
    scored = tmp_path / "cycle-detached-pose-0" / "eval" / "eval.json"
    before = scored.stat().st_mtime_ns
    _run("research/cycle_ablation.py", *args, "--out", str(tmp_path))
    assert scored.stat().st_mtime_ns == before
    assert (tmp_path / "ablation.md").read_text().splitlines() == table
