from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecFrameStack

import style_wrap  # noqa: F401  (registers the envs)
from style_wrap import (
    DeviceError,
    ObservationError,
    StyleTransfer,
    Translator,
    VecStyleTransfer,
    VectorStyleTransfer,
    WeightsError,
)
from style_wrap.nets import GeneratorConfig
from style_wrap.weights import GeneratorSpec, save_generator

ENV = "StyleWrap/HalfCheetahRestyled-v5"


def _weights(tmp_path, size=32, name="g", bias=None) -> str:
    spec = GeneratorSpec(GeneratorConfig(ngf=4, n_blocks=1), size, size, "restyled", "standard")
    torch.manual_seed(0)
    net = spec.architecture.build()
    if bias is not None:  # a known generator: the last conv outputs its bias everywhere
        last = net.model[-2]
        torch.nn.init.zeros_(last.weight)
        last.bias.data = torch.tensor(bias)
    path = tmp_path / f"{name}.safetensors"
    save_generator(path, net, spec)
    return str(path)


def test_known_weights_give_the_expected_frame(tmp_path):
    bias = [0.5, -0.5, 0.0]
    env = StyleTransfer(
        gym.make(ENV, width=32, height=32), _weights(tmp_path, bias=bias), device="cpu"
    )
    obs, _ = env.reset(seed=0)
    expected = np.round((np.tanh(bias) + 1) * 127.5).astype(np.uint8)  # R, G, B in that order
    assert obs.shape == (32, 32, 3) and obs.dtype == np.uint8
    assert (obs == expected).all()


@pytest.mark.parametrize("size", [32, 64])
def test_frames_stay_in_the_space(tmp_path, size):
    env = StyleTransfer(
        gym.make(ENV, width=size, height=size), _weights(tmp_path, size), device="cpu"
    )
    assert env.observation_space == gym.make(ENV, width=size, height=size).observation_space
    obs, _ = env.reset(seed=0)
    for _ in range(3):
        assert obs in env.observation_space
        obs, *_ = env.step(env.action_space.sample())


def test_translation_is_the_generator_on_the_raw_frame(tmp_path):
    weights = _weights(tmp_path)
    raw = gym.make(ENV, width=32, height=32)
    wrapped = StyleTransfer(gym.make(ENV, width=32, height=32), weights, device="cpu")
    frame, _ = raw.reset(seed=4)
    obs, _ = wrapped.reset(seed=4)
    net = wrapped.translator.generator
    with torch.no_grad():
        x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 127.5 - 1
        ref = ((net(x) + 1) * 127.5).round().clamp(0, 255).byte()[0].permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(obs, ref)
    assert np.abs(obs.astype(int) - frame).mean() > 1  # it did change the frame


def test_dict_observation_translates_only_pixels(tmp_path):
    base = gym.make(ENV, width=32, height=32, render_mode="rgb_array")
    env = StyleTransfer(
        gym.wrappers.AddRenderObservation(base, render_only=False), _weights(tmp_path), device="cpu"
    )
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"state", "pixels"} and obs in env.observation_space
    assert obs["state"].shape == (32, 32, 3)  # the inner env's own frame, left as it was
    assert not np.array_equal(obs["pixels"], obs["state"])


def test_single_vector_and_sb3_agree_including_final_observations(tmp_path):
    # Every wrapper equals the translator applied to the same raw frames, bit for bit. Single and
    # batched paths may differ by float rounding of the batched convolution (at most one grey
    # level, in rare pixels); the two batched wrappers agree exactly with each other.
    weights = _weights(tmp_path)
    kwargs = {"width": 32, "height": 32, "max_episode_steps": 4}
    translator = Translator(weights, device="cpu")
    actions = np.random.default_rng(0).uniform(-1, 1, (4, 2, 6)).astype(np.float32)

    raw, single = [], []  # per env: frames of reset and 4 steps (the last one is the final)
    for i in range(2):
        plain, wrapped = (
            gym.make(ENV, **kwargs),
            StyleTransfer(gym.make(ENV, **kwargs), weights, device="cpu"),
        )
        raw.append([plain.reset(seed=10 + i)[0]])
        single.append([wrapped.reset(seed=10 + i)[0]])
        for t in range(4):
            raw[i].append(plain.step(actions[t, i])[0])
            obs, _, _, trunc, _ = wrapped.step(actions[t, i])
            single[i].append(obs)
        assert trunc
        for frame, out in zip(raw[i], single[i]):
            np.testing.assert_array_equal(out, translator(frame))
    raw_at = [np.stack([raw[0][t], raw[1][t]]) for t in range(5)]
    single_at = [np.stack([single[0][t], single[1][t]]).astype(int) for t in range(5)]

    vec = VectorStyleTransfer(
        gym.make_vec(
            ENV,
            2,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
            **kwargs,
        ),
        weights,
        device="cpu",
    )
    vec_frames = [vec.reset(seed=[10, 11])[0]]
    for t in range(4):
        obs, _, _, trunc, infos = vec.step(actions[t])
        vec_frames.append(obs)
    assert trunc.all()
    vec_final = np.stack(list(infos["final_obs"]))
    np.testing.assert_array_equal(vec_final, translator(raw_at[4]))
    for t in range(4):
        np.testing.assert_array_equal(vec_frames[t], translator(raw_at[t]))
        assert np.abs(vec_frames[t].astype(int) - single_at[t]).max() <= 1
    assert np.abs(vec_final.astype(int) - single_at[4]).max() <= 1

    sb3 = VecStyleTransfer(make_vec_env(ENV, 2, env_kwargs=kwargs), weights, device="cpu")
    sb3.seed(10)
    np.testing.assert_array_equal(sb3.reset(), translator(raw_at[0]))
    for t in range(4):
        obs, _, dones, infos = sb3.step(actions[t])
        if t < 3:
            np.testing.assert_array_equal(obs, translator(raw_at[t + 1]))
    assert dones.all()
    sb3_final = np.stack([info["terminal_observation"] for info in infos])
    np.testing.assert_array_equal(sb3_final, vec_final)


def test_sb3_evaluate_policy_through_the_wrapper(tmp_path):
    weights = _weights(tmp_path, 64)
    venv = make_vec_env(ENV, 1, env_kwargs={"max_episode_steps": 5})
    venv = VecFrameStack(VecStyleTransfer(venv, weights, device="cpu"), 3)
    model = PPO("CnnPolicy", venv, n_steps=8, batch_size=8, seed=0, device="cpu")
    mean, std = evaluate_policy(model, venv, n_eval_episodes=2)
    assert np.isfinite(mean) and np.isfinite(std)


def test_pickle_and_copy_reload_from_the_source(tmp_path):
    env = StyleTransfer(gym.make(ENV, width=32, height=32), _weights(tmp_path), device="cpu")
    blob = pickle.dumps(env)
    assert len(blob) < 20_000  # the weights are not in the pickle
    for clone in (pickle.loads(blob), copy.deepcopy(env)):
        a, _ = env.reset(seed=3)
        b, _ = clone.reset(seed=3)
        np.testing.assert_array_equal(a, b)
        assert clone.translator is not env.translator


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_cuda_code_path_on_cpu_half_precision_and_channels_last(tmp_path, dtype):
    # What CUDA runs (half precision, channels_last) gives the float32 frames to within rounding.
    weights = _weights(tmp_path)
    frames = gym.make(ENV, width=32, height=32).reset(seed=0)[0][None].repeat(4, 0)
    reference = Translator(weights, device="cpu")(frames).astype(int)
    cuda_like = Translator(weights, device="cpu", dtype=dtype, channels_last=True)
    assert cuda_like.memory_format == torch.channels_last
    out = cuda_like(frames).astype(int)
    assert np.abs(out - reference).max() <= 6 and np.abs(out - reference).mean() < 1.5
    same_layout = Translator(weights, device="cpu", channels_last=True)(frames).astype(int)
    assert np.abs(same_layout - reference).max() <= 1


def test_resize_option(tmp_path):
    weights = _weights(tmp_path, 32)
    with pytest.raises(ObservationError, match=r"trained on \(32, 32, 3\).*resize=True"):
        StyleTransfer(gym.make(ENV, width=48, height=48), weights, device="cpu")
    env = StyleTransfer(gym.make(ENV, width=48, height=48), weights, device="cpu", resize=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (48, 48, 3) and obs in env.observation_space


def test_bad_inputs(tmp_path):
    weights = _weights(tmp_path)
    with pytest.raises(ObservationError, match="expected an HWC uint8 image"):
        StyleTransfer(gym.make("HalfCheetah-v5"), weights, device="cpu")  # state observations
    float_frames = gym.wrappers.TransformObservation(
        gym.make(ENV, width=32, height=32),
        lambda o: o.astype(np.float32),
        gym.spaces.Box(0, 255, (32, 32, 3), np.float32),
    )
    with pytest.raises(ObservationError, match="expected an HWC uint8"):
        StyleTransfer(float_frames, weights, device="cpu")
    with pytest.raises(WeightsError, match="neither a file nor a shipped model"):
        StyleTransfer(gym.make(ENV), tmp_path / "nope.safetensors", device="cpu")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage" * 10)
    with pytest.raises(WeightsError, match="bad.safetensors"):
        StyleTransfer(gym.make(ENV), tmp_path / "bad.safetensors", device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="'cuda' was asked for but CUDA is not available"):
            StyleTransfer(gym.make(ENV, width=32, height=32), weights, device="cuda")
    with pytest.raises(DeviceError, match="dtype 'float8'"):
        Translator(weights, device="cpu", dtype="float8")
    with pytest.raises(DeviceError, match="device 'tpu'"):
        Translator(weights, device="tpu")
    translator = Translator(weights, device="cpu")
    with pytest.raises(ObservationError, match="dtype float64"):
        translator(np.zeros((32, 32, 3)))
    with pytest.raises(ObservationError, match=r"shape \(32, 32, 4\)"):
        translator(np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(ObservationError, match="expected"):
        translator(np.zeros((2, 2, 32, 32, 3), np.uint8))


def test_weights_of_another_look_warn_and_render_can_show_the_translation():
    import warnings

    from style_wrap import StyleTransfer

    with pytest.warns(UserWarning, match="draws the 'standard' look"):
        StyleTransfer(gym.make("StyleWrap/HalfCheetah-v5"), "halfcheetah-restyled-to-standard")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right look: no warning
        raw = gym.make("StyleWrap/HalfCheetahRestyled-v5", render_mode="rgb_array")
        env = StyleTransfer(raw, "halfcheetah-restyled-to-standard", render_translated=True)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(env.render(), obs)  # what RecordVideo records: what it sees
    plain = StyleTransfer(raw, "halfcheetah-restyled-to-standard")
    assert not np.array_equal(plain.render(), obs)
