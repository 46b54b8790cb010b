from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest

from style_wrap import WeightsError
from style_wrap.cli import main as cli
from style_wrap.evaluation.demo import CONDITIONS
from style_wrap.hub import resolve_policy
from style_wrap.rl.episodes import gait


def test_demo_on_small_models(tmp_path, capsys, tiny_policy, tiny_generator):
    code = cli(
        [
            "demo",
            "--policy",
            str(tiny_policy),
            "--weights",
            tiny_generator(),
            "--episodes",
            "1",
            "--max-steps",
            "5",
            "--video",
            str(tmp_path / "demo.mp4"),
            "--json",
            str(tmp_path / "demo.json"),
        ]
    )
    assert code == 0
    result = json.loads((tmp_path / "demo.json").read_text())
    assert set(result["returns"]) == set(CONDITIONS)
    assert all(len(r) == 1 for r in result["returns"].values())
    means = result["mean"]
    assert result["ratio_raw"] == pytest.approx(means["restyled"] / means["standard"])
    assert result["ratio_translated"] == pytest.approx(
        means["restyled_translated"] / means["standard"]
    )
    for key in ("speed", "flipped"):
        assert set(result[key]) == set(CONDITIONS)
        assert all(len(v) == 1 for v in result[key].values())
    assert all(isinstance(f[0], bool) for f in result["flipped"].values())
    video = iio.imread(tmp_path / "demo.mp4")
    assert video.shape == (5, 64 * 3, 64 * 3 * 3, 3)  # restyled | translated | truth, 3x
    assert "(c)/(a)" in capsys.readouterr().out


def test_demo_without_a_shipped_policy_says_what_is_missing(monkeypatch, capsys):
    import style_wrap.hub

    monkeypatch.setattr(style_wrap.hub, "DEFAULT_POLICY", "no-such-policy")
    with pytest.raises(WeightsError, match="no shipped policy 'no-such-policy'"):
        resolve_policy()
    assert cli(["demo", "--video", "none", "--episodes", "1", "--max-steps", "2"]) == 2
    assert "expected one of: halfcheetah-pixel-policy" in capsys.readouterr().err


def test_gait_speed_and_flips():
    t = np.arange(200)
    # backwards at 1 m/s (dt 0.05): negative speed
    assert gait(-0.05 * t, np.zeros(200), dt=0.05) == (-1.0, False)
    # a somersault landed within 10 steps is not a flip; lying on its back for 20+ steps is
    somersault = np.where((t >= 100) & (t < 110), np.pi, 0.0)
    assert gait(0.1 * t, somersault, dt=0.05)[1] is False
    on_its_back = np.where(t >= 180, np.pi, 0.0)
    assert gait(0.1 * t, on_its_back, dt=0.05)[1] is True
    # pitch wraps: a full turn (2 pi) is upright again
    assert gait(0.1 * t, np.full(200, 2 * np.pi), dt=0.05)[1] is False


def test_choose_ranks_translators_by_the_policy(tmp_path, capsys, tiny_policy, tiny_generator):
    from style_wrap.evaluation.choose import choose_translator

    files = [tiny_generator(seed=seed, name=f"g{seed}") for seed in (0, 1)]
    args = ["choose", "--policy", str(tiny_policy), "--episodes", "2", "--max-steps", "6"]
    assert cli([*args, "--json", str(tmp_path / "c.json"), *map(str, files)]) == 0
    document = json.loads((tmp_path / "c.json").read_text())
    means = [r["mean"] for r in document["results"]]
    assert means == sorted(means, reverse=True) and len(means) == 2
    assert document["best"] == document["results"][0]["weights"]
    assert all(len(r["returns"]) == len(r["flipped"]) == 2 for r in document["results"])
    assert f"best: {document['best']}" in capsys.readouterr().out
    # The same policy and file twice: the same episodes, so the same returns.
    twice = choose_translator(
        [files[0], files[0]], policy=tiny_policy, episodes=1, max_steps=6, progress=False
    )
    assert twice[0]["returns"] == twice[1]["returns"]
    with pytest.raises(WeightsError, match="no translator files"):
        choose_translator([], policy=tiny_policy)
    with pytest.raises(WeightsError, match="missing.safetensors"):  # before any episode
        choose_translator([files[0], str(tmp_path / "missing.safetensors")], policy=tiny_policy)
