from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from style_wrap import DataError, ObservationError
from style_wrap.cli import main as cli
from style_wrap.io import atomic_path
from style_wrap.rl.policies import PolicyError
from style_wrap.spaces import image_key
from style_wrap.train.collect import collect
from style_wrap.train.data import MANIFEST, load_frames, save_frames

SMALL = {"width": 16, "height": 16}


def test_collect_appends_and_records_state(tmp_path):
    out = tmp_path / "d"
    collect(
        "StyleWrap/HalfCheetahRestyled-v5", 5, out, env_kwargs=SMALL, shard_size=2, progress=False
    )
    collect("StyleWrap/HalfCheetahRestyled-v5", 3, out, env_kwargs=SMALL, seed=1, progress=False)
    data = load_frames(out)
    assert data.frames.shape == (8, 16, 16, 3) and data.frames.dtype == np.uint8
    assert data.qpos.shape == (8, 9) and data.qvel.shape == (8, 9)
    assert [s["frames"] for s in data.manifest["shards"]] == [2, 2, 1, 3]
    assert data.name == "StyleWrap/HalfCheetahRestyled-v5"
    # each frame is the render of its recorded state
    from style_wrap import render_state

    np.testing.assert_array_equal(
        render_state("restyled", data.qpos[4], width=16, height=16), data.frames[4]
    )


def test_collect_is_seeded(tmp_path):
    for name in ("a", "b"):
        collect(
            "StyleWrap/HalfCheetah-v5",
            4,
            tmp_path / name,
            env_kwargs=SMALL,
            seed=3,
            every=2,
            progress=False,
        )
    np.testing.assert_array_equal(
        load_frames(tmp_path / "a").qpos, load_frames(tmp_path / "b").qpos
    )


def test_collect_cli_with_env_kwargs(tmp_path, capsys):
    code = cli(
        [
            "collect",
            "--env",
            "StyleWrap/HalfCheetahRandomized-v5",
            "--frames",
            "3",
            "--out",
            str(tmp_path / "r"),
            "--env-kwarg",
            "style_seed=4",
            "--env-kwarg",
            "width=16",
            "--env-kwarg",
            "height=16",
        ]
    )
    assert code == 0
    assert json.loads((tmp_path / "r" / MANIFEST).read_text())["env_kwargs"]["style_seed"] == 4
    assert "3 frames of [16, 16, 3]" in capsys.readouterr().out


def test_collect_with_a_stacked_frame_policy(tmp_path):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecFrameStack

    size = {"width": 36, "height": 36}
    venv = VecFrameStack(make_vec_env("StyleWrap/HalfCheetah-v5", 1, env_kwargs=size), 3)
    PPO("CnnPolicy", venv, n_steps=8, batch_size=8, device="cpu").save(
        tmp_path / "pixel_policy.zip"
    )
    collect(
        "StyleWrap/HalfCheetah-v5",
        4,
        tmp_path / "d",
        env_kwargs=size,
        policy=str(tmp_path / "pixel_policy.zip"),
        progress=False,
    )
    assert load_frames(tmp_path / "d").frames.shape == (4, 36, 36, 3)


def test_collect_along_a_state_expert(tmp_path):
    from style_wrap.rl.expert import train_expert
    from style_wrap.rl.policies import PolicyError

    expert = train_expert(tmp_path / "expert", steps=512)
    kwargs = dict(env_kwargs=SMALL, seed=3, progress=False)
    collect("StyleWrap/HalfCheetahRestyled-v5", 12, tmp_path / "e", policy=str(expert), **kwargs)
    collect("StyleWrap/HalfCheetahRestyled-v5", 12, tmp_path / "r", **kwargs)
    by_expert, by_random = load_frames(tmp_path / "e"), load_frames(tmp_path / "r")
    assert by_expert.frames.shape == (12, 16, 16, 3) and by_expert.qpos.shape == (12, 9)
    # same seed, same first state; the actions, and so the states after it, differ
    np.testing.assert_array_equal(by_expert.qpos[0], by_random.qpos[0])
    assert not np.allclose(by_expert.qpos[1:], by_random.qpos[1:])
    (expert / "vecnormalize.npz").unlink()
    with pytest.raises(PolicyError, match="no vecnormalize.npz"):
        collect("StyleWrap/HalfCheetah-v5", 2, tmp_path / "x", policy=str(expert), **kwargs)


def test_dict_observation_with_pixels(tmp_path):
    env = gym.wrappers.AddRenderObservation(
        gym.make("StyleWrap/HalfCheetah-v5", render_mode="rgb_array", **SMALL), render_only=False
    )
    assert image_key(env.observation_space) == "pixels"
    gym.register("Test/PixelsDict-v0", entry_point=lambda: env)
    collect("Test/PixelsDict-v0", 2, tmp_path / "p", progress=False)
    assert load_frames(tmp_path / "p").frames.shape == (2, 16, 16, 3)


def test_rejects_non_image_envs_and_mixed_sizes(tmp_path):
    with pytest.raises(ObservationError, match="expected an HWC uint8 image"):
        collect("Pendulum-v1", 2, tmp_path / "x", progress=False)
    out = tmp_path / "d"
    save_frames(out, np.zeros((2, 8, 8, 3), np.uint8), name="x")
    with pytest.raises(DataError, match="same frame size"):
        save_frames(out, np.zeros((2, 16, 16, 3), np.uint8), name="x")
    with pytest.raises(DataError, match="expected uint8"):
        save_frames(tmp_path / "f", np.zeros((2, 8, 8, 3), np.float32), name="x")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        save_frames(tmp_path / "junk", np.zeros((1, 8, 8, 3), np.uint8), name="x")


def test_interrupted_write_leaves_nothing_a_reader_takes(tmp_path):
    out = tmp_path / "d"
    save_frames(out, np.full((3, 8, 8, 3), 7, np.uint8), name="x")
    before = (out / MANIFEST).read_text()
    with pytest.raises(RuntimeError):
        with atomic_path(out / "shard-00001.npz") as tmp:
            tmp.write_bytes(b"half a shard")
            raise RuntimeError("killed mid-write")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "shard-00000.npz"]
    assert (out / MANIFEST).read_text() == before
    assert len(load_frames(out)) == 3


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    import os

    from style_wrap.io import atomic_write_bytes

    atomic_write_bytes(tmp_path / "f.bin", b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o666 & ~umask


def test_corrupt_and_inconsistent_shards(tmp_path):
    out = tmp_path / "d"
    save_frames(out, np.zeros((3, 8, 8, 3), np.uint8), name="x")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["shards"][0]["frames"] = 5
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="3 frames; the manifest says 5"):
        load_frames(out)
    (out / MANIFEST).write_text("{not json")
    with pytest.raises(DataError, match="unreadable manifest"):
        load_frames(out)


def test_collect_records_each_frames_step_in_its_episode(tmp_path):
    kwargs = dict(env_kwargs={**SMALL, "max_episode_steps": 3}, progress=False)
    collect("StyleWrap/HalfCheetah-v5", 7, tmp_path / "all", **kwargs)
    data = load_frames(tmp_path / "all")
    assert data.steps.tolist() == [0, 1, 2, 0, 1, 2, 0]  # an episode is 3 steps, then a reset
    assert data.stack_ends(3).tolist() == [2, 5]  # full stacks never cross a reset
    collect("StyleWrap/HalfCheetah-v5", 3, tmp_path / "sparse", every=2, **kwargs)
    sparse = load_frames(tmp_path / "sparse")
    assert sparse.steps.tolist() == [0, 2, 1]  # kept with every 2 (one reset between)...
    assert len(sparse.stack_ends(2)) == 0  # ...and never a stack: not consecutive steps
    save_frames(tmp_path / "saved", np.zeros((4, 8, 8, 3), np.uint8), name="saved")
    saved = load_frames(tmp_path / "saved")
    assert saved.steps.tolist() == [-1] * 4 and len(saved.stack_ends(1)) == 0


def test_collect_with_a_pixel_policy_seeing_through_a_translator(tmp_path):
    policy = "halfcheetah-pixel-policy"  # a shipped policy's name is found like a path
    kwargs = dict(env_kwargs={"width": 64, "height": 64}, seed=5, policy=policy, progress=False)
    env = "StyleWrap/HalfCheetahRestyled-v5"
    collect(env, 6, tmp_path / "raw", **kwargs)
    collect(env, 6, tmp_path / "loop", translator="halfcheetah-restyled-to-standard", **kwargs)
    raw, loop = load_frames(tmp_path / "raw"), load_frames(tmp_path / "loop")
    # the stored frames are the env's own (same first frame), the actions came from other pixels
    np.testing.assert_array_equal(raw.frames[0], loop.frames[0])
    assert not np.allclose(raw.qpos[1:], loop.qpos[1:])
    with pytest.raises(DataError, match="expected a pixel policy"):
        collect(env, 2, tmp_path / "x", translator="halfcheetah-restyled-to-standard")
    small = {**kwargs, "env_kwargs": SMALL}  # 16x16 frames for a 64x64 policy and translator
    with pytest.raises(PolicyError, match="reads 64x64 frames; expected 16x16"):
        collect(env, 2, tmp_path / "y", translator="halfcheetah-restyled-to-standard", **small)


def test_deterministic_collection_replays_the_policy_mean_action(tmp_path):
    env = "StyleWrap/HalfCheetahRestyled-v5"
    policy = "halfcheetah-pixel-policy.zip"  # the shipped policy, by its file name
    kwargs = dict(env_kwargs={"width": 64, "height": 64}, seed=5, policy=policy)
    for name in ("a", "b"):
        collect(env, 8, tmp_path / name, deterministic=True, progress=False, **kwargs)
    collect(env, 8, tmp_path / "c", progress=False, **kwargs)  # sampled actions
    a, b, c = (load_frames(tmp_path / n).qpos for n in "abc")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[0], c[0])  # same first state: only the actions differ
    assert not np.allclose(a[1:], c[1:])
    argv = ["collect", "--env", env, "--frames", "8", "--seed", "5", "--out", str(tmp_path / "e")]
    argv += ["--policy", policy, "--deterministic"]
    assert cli([*argv, "--env-kwarg", "width=64", "--env-kwarg", "height=64"]) == 0
    np.testing.assert_array_equal(load_frames(tmp_path / "e").qpos, a)
    with pytest.raises(DataError, match="deterministic=True with policy 'random'"):
        collect(env, 2, tmp_path / "x", deterministic=True, env_kwargs=SMALL)


class _UpsideDown(gym.Wrapper):
    """Starts every episode with the cheetah on its back (pitch pi)."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        data = self.env.unwrapped.data
        qpos = data.qpos.copy()
        qpos[2] = np.pi
        self.env.unwrapped.set_state(qpos, data.qvel.copy())
        return self.env.unwrapped._get_obs(), info


def test_flip_reset_ends_episodes_of_a_cheetah_on_its_back(tmp_path, capsys):
    env_id = "StyleWrapTest/UpsideDownCheetah-v0"
    if env_id not in gym.registry:
        gym.register(env_id, lambda **kw: _UpsideDown(gym.make("StyleWrap/HalfCheetah-v5", **kw)))
    kwargs = dict(env_kwargs=SMALL, progress=False)
    collect(env_id, 4, tmp_path / "flip", flip_reset=True, **kwargs)
    assert load_frames(tmp_path / "flip").steps.tolist() == [0, 0, 0, 0]  # one step an episode
    collect(env_id, 4, tmp_path / "keep", **kwargs)
    assert load_frames(tmp_path / "keep").steps.tolist() == [0, 1, 2, 3]
    upright = ["collect", "--env", "StyleWrap/HalfCheetah-v5", "--frames", "3", "--flip-reset"]
    assert (
        cli(
            [
                *upright,
                "--out",
                str(tmp_path / "up"),
                "--env-kwarg",
                "width=16",
                "--env-kwarg",
                "height=16",
            ]
        )
        == 0
    )
    assert load_frames(tmp_path / "up").steps.tolist() == [0, 1, 2]
