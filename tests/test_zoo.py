from __future__ import annotations

import json

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecFrameStack

from style_wrap import ConfigError
from style_wrap.cli import main as cli
from style_wrap.evaluation.zoo import evaluate_zoo, evaluate_zoos
from style_wrap.rl.policies import PolicyError


@pytest.fixture
def two_policies(tmp_path, tiny_policy):
    other = tmp_path / "other" / "q.zip"
    other.parent.mkdir()
    venv = VecFrameStack(make_vec_env("StyleWrap/HalfCheetah-v5", 1), 3)
    PPO("CnnPolicy", venv, n_steps=8, batch_size=8, seed=1, device="cpu").save(other)
    return [str(tiny_policy), str(other)]


def test_zoo_reports_each_policy_and_the_mean_and_minimum(two_policies, tiny_generator, tmp_path):
    weights = tiny_generator()
    result = evaluate_zoo(two_policies, weights, episodes=2, max_steps=5, progress=False)
    assert list(result.ratios) == ["p", "q"]
    for name, demo in result.demos.items():
        mean = demo["mean"]
        assert result.ratios[name] == pytest.approx(mean["restyled_translated"] / mean["standard"])
        assert all(len(r) == 2 for r in demo["returns"].values())
    assert result.zoo_ratio_mean == pytest.approx(np.mean(list(result.ratios.values())))
    assert result.zoo_ratio_min == min(result.ratios.values())
    out = tmp_path / "zoo.json"
    args = ["zoo", *two_policies, "--weights", weights, "--episodes", "2", "--max-steps", "5"]
    assert cli([*args, "--jobs", "1", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["zoo_ratio_mean"] == pytest.approx(result.zoo_ratio_mean)  # same episodes
    assert document["zoo_ratio_min"] == pytest.approx(result.zoo_ratio_min)
    assert set(document["policies"]) == {"p", "q"}


def test_zoo_checks_every_file_before_any_episode(two_policies, tiny_generator, tmp_path):
    weights = tiny_generator()
    with pytest.raises(ConfigError, match="no policies"):
        evaluate_zoo([], weights)
    with pytest.raises(PolicyError, match="missing.zip"):
        evaluate_zoo([two_policies[0], str(tmp_path / "missing.zip")], weights)
    with pytest.raises(ConfigError, match="the same file twice"):
        evaluate_zoo([two_policies[0], two_policies[0]], weights)
    from style_wrap import WeightsError

    with pytest.raises(WeightsError, match="nope"):
        evaluate_zoo(two_policies, "nope")


def test_several_translators_share_the_standard_and_raw_episodes(
    two_policies, tiny_generator, tmp_path
):
    first, second = tiny_generator(seed=0, name="g0"), tiny_generator(seed=1, name="g1")
    setup = dict(episodes=2, max_steps=6, progress=False)
    both = evaluate_zoos(two_policies, [first, second], **setup)
    for weights, result in zip((first, second), both):
        alone = evaluate_zoo(two_policies, weights, **setup)
        assert result.demos == alone.demos  # the same episodes as each translator judged alone
    standard = [r.demos["p"]["returns"]["standard"] for r in both]
    assert standard[0] == standard[1]
    translated = [r.demos["p"]["returns"]["restyled_translated"] for r in both]
    assert translated[0] != translated[1]  # two generators, two translations
    out = tmp_path / "zoos.json"
    args = ["zoo", two_policies[0], "--weights", first, second, "--episodes", "2"]
    assert cli([*args, "--max-steps", "6", "--jobs", "1", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert [d["weights"] for d in document["translators"]] == [first, second]
    assert document["translators"][1]["ratios"]["p"] == pytest.approx(both[1].ratios["p"])
    with pytest.raises(ConfigError, match="no translators"):
        evaluate_zoos(two_policies, [])
