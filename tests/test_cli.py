from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest

from style_wrap.cli import main as cli
from style_wrap.translator import Translator


@pytest.fixture
def weights(tiny_generator) -> str:
    return tiny_generator(size=32, seed=1, step=12)


def _frames(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_info(weights, capsys):
    assert cli(["info", weights]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["direction"] == "restyled -> standard" and info["step"] == 12
    assert info["architecture"]["ngf"] == 4 and info["frame"] == "32x32 RGB"


def test_translate_png_and_npy(weights, tmp_path):
    translator = Translator(weights, device="cpu")
    frames = _frames(5)
    iio.imwrite(tmp_path / "in.png", frames[0])
    assert cli(["translate", weights, str(tmp_path / "in.png"), str(tmp_path / "out.png")]) == 0
    np.testing.assert_array_equal(iio.imread(tmp_path / "out.png"), translator(frames[0]))
    np.save(tmp_path / "in.npy", frames)
    assert (
        cli(
            [
                "translate",
                weights,
                str(tmp_path / "in.npy"),
                str(tmp_path / "out.npy"),
                "--batch-size",
                "2",
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), translator(frames))


def test_translate_video(weights, tmp_path):
    frames = _frames(6)
    iio.imwrite(tmp_path / "in.mp4", frames, fps=20, codec="libx264", macro_block_size=1)
    assert cli(["translate", weights, str(tmp_path / "in.mp4"), str(tmp_path / "out.mp4")]) == 0
    out = iio.imread(tmp_path / "out.mp4")
    assert out.shape == (6, 32, 32, 3)


def test_translate_bad_input(weights, tmp_path, capsys):
    assert cli(["translate", weights, str(tmp_path / "in.gif"), str(tmp_path / "o.gif")]) == 2
    assert "expected one of .png, .npy, .mp4" in capsys.readouterr().err
    np.save(tmp_path / "wrong.npy", np.zeros((2, 16, 16, 3), np.uint8))
    assert cli(["translate", weights, str(tmp_path / "wrong.npy"), str(tmp_path / "o.npy")]) == 2
    err = capsys.readouterr().err
    assert "trained on (32, 32, 3)" in err and not (tmp_path / "o.npy").exists()
    assert cli(["info", str(tmp_path / "missing.safetensors")]) == 2


def test_bench_writes_records(weights, tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = cli(
        [
            "bench",
            "--weights",
            weights,
            "--size",
            "32",
            "--batches",
            "1,2",
            "--steps",
            "4",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    records = json.loads(out.read_text())
    assert [r["batch"] for r in records] == [1, 2]
    for r in records:
        assert r["device"] == "cpu" and r["env_ms"] > 0 and r["wrapped_ms"] > 0
        assert r["translate_ms"] > 0
    assert "translate/env" in capsys.readouterr().out
