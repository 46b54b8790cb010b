"""The temporal generator: it reads the previous frame and its own previous output; the
translator and the three wrappers keep that history per stream and forget it where an episode
starts; training walks episodes with it and resumes exactly."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers import SCHEMES, pose_weights

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap import ConfigError, DataError, StyleTransfer, VectorStyleTransfer
from style_wrap.nets import GeneratorConfig, ResnetGenerator, temporal_input, temporal_state
from style_wrap.train.config import TrainConfig
from style_wrap.train.data import save_frames
from style_wrap.train.loop import CHECKPOINT, EXPORTS, _init_states, train
from style_wrap.translator import History, Translator
from style_wrap.weights import GeneratorSpec, load_generator, read_spec, save_generator

TINY = dict(ngf=4, n_blocks=1, ndf=8, batch_size=3, progress=False, log_every=1, sample_every=0)


def _temporal_weights(path, size=64, seed=0, kind="resnet") -> str:
    """A random temporal generator whose history weights are not zero (it reads the history);
    ``kind="pose"``: a random translator through the pose, temporal too."""
    if kind == "pose":
        return pose_weights(path, size, seed)
    spec = GeneratorSpec(
        GeneratorConfig(ngf=4, n_blocks=1, temporal=True), size, size, "restyled", "standard"
    )
    torch.manual_seed(seed)
    net = spec.architecture.build()
    with torch.no_grad():
        net.model[1].weight.normal_(0, 0.3)  # strong enough that the history shows in uint8
    save_generator(path, net, spec)
    return str(path)


def _episodes(scheme: str, n_episodes: int, length: int, size: int = 16, seed: int = 0):
    """Frames of a bar moving one pixel right per step, episodes from random starts, in a
    scheme's colours; qpos holds the bar's x (like the cheetah's, what one frame shows only up to
    the bar's position), steps each frame's step."""
    rng = np.random.default_rng(seed)
    fg, bg = (np.array(c, np.uint8) for c in SCHEMES[scheme])
    frames, qpos, steps = [], [], []
    for _ in range(n_episodes):
        x0 = int(rng.integers(0, size - length - 3))
        for t in range(length):
            mask = np.zeros((size, size), bool)
            mask[4:12, x0 + t : x0 + t + 3] = True
            frames.append(np.where(mask[..., None], fg, bg).astype(np.uint8))
            qpos.append([x0 + t, 0.0])
            steps.append(t)
    return np.stack(frames), np.array(qpos, float), np.array(steps)


def _episode_domains(root, n_episodes=4, length=6):
    a, b = str(root / "A"), str(root / "B")
    for folder, scheme, seed in ((a, "A", 1), (b, "B", 2)):
        frames, qpos, steps = _episodes(scheme, n_episodes, length, seed=seed)
        save_frames(folder, frames, name=scheme, qpos=qpos, qvel=np.zeros_like(qpos), steps=steps)
    return a, b


def test_a_widened_per_frame_generator_translates_as_before_whatever_the_history():
    g = ResnetGenerator(ngf=4, n_blocks=1)
    t = ResnetGenerator(ngf=4, n_blocks=1, temporal=True)
    t.load_state_dict(temporal_state(g.state_dict()))
    x, past, out = (torch.rand(2, 3, 16, 16) * 2 - 1 for _ in range(3))
    with torch.no_grad():
        expected = g(x)
        for history in ((None, None, None), (past, out, torch.tensor([True, False]))):
            torch.testing.assert_close(t(temporal_input(x, *history)), expected)


@pytest.mark.parametrize("kind", ["resnet", "pose"])
def test_the_translator_reads_and_keeps_each_rows_history(tmp_path, kind):
    translator = Translator(_temporal_weights(tmp_path / "t.safetensors", kind=kind), "cpu")
    assert translator.temporal and read_spec(translator.weights).architecture.temporal
    env = gym.make("StyleWrap/HalfCheetahRestyled-v5")
    frames = [env.reset(seed=0)[0]]
    for action in np.random.default_rng(0).uniform(-1, 1, (3, 6)).astype(np.float32):
        frames.append(env.step(action)[0])
    frames = np.stack(frames)
    history = History()
    first = translator(frames[:2], history)
    np.testing.assert_array_equal(first, translator(frames[:2]))  # no history: all starts
    second = translator(frames[2:], history)
    assert np.abs(second.astype(int) - translator(frames[2:]).astype(int)).max() > 2
    history.forget([1])  # row 1 starts an episode: translated as with no history
    third = translator(frames[2:], history)
    alone = translator(frames[3])  # a frame alone and in a batch: within a grey level
    assert np.abs(third[1].astype(int) - alone.astype(int)).max() <= 1
    assert not np.array_equal(third[0], translator(frames[2:3])[0])
    # One stream of two episodes, frame by frame, equals translate_episodes.
    starts = np.array([True, False, True, False])
    stream, expected = History(), []
    for frame, start in zip(frames, starts):
        if start:
            stream.forget()
        expected.append(translator(frame, stream))
    np.testing.assert_array_equal(translator.translate_episodes(frames, starts), expected)


def _raw_episodes(make, actions, seed):
    """The raw frames of an env driven by ``actions`` from ``reset(seed)``, and episode starts."""
    env = make()
    frames, starts = [env.reset(seed=seed)[0]], [True]
    for action in actions:
        obs, _, term, trunc, _ = env.step(action)
        if term or trunc:
            frames.append(obs)  # the last frame of the episode, then a new one
            starts.append(False)
            obs, _ = env.reset()
            frames.append(obs)
            starts.append(True)
        else:
            frames.append(obs)
            starts.append(False)
    return np.stack(frames), np.array(starts)


@pytest.mark.parametrize("kind", ["resnet", "pose"])
def test_style_transfer_forgets_the_history_at_reset(tmp_path, kind):
    weights = _temporal_weights(tmp_path / "t.safetensors", kind=kind)
    translator = Translator(weights, device="cpu")

    def make():
        return gym.make("StyleWrap/HalfCheetahRestyled-v5", max_episode_steps=4)

    actions = np.random.default_rng(0).uniform(-1, 1, (9, 6)).astype(np.float32)
    raw, starts = _raw_episodes(make, actions, seed=3)
    expected = translator.translate_episodes(raw, starts)
    env = StyleTransfer(make(), weights, device="cpu")
    seen = [env.reset(seed=3)[0]]
    for action in actions:
        obs, _, term, trunc, _ = env.step(action)
        seen.append(obs)
        if term or trunc:
            seen.append(env.reset()[0])
    np.testing.assert_array_equal(np.stack(seen), expected)
    # Temporal: the same frames out of context come out otherwise.
    assert not np.array_equal(expected[2], translator(raw[2]))


@pytest.mark.parametrize("mode", ["next", "same"])
@pytest.mark.parametrize("kind", ["resnet", "pose"])
def test_vector_style_transfer_keeps_one_history_per_sub_env(tmp_path, mode, kind):
    weights = _temporal_weights(tmp_path / "t.safetensors", size=32, kind=kind)
    translator = Translator(weights, device="cpu")
    lengths, steps = (3, 4), 9
    actions = np.random.default_rng(1).uniform(-1, 1, (steps, 2, 6)).astype(np.float32)
    kwargs = dict(width=32, height=32)
    expected = []
    for i, length in enumerate(lengths):

        def make(length=length):
            return gym.make("StyleWrap/HalfCheetahRestyled-v5", max_episode_steps=length, **kwargs)

        raw, starts = _raw_episodes(make, actions[:, i], seed=10 + i)
        expected.append(translator.translate_episodes(raw, starts))
    autoreset = {
        "next": gym.vector.AutoresetMode.NEXT_STEP,
        "same": gym.vector.AutoresetMode.SAME_STEP,
    }
    envs = gym.vector.SyncVectorEnv(
        [
            (
                lambda n=n: gym.make(
                    "StyleWrap/HalfCheetahRestyled-v5", max_episode_steps=n, **kwargs
                )
            )
            for n in lengths
        ],
        autoreset_mode=autoreset[mode],
    )
    envs = VectorStyleTransfer(envs, weights, device="cpu")
    obs, _ = envs.reset(seed=[10, 11])
    seen = [[obs[0]], [obs[1]]]
    for k in range(steps):
        obs, _, term, trunc, infos = envs.step(actions[k])
        for i in range(2):
            if mode == "same" and (term[i] or trunc[i]):  # the last frame, then the reset one
                seen[i].append(infos["final_obs"][i])
            seen[i].append(obs[i])
    if mode == "same":
        for i in range(2):
            np.testing.assert_array_equal(np.stack(seen[i]), expected[i][: len(seen[i])])
    else:  # NEXT_STEP spends a step (and its action) on each reset: up to the first new episode
        for i in range(2):
            got, want = np.stack(seen[i]), expected[i]
            np.testing.assert_array_equal(got[: lengths[i] + 2], want[: lengths[i] + 2])


@pytest.mark.parametrize("kind", ["resnet", "pose"])
def test_vec_style_transfer_keeps_one_history_per_sub_env(tmp_path, kind):
    from stable_baselines3.common.vec_env import DummyVecEnv

    from style_wrap import VecStyleTransfer

    weights = _temporal_weights(tmp_path / "t.safetensors", size=32, kind=kind)
    translator = Translator(weights, device="cpu")
    lengths, steps = (3, 4), 9
    actions = np.random.default_rng(2).uniform(-1, 1, (steps, 2, 6)).astype(np.float32)
    kwargs = dict(width=32, height=32)
    makers = [
        (lambda n=n: gym.make("StyleWrap/HalfCheetahRestyled-v5", max_episode_steps=n, **kwargs))
        for n in lengths
    ]
    expected = [
        translator.translate_episodes(*_raw_episodes(makers[i], actions[:, i], seed=20 + i))
        for i in range(2)
    ]
    venv = DummyVecEnv(makers)
    venv.seed(20)
    venv = VecStyleTransfer(venv, weights, device="cpu")
    obs = venv.reset()
    seen = [[obs[0]], [obs[1]]]
    for k in range(steps):
        obs, _, dones, infos = venv.step(actions[k])
        for i in range(2):
            if dones[i]:
                seen[i].append(infos[i]["terminal_observation"])
            seen[i].append(obs[i])
    for i in range(2):
        np.testing.assert_array_equal(np.stack(seen[i]), expected[i][: len(seen[i])])


def test_temporal_training_walks_episodes_and_learns_to_read_the_history(tmp_path):
    a, b = _episode_domains(tmp_path)
    cfg = TrainConfig(
        domain_a=a, domain_b=b, out=str(tmp_path), name="t", iters=12, temporal=True, **TINY
    )
    run = train(cfg)
    g_ab, spec = load_generator(run / EXPORTS["g_ab"])
    g_ba, back = load_generator(run / EXPORTS["g_ba"])
    assert spec.architecture.temporal and not back.architecture.temporal
    # The history's weights (zero would be a generator that ignores it) have been trained.
    first = g_ab.model[1].weight
    assert first.shape[1] == 9 and first[:, 3:].abs().sum() > 0
    streams = torch.load(run / CHECKPOINT, weights_only=True)["samplers"]["streams"]
    assert streams["outputs"].shape == (3, 3, 16, 16)


def test_temporal_training_resumes_where_an_uninterrupted_run_ends(tmp_path):
    a, b = _episode_domains(tmp_path)
    # A constant learning rate (decay_start 1), so that 4 iterations and then 6 more, resumed
    # with a longer --iters, are the same run as 10 at once.
    base = dict(domain_a=a, domain_b=b, out=str(tmp_path), temporal=True, pool_size=0, **TINY)
    base.update(decay_start=1.0)
    straight = train(TrainConfig(name="straight", iters=10, **base))
    train(TrainConfig(name="broken", iters=4, **base))
    broken = train(TrainConfig(name="broken", iters=10, resume=True, **base), given={"iters"})
    assert torch.load(broken / CHECKPOINT, weights_only=True)["model"]["step"] == 10
    s1 = torch.load(straight / CHECKPOINT, weights_only=True)
    s2 = torch.load(broken / CHECKPOINT, weights_only=True)
    assert torch.equal(s1["samplers"]["streams"]["position"], s2["samplers"]["streams"]["position"])
    for key, value in s1["model"]["g_ab"].items():
        assert torch.equal(value, s2["model"]["g_ab"][key]), key


def test_streams_walk_episodes_and_a_horizon_restarts_them_sooner():
    from style_wrap.train.sampling import EpisodeStreams

    steps = torch.arange(200).repeat(3)  # three episodes of 200 steps
    restarts = {}
    for horizon in (0, 10):
        streams = EpisodeStreams(steps, 8, seed=0, horizon=horizon)
        index, started = streams.next()
        assert not started.any() and (steps[index] == 0).all()  # all start at a first frame
        count = 0
        for _ in range(400):
            before = index
            index, started = streams.next()
            assert (steps[index[~started]] == 0).all()  # a restart is at an episode's start
            assert (index[started] == before[started] + 1).all()  # the others walk one step
            count += int((~started).sum())
        restarts[horizon] = count
    assert restarts[0] <= 8 * 2  # whole episodes: only where one ends (twice in 400 steps)
    assert restarts[10] > 5 * restarts[0]  # about one in ten steps


def test_a_per_frame_generator_warm_starts_a_temporal_one(tmp_path):
    spec = GeneratorSpec(GeneratorConfig(ngf=4, n_blocks=1), 16, 16, "A", "B")
    path = tmp_path / "g.safetensors"
    save_generator(path, spec.architecture.build(), spec)
    cfg = TrainConfig(domain_a="a", domain_b="b", temporal=True, init_g_ab=str(path), **TINY)
    state = _init_states(cfg, ("A", "B"))["g_ab"]
    net = cfg.generator_ab.build()
    net.load_state_dict(state)
    per_frame, _ = load_generator(path)
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(net(temporal_input(x, -x, x)), per_frame(x))
    with pytest.raises(ConfigError, match="temporal"):  # a temporal file cannot start a plain G
        _init_states(
            cfg.replace(temporal=False, init_g_ab=_temporal_weights(tmp_path / "t", 16)), ("A", "B")
        )


def test_temporal_settings_and_data_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="temporal = true and lambda_policy = 1.0"):
        TrainConfig(temporal=True, lambda_policy=1.0, policy="p", policy_expert="e")
    a, b = _episode_domains(tmp_path)
    frames, _, _ = _episodes("A", 2, 5)
    save_frames(tmp_path / "nosteps", frames, name="A")  # frames without their steps
    cfg = TrainConfig(
        domain_a=str(tmp_path / "nosteps"),
        domain_b=b,
        out=str(tmp_path / "r"),
        temporal=True,
        iters=2,
        **TINY,
    )
    with pytest.raises(DataError, match="temporal = true needs whole episodes"):
        train(cfg)
    assert not (tmp_path / "r").exists()
    with pytest.raises(DataError, match=r"steps of dtype int64 and shape \(3,\)"):
        save_frames(tmp_path / "bad", frames, name="A", steps=np.arange(3))


def _phase(angle: torch.Tensor, present: float = 1.0) -> torch.Tensor:
    return present * torch.stack([torch.sin(angle), torch.cos(angle)], 1)


def test_floor_motion_term_scores_the_floors_motion_not_its_absolute_phase():
    from style_wrap.train.losses import floor_motion_loss

    g = torch.Generator().manual_seed(0)
    true_now, step = torch.rand(6, generator=g) * 6, torch.rand(6, generator=g) + 0.3
    target, target_before = _phase(true_now), _phase(true_now - step)
    drawn_before = torch.rand(6, generator=g) * 6  # any absolute phase at all
    started = torch.ones(6, dtype=torch.bool)
    moved = floor_motion_loss(
        _phase(drawn_before + step), _phase(drawn_before), target, target_before, started
    )
    assert float(moved) < 1e-6
    # A floor that stands still (or jumps) while the source moves: |1 - e^(i step)|^2 per row.
    frozen = floor_motion_loss(
        _phase(drawn_before), _phase(drawn_before), target, target_before, started
    )
    assert float(frozen) == pytest.approx(float((2 - 2 * torch.cos(step)).mean()), rel=1e-4)
    # A faint floor pays for presence; with no history the motion does not count.
    faint = floor_motion_loss(
        _phase(drawn_before + step, 0.5), _phase(drawn_before), target, target_before, ~started
    )
    assert float(faint) == pytest.approx(0.25, rel=1e-4)
    # Past the floor's end (targets 0) any floor drawn is wrong.
    none = torch.zeros(6, 2)
    assert float(floor_motion_loss(none, _phase(drawn_before), none, none, started)) < 1e-6
    assert float(floor_motion_loss(_phase(drawn_before), none, none, none, ~started)) > 0.9


def test_the_floor_motion_term_trains_a_temporal_generator_and_is_checked(tmp_path):
    a, b = _episode_domains(tmp_path)
    settings = dict(
        lambda_pose=1.0,
        floor_period_a=4.0,
        floor_period_b=6.0,
        pose_steps=2,
        pose_width=4,
        floor_extent=100.0,
    )
    cfg = TrainConfig(
        domain_a=a,
        domain_b=b,
        out=str(tmp_path),
        name="m",
        iters=3,
        temporal=True,
        lambda_floor_motion=2.0,
        **settings,
        **TINY,
    )
    run = train(cfg)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    motion = [r["floor_motion"] for r in records if "D_A" in r]
    assert len(motion) == 3 and all(np.isfinite(motion)) and max(motion) > 0
    with pytest.raises(ConfigError, match="lambda_floor_motion = 2.0 scores the floor's motion"):
        cfg.replace(temporal=False)
    with pytest.raises(ConfigError, match="lambda_floor_motion = 2.0"):
        TrainConfig(domain_a=a, domain_b=b, temporal=True, lambda_floor_motion=2.0, **TINY)
    with pytest.raises(ConfigError, match="lambda_floor_motion"):
        cfg.replace(lambda_floor_motion=-1.0)
