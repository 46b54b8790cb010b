from __future__ import annotations

import json

import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecFrameStack

from style_wrap import ConfigError
from style_wrap.cli import main as cli
from style_wrap.evaluation.demo import CONDITIONS
from style_wrap.nets import GeneratorConfig
from style_wrap.rl.episodes import EpisodeTask, run_tasks
from style_wrap.rl.policies import PolicyError
from style_wrap.weights import GeneratorSpec, save_generator


@pytest.fixture(scope="module")
def policy_and_translator(tmp_path_factory):
    """An untrained pixel policy (3 stacked 64x64 frames) and an untrained 64x64 translator."""
    root = tmp_path_factory.mktemp("episodes")
    venv = VecFrameStack(make_vec_env("StyleWrap/HalfCheetah-v5", 1), 3)
    PPO("CnnPolicy", venv, n_steps=8, batch_size=8, seed=0, device="cpu").save(root / "p.zip")
    spec = GeneratorSpec(GeneratorConfig(ngf=4, n_blocks=1), 64, 64, "restyled", "standard")
    torch.manual_seed(0)
    save_generator(root / "g.safetensors", spec.architecture.build(), spec)
    return root / "p.zip", str(root / "g.safetensors")


def test_worker_processes_give_the_same_episodes(policy_and_translator):
    policy, translator = policy_and_translator
    tasks = [
        EpisodeTask(CONDITIONS["standard"], seed=0, max_steps=12, device="cpu"),
        EpisodeTask(CONDITIONS["standard"], seed=1, max_steps=12, device="cpu"),
        EpisodeTask(CONDITIONS["restyled"], translator, seed=0, max_steps=12, device="cpu"),
        EpisodeTask(CONDITIONS["restyled"], translator, 1, 12, "cpu", local=True),
    ]
    here_steps: list[int] = []
    ended: list[int] = []
    alone = run_tasks(policy, tasks, jobs=1)
    spread = run_tasks(
        policy,
        tasks,
        jobs=2,
        on_step=lambda i, frame, env: here_steps.append(i),
        on_done=lambda i, result: ended.append(i),
    )
    assert spread == alone  # returns, speeds, flips and lengths, episode by episode
    assert [r.steps for r in alone] == [12] * 4
    assert alone[0] != alone[1]  # the seeds differ, so do the episodes
    assert sorted(ended) == [0, 1, 2, 3]
    assert here_steps == [3] * 12  # only the local episode ran here, every step seen


def test_bad_policy_and_jobs_fail_before_any_episode(tmp_path, policy_and_translator):
    task = EpisodeTask(CONDITIONS["standard"], max_steps=2, device="cpu")
    with pytest.raises(PolicyError, match="missing.zip"):
        run_tasks(tmp_path / "missing.zip", [task], jobs=2)
    with pytest.raises(ConfigError, match="jobs = -1; expected >= 1"):
        run_tasks(policy_and_translator[0], [task], jobs=-1)


def test_choose_with_jobs_ranks_as_without(tmp_path, policy_and_translator):
    policy, translator = policy_and_translator
    args = ["choose", "--policy", str(policy), "--episodes", "2", "--max-steps", "8", translator]
    assert cli([*args, "--json", str(tmp_path / "one.json")]) == 0
    assert cli([*args, "--json", str(tmp_path / "two.json"), "--jobs", "2"]) == 0
    one, two = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("one", "two"))
    assert one["results"] == two["results"]
