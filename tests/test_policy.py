from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecFrameStack

import style_wrap  # noqa: F401
from style_wrap.rl.dagger import DaggerConfig, distill_pixel_policy
from style_wrap.rl.expert import train_expert
from style_wrap.rl.policies import FrameStacker, PolicyError, load_policy


def test_frame_stacker_matches_vec_frame_stack():
    venv = VecFrameStack(
        make_vec_env("StyleWrap/HalfCheetah-v5", 1, env_kwargs={"width": 16, "height": 16}), 3
    )
    raw = gym.make("StyleWrap/HalfCheetah-v5", width=16, height=16)
    venv.seed(5)
    stacked = venv.reset()
    stacker = FrameStacker(3, (16, 16, 3))
    mine = stacker.reset(raw.reset(seed=5)[0])
    np.testing.assert_array_equal(stacked[0], mine)
    for _ in range(4):
        a = raw.action_space.sample()
        stacked, *_ = venv.step(a[None])
        mine = stacker.push(raw.step(a)[0])
        np.testing.assert_array_equal(stacked[0], mine)


def test_load_policy_finds_the_algorithm(tmp_path):
    SAC("MlpPolicy", "Pendulum-v1", buffer_size=100, device="cpu").save(tmp_path / "sac.zip")
    assert type(load_policy(tmp_path / "sac.zip")).__name__ == "SAC"
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(tmp_path / "none.zip")
    (tmp_path / "bad.zip").write_bytes(b"nope")
    with pytest.raises(PolicyError, match="not a stable-baselines3 model"):
        load_policy(tmp_path / "bad.zip")


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"blur": -0.5}, "blur = -0.5; expected 0 <= blur <= 3"),
        ({"jitter": 1.5}, "jitter = 1.5; expected"),
        ({"shift": -1}, "shift = -1; expected >= 0"),
        ({"batch_size": 0}, "batch_size = 0; expected >= 1"),
    ],
)
def test_dagger_config_rejects_bad_values(bad, match):
    with pytest.raises(PolicyError, match=match):
        DaggerConfig(**bad)


def test_blur_augmentation_softens_edges_and_keeps_brightness():
    from style_wrap.rl.dagger import _augment

    rng = np.random.default_rng(0)
    obs = torch.zeros(16, 9, 32, 32)
    obs[:, :, :, 16:] = 255.0  # a vertical edge
    out = _augment(obs, DaggerConfig(shift=0, jitter=0.0, blur=2.0), rng)
    assert out.shape == obs.shape
    assert torch.allclose(out.mean((1, 2, 3)), obs.mean((1, 2, 3)), atol=1e-3)
    across = out[:, 0, 10, 12:20]  # pixels around the edge: now in between for most samples
    softened = ((across > 1) & (across < 254)).any(1)
    assert softened.sum() >= 12  # widths are drawn from [0, 2]: a few stay nearly sharp
    unchanged = _augment(obs, DaggerConfig(shift=0, jitter=0.0, blur=0.0), rng)
    assert torch.equal(unchanged, obs)


@pytest.mark.slow
def test_dagger_rounds_resume(tmp_path):
    train_expert(tmp_path / "expert", steps=512)
    config = DaggerConfig(
        rounds=1,
        first_frames=40,
        frames_per_round=20,
        steps_per_round=2,
        batch_size=8,
        eval_episodes=1,
        size=36,
        final_steps=0,
    )
    distill_pixel_policy(tmp_path / "expert", tmp_path / "dagger", config)
    distill_pixel_policy(tmp_path / "expert", tmp_path / "dagger", config)  # nothing left to do
    log = (tmp_path / "dagger" / "log.jsonl").read_text().splitlines()
    assert len(log) == 1 and json.loads(log[0])["frames"] == 40
    longer = DaggerConfig(**{**config.__dict__, "rounds": 2, "final_steps": 2})
    distill_pixel_policy(tmp_path / "expert", tmp_path / "dagger", longer)  # resumes at round 1
    distill_pixel_policy(tmp_path / "expert", tmp_path / "dagger", longer)  # all done
    log = [
        json.loads(line) for line in (tmp_path / "dagger" / "log.jsonl").read_text().splitlines()
    ]
    # rounds 0 and 1, then the final fit (logged as round -1), each evaluated once
    assert [r["round"] for r in log] == [0, 1, -1] and log[1]["frames"] == 60
    with open(tmp_path / "dagger" / "log.jsonl", "a") as f:
        f.write('{"round": 2, "be')  # a line torn by an interruption: that round is redone
    more = DaggerConfig(**{**longer.__dict__, "rounds": 3})
    distill_pixel_policy(tmp_path / "expert", tmp_path / "dagger", more)  # round 2, final again
    log = [
        json.loads(line) for line in (tmp_path / "dagger" / "log.jsonl").read_text().splitlines()
    ]
    assert [r["round"] for r in log] == [0, 1, -1, 2, -1] and log[-1]["frames"] == 80
    best = max(log, key=lambda r: r["student_mean"])
    assert (tmp_path / "dagger" / "best.zip").is_file()
    assert best["student_mean"] == max(r["student_mean"] for r in log)
    student = load_policy(tmp_path / "dagger" / "student.zip")
    assert student.observation_space.shape in ((9, 36, 36), (36, 36, 9))
    kept = sorted(p.name for p in (tmp_path / "dagger").glob("round_*.zip"))
    assert kept == ["round_00.zip", "round_01.zip", "round_02.zip"]  # each round's student
    first, second = (load_policy(tmp_path / "dagger" / k) for k in kept[:2])
    assert any(  # round 1 trained on after round 0
        not torch.equal(a, b) for a, b in zip(first.policy.parameters(), second.policy.parameters())
    )

    # A new distillation can start from an existing student (lr 0: it stays that student).
    warm = DaggerConfig(
        **{**config.__dict__, "init": str(tmp_path / "dagger" / "student.zip"), "lr": 0.0}
    )
    distill_pixel_policy(tmp_path / "expert", tmp_path / "warm", warm)
    again = load_policy(tmp_path / "warm" / "student.zip")
    for a, b in zip(student.policy.parameters(), again.policy.parameters()):
        assert torch.equal(a, b)
    wrong = DaggerConfig(**{**warm.__dict__, "size": 40})
    with pytest.raises(PolicyError, match="expected Box"):
        distill_pixel_policy(tmp_path / "expert", tmp_path / "wrong", wrong)

    # A refit: no new rounds, the student fitted again on an earlier distillation's frames.
    refit = DaggerConfig(
        **{
            **config.__dict__,
            "rounds": 0,
            "final_steps": 2,
            "shift": 0,
            "blur": 1.0,
            "init": str(tmp_path / "dagger" / "student.zip"),
            "frames_from": str(tmp_path / "dagger"),
        }
    )
    distill_pixel_policy(tmp_path / "expert", tmp_path / "refit", refit)
    distill_pixel_policy(tmp_path / "expert", tmp_path / "refit", refit)  # done: not refitted
    log = [json.loads(line) for line in (tmp_path / "refit" / "log.jsonl").read_text().splitlines()]
    assert [(r["round"], r["frames"]) for r in log] == [(-1, 80)]
    assert not list((tmp_path / "refit").glob("round_*.npz"))  # the borrowed frames stay put
    for bad, match in (
        ({"frames_from": ""}, "nothing to fit"),
        ({"frames_from": str(tmp_path / "warm" / "nothing")}, "holds no round_"),
        ({"frames_from": str(tmp_path / "refit")}, "is the output folder"),
        ({"size": 40, "init": ""}, "holds frames of shape"),
    ):
        with pytest.raises(PolicyError, match=match):
            distill_pixel_policy(
                tmp_path / "expert", tmp_path / "refit", DaggerConfig(**{**refit.__dict__, **bad})
            )


def test_expert_cli_trains_then_evaluates(tmp_path, capsys):
    from style_wrap.cli import main as cli

    assert cli(["expert", "--out", str(tmp_path / "e"), "--steps", "512", "--episodes", "1"]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "expert return" in out
    assert cli(["expert", "--out", str(tmp_path / "e"), "--eval-only", "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "wrote" not in out and out.count(",") == 1  # two episode returns
    assert cli(["expert", "--out", str(tmp_path / "none"), "--eval-only"]) == 2
    assert "none' does not exist" in capsys.readouterr().err


class _UpsideDown(gym.Wrapper):
    """Starts every episode with the cheetah on its back (pitch pi)."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        data = self.env.unwrapped.data
        qpos, qvel = data.qpos.copy(), data.qvel.copy()
        qpos[2] = np.pi
        self.env.unwrapped.set_state(qpos, qvel)
        return self.env.unwrapped._get_obs(), info


@pytest.mark.slow
def test_rollouts_end_an_episode_once_the_cheetah_flips(tmp_path):
    from style_wrap.rl.dagger import _rollout
    from style_wrap.rl.expert import StateExpert

    train_expert(tmp_path / "expert", steps=512)
    expert = StateExpert(tmp_path / "expert")
    env = _UpsideDown(gym.make("StyleWrap/HalfCheetah-v5", width=16, height=16))
    rng = np.random.default_rng(0)
    on = DaggerConfig(size=16, flip_reset=True)
    frames, actions, returns = _rollout(env, expert, None, 6, 1.0, on, rng)
    assert frames.shape == (6, 16, 16, 9) and actions.shape == (6, 6)
    assert len(returns) == 6  # every step ended an episode: each started upside down
    off = DaggerConfig(size=16, flip_reset=False)
    assert _rollout(env, expert, None, 6, 1.0, off, rng)[2] == []
    upright = gym.make("StyleWrap/HalfCheetah-v5", width=16, height=16)
    assert _rollout(upright, expert, None, 6, 1.0, on, rng)[2] == []
