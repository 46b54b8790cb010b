from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import style_wrap
from style_wrap import StyleError
from style_wrap.envs import CheetahPixelEnv, render_state
from style_wrap.envs.mjcf import _base_xml


def _rollout(env_id: str, steps: int = 40, **kwargs):
    env = gym.make(env_id, **kwargs)
    obs, _ = env.reset(seed=3)
    env.action_space.seed(3)
    actions = [env.action_space.sample() for _ in range(steps)]
    frames, qpos, rewards, infos = [obs], [env.unwrapped.data.qpos.copy()], [], []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        assert obs in env.observation_space
        frames.append(obs)
        qpos.append(env.unwrapped.data.qpos.copy())
        rewards.append(r)
        infos.append(info)
    env.close()
    return np.stack(frames), np.stack(qpos), np.array(rewards), infos


@pytest.mark.parametrize("env_id", list(style_wrap.ENV_IDS))
def test_check_env(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped)
    assert env.spec.max_episode_steps == 1000
    env.close()


def test_same_physics_different_pixels():
    f_std, q_std, r_std, i_std = _rollout("StyleWrap/HalfCheetah-v5")
    f_res, q_res, r_res, i_res = _rollout("StyleWrap/HalfCheetahRestyled-v5")
    np.testing.assert_array_equal(q_std, q_res)
    np.testing.assert_array_equal(r_std, r_res)
    assert i_std == i_res
    assert np.abs(f_std.astype(int) - f_res.astype(int)).mean() > 20


def test_physics_and_reward_equal_gymnasiums_half_cheetah():
    _, q_ours, r_ours, i_ours = _rollout("StyleWrap/HalfCheetahRestyled-v5")
    env = gym.make("HalfCheetah-v5")
    env.reset(seed=3)
    env.action_space.seed(3)
    actions = [env.action_space.sample() for _ in range(40)]
    q, r, infos = [env.unwrapped.data.qpos.copy()], [], []
    for a in actions:
        _, rew, _, _, info = env.step(a)
        q.append(env.unwrapped.data.qpos.copy())
        r.append(rew)
        infos.append(info)
    np.testing.assert_array_equal(np.stack(q), q_ours)
    np.testing.assert_array_equal(np.array(r), r_ours)
    assert infos == i_ours


def test_physical_geometry_changes_the_trajectory():
    _, q_std, _, _ = _rollout("StyleWrap/HalfCheetah-v5")
    _, q_phys, _, _ = _rollout("StyleWrap/HalfCheetahRestyled-v5", physical_geometry=True)
    assert np.abs(q_std - q_phys).max() > 1e-3


def test_randomized_seeds():
    a, _, _, _ = _rollout("StyleWrap/HalfCheetahRandomized-v5", steps=3, style_seed=4)
    b, _, _, _ = _rollout("StyleWrap/HalfCheetahRandomized-v5", steps=3, style_seed=4)
    c, _, _, _ = _rollout("StyleWrap/HalfCheetahRandomized-v5", steps=3, style_seed=5)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 5


@pytest.mark.parametrize(("width", "height"), [(64, 64), (84, 84), (96, 48)])
def test_frame_size_and_rgb_array(width, height):
    env = gym.make("StyleWrap/HalfCheetah-v5", width=width, height=height, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (height, width, 3) and obs.dtype == np.uint8
    np.testing.assert_array_equal(env.render(), obs)
    env.close()


def test_render_state_matches_the_env_frame():
    env = gym.make("StyleWrap/HalfCheetahRestyled-v5")
    env.reset(seed=1)
    for _ in range(5):
        obs, *_ = env.step(env.action_space.sample())
    data = env.unwrapped.data
    np.testing.assert_array_equal(render_state("restyled", data.qpos, data.qvel), obs)
    np.testing.assert_array_equal(env.unwrapped.render_state(data.qpos, data.qvel), obs)
    env.close()


def test_standard_look_matches_gymnasiums_model_pixels():
    import mujoco

    model = mujoco.MjModel.from_xml_string(_base_xml())
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    with mujoco.Renderer(model, 64, 64) as renderer:
        renderer.update_scene(data, "track")
        theirs = renderer.render()
    ours = render_state("standard", data.qpos, render_profile="stock")
    np.testing.assert_array_equal(ours, theirs)


def test_pickle_round_trip():
    env = CheetahPixelEnv("randomized", style_seed=9, width=32, height=32)
    clone = pickle.loads(pickle.dumps(env))
    assert clone.style == env.style and clone.observation_space == env.observation_space
    a, _ = env.reset(seed=0)
    b, _ = clone.reset(seed=0)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"width": 0}, "width = 0"),
        ({"height": -5}, "height = -5"),
        ({"width": 64.5}, "width = 64.5"),
        ({"style": "cartoon"}, "unknown domain 'cartoon'"),
        ({"style": {"thickness": -2}}, "'thickness' = -2"),
        ({"style": {"shape": 1}}, "unknown style field 'shape'"),
        ({"render_mode": "human"}, "render_mode = 'human'"),
        ({"render_profile": "ultra"}, "render profile 'ultra'"),
        ({"camera_name": "nope"}, "camera 'nope'"),
    ],
)
def test_bad_env_arguments(kwargs, needle):
    with pytest.raises(StyleError, match=needle):
        CheetahPixelEnv(**kwargs)


def test_bad_state_shape():
    with pytest.raises(StyleError, match=r"qpos \(3,\)"):
        render_state("standard", np.zeros(3))
