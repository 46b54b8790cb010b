"""A pair of looks nobody here made, end to end on the command line: gymnasium's InvertedPendulum
rendered to pixels (a state env), in its own look and recoloured (examples/new_pair.py), with a
callable pixel policy. Collect, train a few iterations, export, wrap, evaluate without ground
truth, bench, choose and demo. Small frames: this checks that every verb reaches such an env,
not how well a translator learns it (docs/training.md, "Your own pair", has those numbers).
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from style_wrap import StyleTransfer, VectorStyleTransfer
from style_wrap.cli import main as cli
from style_wrap.errors import ConfigError
from style_wrap.making import load_object, make_env
from style_wrap.train.data import load_frames

ROOT = Path(__file__).resolve().parents[1]
PAIR = str(ROOT / "examples" / "new_pair.py")
SIZE = ["--env-kwarg", "size=16"]


def render16(look: str, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
    """The example's paired-render hook at the tests' frame size."""
    return load_object(f"{PAIR}:render_state")(look, qpos, qvel, size=16)


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> dict[str, Path]:
    """Both looks collected (the recoloured one along the controller), a tiny run, its export."""
    root = tmp_path_factory.mktemp("pair")
    for look, seed in (("standard", 1), ("recoloured", 2)):
        argv = ["collect", "--env", f"{PAIR}:{look}", "--name", look, "--frames", "40"]
        argv += ["--seed", str(seed), "--out", str(root / look), *SIZE]
        argv += ["--policy", f"{PAIR}:Controller", "--max-episode-steps", "12"]
        assert cli([*argv, "--skip-steps", "2"]) == 0
    argv = ["train", "--domain-a", str(root / "recoloured"), "--domain-b", str(root / "standard")]
    argv += ["--out", str(root / "runs"), "--name", "tiny", "--iters", "3", "--ngf", "4"]
    argv += ["--n-blocks", "1", "--ndf", "8", "--batch-size", "2", "--no-progress"]
    assert cli([*argv, "--threads", "1", "--export-every", "2"]) == 0
    run = root / "runs" / "tiny"
    return {"root": root, "a2b": run / "generator_a2b.safetensors", "early": run / "exports"}


def test_env_factories_and_rendered_state_envs():
    env = make_env(f"{PAIR}:recoloured", size=16)
    assert env.observation_space.shape == (16, 16, 3)
    pixels = make_env("InvertedPendulum-v5", pixels=12)
    frame, _ = pixels.reset(seed=0)
    assert frame.shape == (12, 12, 3) and frame.dtype == np.uint8
    assert pixels.observation_space.contains(frame)
    assert callable(load_object(f"{PAIR}:Controller"))
    assert load_object("StyleWrap/HalfCheetah-v5") is None  # an id, not a factory
    with pytest.raises(ConfigError, match="no file 'nowhere.py'"):
        make_env("nowhere.py:standard")
    with pytest.raises(ConfigError, match="has no 'nothing'"):
        make_env(f"{PAIR}:nothing")
    with pytest.raises(ConfigError, match="returned str"):
        make_env("os:getcwd")
    with pytest.raises(ConfigError, match="pixels = 2"):
        make_env("InvertedPendulum-v5", pixels=2)


def test_collect_skips_the_first_steps_and_cuts_episodes(pair):
    data = load_frames(pair["root"] / "recoloured")
    assert data.frames.shape == (40, 16, 16, 3) and data.qpos.shape == (40, 2)
    assert data.steps.min() >= 2 and data.steps.max() < 12
    assert data.manifest["collection"]["skip_steps"] == 2
    assert data.manifest["env_kwargs"] == {"size": 16}


def test_the_exported_translator_wraps_the_new_env(pair):
    env = StyleTransfer(make_env(f"{PAIR}:recoloured", size=16), pair["a2b"])
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    from gymnasium.utils.env_checker import check_env

    check_env(env, skip_render_check=True)
    vec = VectorStyleTransfer(
        gym.vector.SyncVectorEnv([lambda: make_env(f"{PAIR}:recoloured", size=16)] * 2),
        pair["a2b"],
    )
    frames, _ = vec.reset(seed=0)
    assert frames.shape == (2, 16, 16, 3)
    np.testing.assert_array_equal(frames[0], obs)  # same seed, same frame, same translation


def test_eval_without_ground_truth(pair, tmp_path, capsys):
    root = pair["root"]
    argv = ["eval", "--weights", str(pair["a2b"]), "--source-frames", str(root / "recoloured")]
    argv += ["--target-frames", str(root / "standard"), "--json", str(tmp_path / "e.json")]
    argv += ["--policy", f"{PAIR}:Controller", "--source-env", f"{PAIR}:recoloured"]
    argv += ["--render-pair", f"{__file__}:render16"]
    assert cli([*argv, "--target-env", f"{PAIR}:standard", *SIZE, "--episodes", "1"]) == 0
    out = capsys.readouterr().out
    assert "colour histogram" in out and "policy returns" in out and "paired (40 states" in out
    result = json.loads((tmp_path / "e.json").read_text())
    for measure in ("histogram_distance", "kid"):
        assert set(result[measure]) == {"source", "translated", "target_halves"}
    assert 0 <= result["classifier_accuracy"] <= 1
    assert result["histogram_distance"]["source"] > result["histogram_distance"]["target_halves"]
    assert result["flicker"]["source"] is not None  # runs of consecutive steps were found
    assert result["policy"]["mean"]["standard"] >= 1  # the controller's episodes ran
    paired = result["paired"]
    assert paired["states"] == 40 and paired["baseline_psnr"] < 20  # the raw looks differ
    assert np.isfinite(paired["psnr"]) and "flicker_true" in paired
    assert cli(["eval", "--source-frames", str(root / "recoloured")]) == 2
    assert "expected both" in capsys.readouterr().err


def test_bench_choose_and_demo_reach_the_new_env(pair, tmp_path, capsys):
    env = ["--env", f"{PAIR}:recoloured", *SIZE]
    argv = ["bench", *env, "--weights", str(pair["a2b"]), "--batches", "1,2", "--steps", "4"]
    assert cli([*argv, "--json", str(tmp_path / "b.json")]) == 0
    assert [r["batch"] for r in json.loads((tmp_path / "b.json").read_text())] == [1, 2]
    early = next(pair["early"].glob("step-*/generator_a2b.safetensors"))
    argv = ["choose", str(pair["a2b"]), str(early), "--policy", f"{PAIR}:Controller"]
    argv += ["--source-env", f"{PAIR}:recoloured", *SIZE, "--episodes", "1", "--max-steps", "20"]
    assert cli([*argv, "--json", str(tmp_path / "c.json")]) == 0
    assert len(json.loads((tmp_path / "c.json").read_text())["results"]) == 2
    argv = ["demo", "--weights", str(pair["a2b"]), "--policy", f"{PAIR}:Controller"]
    argv += ["--source-env", f"{PAIR}:recoloured", "--target-env", f"{PAIR}:standard", *SIZE]
    assert (
        cli([*argv, "--episodes", "1", "--max-steps", "20", "--json", str(tmp_path / "d.json")])
        == 0
    )
    demo = json.loads((tmp_path / "d.json").read_text())
    assert set(demo["mean"]) == {"standard", "restyled", "restyled_translated"}
    assert not (tmp_path / "demo.mp4").exists()  # the video draws cheetah states only


def test_training_to_a_time_budget_fits_iters_and_the_lr_decay(pair, tmp_path, capsys):
    from style_wrap.train.config import load_toml
    from style_wrap.weights import read_spec

    root = pair["root"]
    argv = ["train", "--domain-a", str(root / "recoloured"), "--domain-b", str(root / "standard")]
    argv += ["--out", str(tmp_path), "--name", "budget", "--iters", "1000000", "--ngf", "4"]
    argv += ["--n-blocks", "1", "--ndf", "8", "--batch-size", "2", "--no-progress", "--threads"]
    assert cli([*argv, "1", "--time-budget", "0.05", "--log-every", "5"]) == 0  # 3 seconds
    out = capsys.readouterr().out
    assert "the time budget of 0.05 min affords" in out
    iters = load_toml(tmp_path / "budget" / "config.toml")["iters"]
    assert 20 <= iters < 1000000
    assert read_spec(tmp_path / "budget" / "generator_a2b.safetensors").step == iters
    rates = [json.loads(line) for line in (tmp_path / "budget" / "metrics.jsonl").open()]
    rates = [r["lr"] for r in rates if "lr" in r]
    assert rates[-1] < rates[0]  # the decay was fitted to the budget (a loaded machine may
    # spend the budget before the decay ends: the run then stops there, checkpointed)
