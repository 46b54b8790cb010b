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
