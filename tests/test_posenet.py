"""The translator through the pose: its architecture checks its numbers, its weights file
rebuilds it and is checked against its tensors, and the translator sums its x steps per row."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers import pose_weights

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap import ConfigError, WeightsError
from style_wrap.io import read_safetensors_header
from style_wrap.nets import to_model_input
from style_wrap.posenet import POSE_SIZE, PoseConfig, PoseNet
from style_wrap.translator import History, Translator
from style_wrap.weights import GeneratorSpec, load_generator, read_spec, save_generator


@pytest.mark.parametrize(
    "fields, named",
    [
        (dict(n_geoms=0), "n_geoms = 0"),
        (dict(n_geoms=7, size=40), "size = 40"),
        (dict(n_geoms=7, encoder_width=True), "encoder_width = True"),
        (dict(n_geoms=7, harmonics=2.5), "harmonics = 2.5"),
        (dict(n_geoms=7, kind="resnet"), "kind = 'resnet'"),
    ],
)
def test_a_bad_pose_architecture_is_named(fields, named):
    with pytest.raises(ConfigError, match=named):
        PoseConfig(**fields)


def test_a_pose_weights_file_rebuilds_its_network(tmp_path):
    path = pose_weights(tmp_path / "p.safetensors", size=32)
    meta = read_safetensors_header(path)["__metadata__"]
    assert json.loads(meta["architecture"])["kind"] == "pose"
    spec = read_spec(path)
    assert isinstance(spec.architecture, PoseConfig) and spec.architecture.size == 32
    net, _ = load_generator(path)
    assert isinstance(net, PoseNet)
    again = tmp_path / "again.safetensors"
    save_generator(again, net, spec)
    other, _ = load_generator(again)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    started = torch.tensor([True, False])
    with torch.no_grad():
        out, root = net(x, x.flip(0), started, torch.tensor([1.5, 2.0]))
        out2, _ = other(x, x.flip(0), started, torch.tensor([1.5, 2.0]))
    torch.testing.assert_close(out, out2)
    assert float(root[1]) == 0.0 and float(root[0]) != 1.5


def _rewrite(path, out, **meta_changes):
    from safetensors.torch import load_file, save_file

    meta = dict(read_safetensors_header(path)["__metadata__"])
    meta.update(meta_changes)
    save_file(load_file(path), str(out), metadata=meta)
    return out


def test_a_pose_file_whose_header_lies_is_refused(tmp_path):
    path = pose_weights(tmp_path / "p.safetensors", size=32)
    arch = json.loads(read_safetensors_header(path)["__metadata__"]["architecture"])
    bad_size = _rewrite(path, tmp_path / "s.safetensors", frame_height="64", frame_width="64")
    with pytest.raises(WeightsError, match="frame size 64x64; expected 32x32"):
        read_spec(bad_size)
    fewer = _rewrite(
        path, tmp_path / "g.safetensors", architecture=json.dumps({**arch, "n_geoms": 6})
    )
    with pytest.raises(WeightsError, match="has shape"):
        load_generator(fewer)
    unknown = _rewrite(
        path, tmp_path / "u.safetensors", architecture=json.dumps({**arch, "depth": 3})
    )
    with pytest.raises(WeightsError, match="bad architecture"):
        read_spec(unknown)


def test_the_translator_sums_each_rows_x_steps_from_the_episodes_start(tmp_path):
    translator = Translator(pose_weights(tmp_path / "p.safetensors"), device="cpu")
    assert translator.dtype == torch.float32
    net = translator.generator
    env = gym.make("StyleWrap/HalfCheetahRestyled-v5")
    frames = [env.reset(seed=4)[0]]
    for action in np.random.default_rng(4).uniform(-1, 1, (3, 6)).astype(np.float32):
        frames.append(env.step(action)[0])
    x = to_model_input(torch.from_numpy(np.stack(frames)))
    with torch.no_grad():
        steps = net.encoder(x[:-1], x[1:])[:, POSE_SIZE]
    history = History()
    for frame in frames:
        translator(frame[None], history)
    assert history.positions is not None
    torch.testing.assert_close(history.positions[0], steps.sum(), rtol=1e-4, atol=1e-5)
    history.forget([0])
    translator(frames[0][None], history)
    assert float(history.positions[0]) == 0.0


def test_a_pose_spec_must_match_its_network(tmp_path):
    net = PoseConfig(n_geoms=7, encoder_width=4, renderer_width=4, size=32).build()
    spec = GeneratorSpec(PoseConfig(n_geoms=6, size=32), 32, 32)
    with pytest.raises(WeightsError, match="differs from spec"):
        save_generator(tmp_path / "x.safetensors", net, spec)


def test_soft_lines_are_the_gaussian_of_each_pixels_distance_to_its_segment():
    from style_wrap.posenet import segment_maps

    rng = np.random.default_rng(3)
    ends = rng.uniform(-8, 40, (2, 5, 2, 2))
    ends[0, 0, 1] = ends[0, 0, 0]  # a segment of no length: a point
    got = segment_maps(torch.tensor(ends, dtype=torch.float32), 32, sigma=1.5).numpy()
    c = np.arange(32) + 0.5
    px = np.stack(np.meshgrid(c, c, indexing="xy"), -1)  # (H, W, 2) of (x, y)
    for n in range(2):
        for g in range(5):
            a, b = ends[n, g]
            ab = b - a
            t = np.clip(((px - a) @ ab) / max(ab @ ab, 1e-6), 0, 1)
            d2 = (((px - a) - t[..., None] * ab) ** 2).sum(-1)
            np.testing.assert_allclose(got[n, g], np.exp(-d2 / (2 * 1.5**2)), atol=2e-6)


@pytest.mark.parametrize("root", [0.0, 37.5, 49.0])
def test_the_floors_checker_is_the_filtered_square_waves_at_each_pixels_ground_point(root):
    # Against the waves summed harmonic by harmonic in float64 at each ground point, however far
    # down the track the root is (the package reduces the phase and drops nil harmonics).
    from style_wrap.posenet import CameraRenderer

    ren = CameraRenderer(1, width=4, size=32)
    axes = torch.tensor([[1.0, 0, 0], [0, 0.34, -0.94], [0, 0.94, 0.34]])
    ren.set_camera(axes, -3.0, 38.0, 40.0, 1.333)
    with torch.no_grad():
        ren.phase.copy_(torch.tensor([0.2, -0.1]))
        ren.gains.copy_(torch.linspace(1.0, 0.4, 6))
        ren.blur.fill_(0.3)
    cam_x, cam_z = torch.tensor([0.4]), torch.tensor([0.7])
    with torch.no_grad():
        checker, on = ren.background(torch.tensor([root]), cam_x, cam_z)
    d = ren.rays.double().numpy()
    down = np.maximum(-d[2], 1e-4)
    gx, gy = 0.7 * d[0] / down, 0.7 * d[1] / down
    x, y = root + 0.4 + gx, -3.0 + gy
    pad = lambda a, axis: np.concatenate([a, np.take(a, [-1], axis)], axis)  # noqa: E731
    scale = np.log1p(np.exp(0.3)) / np.log(2) * 0.5
    sx = scale * np.hypot(pad(np.diff(gx, axis=1), 1), pad(np.diff(gx, axis=0), 0))
    sy = scale * np.abs(pad(np.diff(gy, axis=0), 0))
    omega, gains = 2 * np.pi / 1.333, np.linspace(1.0, 0.4, 6)

    def wave(v, s):
        k = np.arange(1, 12, 2)[:, None, None]
        terms = gains[:, None, None] * 4 / (np.pi * k) * np.sin(k * omega * v)
        return (terms * np.exp(-0.5 * (k * omega * s) ** 2)).sum(0)

    want = wave(x - 0.2, sx) * wave(y + 0.1, sy)
    shown = on[0, 0].numpy() > 1e-3
    assert shown.sum() > 30
    np.testing.assert_allclose(checker[0, 0].numpy()[shown], want[shown], atol=2e-3)
