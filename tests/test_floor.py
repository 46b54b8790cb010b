"""The floor-aware translator: the camera's steps read from a tracking camera's own frames,
the ground-plane waves that slide with its floor, a generator that reads them (at run time, per
stream, through the wrappers' history) and its training option."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from test_temporal import TINY, _episode_domains, _episodes

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap import ConfigError, Translator
from style_wrap.envs import render_state
from style_wrap.floor import camera_track, floor_features, warp_rows
from style_wrap.nets import FLOOR_PERIODS, GeneratorConfig, to_model_input
from style_wrap.train.config import TrainConfig
from style_wrap.train.data import save_frames
from style_wrap.train.flow import fit_row_motion
from style_wrap.train.loop import CHECKPOINT, train
from style_wrap.train.model import CycleGAN
from style_wrap.translator import History
from style_wrap.weights import GeneratorSpec, load_generator, save_generator


def _pose():
    env = gym.make("StyleWrap/HalfCheetahRestyled-v5", width=64, height=64)
    env.reset(seed=3)
    q = env.unwrapped.data.qpos.copy()
    env.close()
    return q


def test_the_camera_track_read_from_restyled_frames_follows_the_body():
    """A run of restyled frames whose body moves along x by known steps (0.05-0.25 m, up to
    the restyled checker's half repeat): the track read from the frames alone, with the row
    motion fitted on other frames, adds up to the true distance."""
    rng = np.random.default_rng(0)
    q = _pose()
    pairs, moves = [], rng.uniform(0.05, 0.3, 32)
    for dx in moves:
        first = q.copy()
        first[0] = rng.uniform(-20, 20)
        second = first.copy()
        second[0] += dx
        pairs += [render_state("restyled", p, width=64, height=64) for p in (first, second)]
    x = to_model_input(torch.from_numpy(np.stack(pairs)))
    slopes = fit_row_motion(x.reshape(32, 2, *x.shape[1:]), torch.tensor(moves).float())
    steps = np.concatenate([np.linspace(0.0, 0.25, 20), np.full(20, 0.25), [0.2, 0.15, 0.1]])
    xs = np.concatenate([[-5.0], -5.0 + np.cumsum(steps)])
    frames = []
    for pos in xs:
        s = q.copy()
        s[0] = pos
        frames.append(render_state("restyled", s, width=64, height=64))
    track = camera_track(torch.from_numpy(np.stack(frames)), torch.arange(len(xs)), slopes)
    err = np.abs(track.numpy() - (xs - xs[0]))
    print(err.round(3).tolist())
    assert track[0] == 0 and err.max() < 0.1, err  # over 9.5 m run at up to 5 m/s


def test_the_waves_slide_with_the_floor_and_stay_off_rows_where_they_would_alias():
    slopes = torch.tensor([0.0, 0.5, 2.0, -6.0, -20.0])
    f = floor_features(torch.tensor([1.0, 1.5]), slopes, (0.5, 2.0), width=12)
    assert f.shape == (2, 4, 5, 12)
    # Period 0.5 m spans 1 px on the slope-2 row: off there; 2 m spans 4 px: on.
    assert f[:, :2, :3].abs().sum() == 0 and f[:, 2:, 2].abs().sum() > 0
    assert f[:, :, 0].abs().sum() == 0  # the sky
    moved, valid = warp_rows(f[:1], (slopes * 0.5).view(1, -1))  # whole pixels
    inside = valid.expand_as(moved)
    assert torch.allclose(moved[inside], f[1:][inside], atol=1e-4)


def _floor_weights(path, seed=0):
    spec = GeneratorSpec(
        GeneratorConfig(ngf=4, n_blocks=1, temporal=True, floor_periods=(0.5, 1.0), floor_rows=16),
        16,
        16,
        "A",
        "B",
    )
    torch.manual_seed(seed)
    net = spec.architecture.build()
    with torch.no_grad():
        net.floor.weight.normal_(0, 1.0)  # strong enough that the waves show in uint8
        net.floor_source.copy_(torch.linspace(0, 8, 16))
        net.floor_target.copy_(torch.linspace(0, 8, 16))
    save_generator(path, net, spec)
    return str(path)


def test_a_floor_aware_translator_keeps_each_streams_camera_and_forgets_it_at_a_start(tmp_path):
    path = _floor_weights(tmp_path / "f.safetensors")
    net, spec = load_generator(path)
    assert spec.architecture.floor_periods == (0.5, 1.0)
    assert torch.equal(net.floor_source, torch.linspace(0, 8, 16))
    t = Translator(path, device="cpu")
    frames, _, _ = _episodes("A", 1, 4)
    # Two streams of one moving bar: the row whose frames move gets a camera step, the still
    # row none.
    batch = np.stack([frames[0], frames[0]])
    history = History()
    t(batch, history)
    assert history.positions.tolist() == [0.0, 0.0]
    t(np.stack([frames[1], frames[0]]), history)
    assert abs(history.positions[1]) < 1e-6 and abs(history.positions[0]) > 0.01
    history.forget([0])
    out = t(np.stack([frames[2], frames[0]]), history)
    assert history.positions[0] == 0 and out.shape == (2, 16, 16, 3)

    # The same frame at another camera position is drawn otherwise: the generator reads it.
    def at(positions):
        past = History()
        past.remember(*(torch.from_numpy(batch),) * 2, torch.tensor(positions), torch.zeros(2))
        return t(batch, past)

    moved, again = at([0.3, 0.0]), at([0.0, 0.0])
    assert not np.array_equal(moved[0], again[0]) and np.array_equal(moved[1], again[1])


def test_floor_coords_trains_resumes_exports_and_warm_starts(tmp_path):
    a, b = _episode_domains(tmp_path, n_episodes=4, length=8)
    base = dict(domain_a=a, domain_b=b, out=str(tmp_path), temporal=True, pool_size=0, **TINY)
    base.update(decay_start=1.0, floor_coords=True)
    run = train(TrainConfig(name="f", iters=3, **base))
    state = torch.load(run / CHECKPOINT, weights_only=True)["model"]
    g_ab = state["g_ab"]
    assert g_ab["floor.weight"].shape == (4, 2 * len(FLOOR_PERIODS), 1, 1)
    assert torch.equal(g_ab["floor_source"], state["row_motion"][0])
    assert torch.equal(g_ab["floor_target"], state["row_motion"][1])
    # The waves' weights learn at floor_lr_scale times the rest (their own Adam group).
    groups = torch.load(run / CHECKPOINT, weights_only=True)["model"]["opt_g"]["param_groups"]
    assert [g["initial_lr"] for g in groups] == [2e-4, 2e-4 * 30]
    resumed = train(TrainConfig(name="f", iters=4, resume=True, **base), given={"iters"})
    assert torch.load(resumed / CHECKPOINT, weights_only=True)["model"]["step"] == 4
    exported = Translator(str(resumed / "generator_a2b.safetensors"), device="cpu")
    assert exported.generator.floor is not None
    # A temporal G_AB without the waves warm-starts a floor-aware one (and is refused without).
    plain = train(TrainConfig(name="p", iters=1, **{**base, "floor_coords": False}))
    init = str(plain / "generator_a2b.safetensors")
    warm = train(TrainConfig(name="w", iters=1, init_g_ab=init, **base))
    assert (warm / "generator_a2b.safetensors").is_file()
    with pytest.raises(ConfigError, match="reads the floor's waves; expected floor_coords"):
        train(
            TrainConfig(
                name="x",
                iters=1,
                init_g_ab=str(resumed / "generator_a2b.safetensors"),
                **{**base, "floor_coords": False},
            )
        )


def test_floor_coords_settings_and_data_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="floor_coords = true feeds a temporal G_AB"):
        TrainConfig(floor_coords=True)
    with pytest.raises(ConfigError, match="floor_lr_scale = 0.0; expected > 0"):
        TrainConfig(temporal=True, floor_coords=True, floor_lr_scale=0.0)
    with pytest.raises(ConfigError, match="floor_periods"):
        GeneratorConfig(temporal=True, floor_periods=(1.0, -2.0), floor_rows=8)
    with pytest.raises(ConfigError, match="expected a temporal generator"):
        GeneratorConfig(floor_periods=(1.0,), floor_rows=8)
    _, b = _episode_domains(tmp_path)
    frames, _, steps = _episodes("A", 2, 5)
    save_frames(tmp_path / "noqpos", frames, name="A", steps=steps)
    cfg = TrainConfig(
        domain_a=str(tmp_path / "noqpos"), domain_b=b, out=str(tmp_path / "r"), iters=2, **TINY
    )
    with pytest.raises(ConfigError, match="floor_coords = true needs recorded x positions"):
        train(cfg.replace(temporal=True, floor_coords=True))
    assert not (tmp_path / "r").exists()


def test_a_waves_conditioned_discriminator_reads_where_on_the_plane_each_pixel_looks(tmp_path):
    with pytest.raises(ConfigError, match="d_condition = 'waves' shows D_B the waves"):
        TrainConfig(temporal=True, d_condition="waves")
    a, b = _episode_domains(tmp_path, n_episodes=4, length=8)
    base = dict(domain_a=a, domain_b=b, out=str(tmp_path), temporal=True, pool_size=0, **TINY)
    base.update(decay_start=1.0, floor_coords=True, d_condition="waves")
    run = train(TrainConfig(name="d", iters=2, **base))
    model = torch.load(run / CHECKPOINT, weights_only=True)["model"]
    waves = 2 * len(FLOOR_PERIODS)
    # D_B reads the frame and the waves; D_A the frame alone.
    assert model["d_b"]["model.0.weight"].shape[1] == 3 + waves
    assert model["d_a"]["model.0.weight"].shape[1] == 3
    # What D_B reads beside a frame is the waves at its camera's position, in B's geometry:
    # two positions a period apart read the same, half a period apart the opposite.
    config = TrainConfig(**{**base, "name": "d"})
    gan = CycleGAN(config, (16, 16), torch.device("cpu"), condition_dim=1)
    gan.set_floor_motion(model["row_motion"])
    frames = torch.zeros(3, 3, 16, 16)
    period = FLOOR_PERIODS[8]
    read = gan.judged(frames, torch.tensor([[0.3], [0.3 + period], [0.3 + period / 2]]))
    sin = read[:, 3 + 16]  # the sine of that period
    assert sin.abs().max() > 0.5
    assert torch.allclose(sin[0], sin[1], atol=1e-3)
    assert torch.allclose(sin[0], -sin[2], atol=1e-3)
    assert torch.equal(gan.judged(frames, None, "a"), frames)
    with pytest.raises(ConfigError, match="needs each frame's condition"):
        gan.judged(frames, None)
