from __future__ import annotations

import json
import math

import imageio.v3 as iio

from style_wrap.cli import main as cli
from style_wrap.evaluation.paired import REQUIRED_KEYS


def test_eval_on_a_tiny_generator_writes_all_outputs(tmp_path, capsys, tiny_generator):
    out = tmp_path / "eval"
    code = cli(
        [
            "eval",
            "--weights",
            tiny_generator(),
            "--sequences",
            "2",
            "--sequence-length",
            "4",
            "--probe-states",
            "16",
            "--probe-steps",
            "3",
            "--device",
            "cpu",
            "--out",
            str(out),
            "--json",
            str(tmp_path / "e.json"),
        ]
    )
    assert code == 0
    result = json.loads((out / "eval.json").read_text())
    assert json.loads((tmp_path / "e.json").read_text()) == result
    for key in REQUIRED_KEYS:
        assert isinstance(result[key], float) and not math.isnan(result[key]), key
    assert result["baseline_psnr"] > 0 and 0 < result["flicker_true"]
    assert "| psnr_body |" in (out / "eval.md").read_text()
    assert iio.imread(out / "grid.png").shape == (6 * 64, 3 * 64, 3)
    assert "pose error" in capsys.readouterr().out


def test_eval_states_from_a_collected_dataset(tmp_path):
    import numpy as np
    import pytest

    from style_wrap import DataError
    from style_wrap.evaluation.paired import EvalConfig, _states
    from style_wrap.train.collect import collect
    from style_wrap.train.data import load_frames

    collect(
        "StyleWrap/HalfCheetah-v5",
        20,
        tmp_path / "d",
        env_kwargs={"width": 16, "height": 16},
        progress=False,
    )
    qpos = load_frames(tmp_path / "d").qpos
    states = _states(EvalConfig(sequences=2, sequence_length=5, states=str(tmp_path / "d")))
    assert states.shape == (2, 5, 9)
    np.testing.assert_array_equal(states[0], qpos[:5])  # runs of consecutive recorded states
    np.testing.assert_array_equal(states[1], qpos[15:20])
    with pytest.raises(DataError, match="20 states; expected at least 60"):
        _states(EvalConfig(sequences=3, sequence_length=20, states=str(tmp_path / "d")))


def test_floor_presence_tells_a_painted_floor_from_the_truth():

    from style_wrap.envs.states import rollout_states
    from style_wrap.evaluation.paired import EvalConfig, _floor_presence, _render

    states = rollout_states(1, 8, seed=3, warmup=10).reshape(-1, 9)
    states[4:, 0] += 100.0  # the last four frames are past the floor's end
    config = EvalConfig()
    truth = _render("standard", states, 64)
    faithful = _floor_presence(config, states, truth)
    assert faithful["floor_true_fraction"] == 0.5
    assert faithful["floor_presence_agreement"] == 1.0
    assert faithful["floor_painted_where_absent"] == 0.0
    assert faithful["floor_missing_where_present"] == 0.0
    on_floor = states.copy()
    on_floor[:, 0] = 0.0
    painted = _floor_presence(config, states, _render("standard", on_floor, 64))
    assert painted["floor_painted_where_absent"] == 1.0
    assert painted["floor_presence_agreement"] == 0.5
    gone = states.copy()
    gone[:, 0] = 1e3  # the same poses with no floor anywhere
    removed = _floor_presence(config, states, _render("standard", gone, 64))
    assert removed["floor_missing_where_present"] == 1.0


def test_a_temporal_translator_is_judged_from_its_episodes_reset(tmp_path):
    import numpy as np
    import pytest

    from style_wrap import DataError
    from style_wrap.envs.states import rollout_states
    from style_wrap.evaluation.paired import EvalConfig, _runs, _states
    from style_wrap.train.collect import collect
    from style_wrap.train.data import load_frames

    kwargs = {"env_kwargs": {"width": 16, "height": 16}, "progress": False}
    collect("StyleWrap/HalfCheetah-v5", 30, tmp_path / "d", max_episode_steps=10, **kwargs)
    data = load_frames(tmp_path / "d")
    config = EvalConfig(sequences=3, sequence_length=4, states=str(tmp_path / "d"))
    runs = _runs(config, from_reset=True)
    assert len(runs) == 3
    for run in runs:  # each starts at a reset frame and runs on through consecutive steps
        first = int(np.flatnonzero((data.qpos == run[0]).all(1))[0])
        assert data.steps[first] == 0 and 4 <= len(run) <= 10
        np.testing.assert_array_equal(run, data.qpos[first : first + len(run)])
    # Without the reset, the same number of scored states, and no lead-in.
    assert all(len(run) == 4 for run in _runs(config))
    # Rollouts: the lead-in is the warm-up, and the scored states are the same either way.
    rollouts = _runs(EvalConfig(sequences=2, sequence_length=5, seed=3), from_reset=True)
    assert [len(run) for run in rollouts] == [25, 25]
    np.testing.assert_array_equal(
        np.stack([run[-5:] for run in rollouts]), rollout_states(2, 5, seed=3, warmup=20)
    )
    np.testing.assert_array_equal(
        _states(EvalConfig(sequences=2, sequence_length=5, seed=3)),
        rollout_states(2, 5, seed=3, warmup=20),
    )
    # Frames kept every other step hold no run from a reset.
    collect("StyleWrap/HalfCheetah-v5", 20, tmp_path / "e", every=2, **kwargs)
    with pytest.raises(DataError, match="--every 1"):
        _runs(EvalConfig(sequences=2, sequence_length=4, states=str(tmp_path / "e")), True)


def test_eval_of_a_pose_translator_feeds_each_run_from_the_reset(tmp_path):
    from helpers import pose_weights

    from style_wrap.evaluation.paired import EvalConfig, evaluate_translator

    config = EvalConfig(sequences=2, sequence_length=3, probe_states=6, probe_steps=2)
    result = evaluate_translator(pose_weights(tmp_path / "p.safetensors"), config, device="cpu")
    assert result["from_reset"] is True
    assert result["states_seen"] == 2 * (20 + 3)  # the warm-up's 20 states were translated too
    assert 0 < result["flicker_translated"] and 0 < result["psnr"]
