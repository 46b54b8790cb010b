"""The CUDA path of the translator, the wrappers and a training step. Skipped without a GPU;
``benchmarks/gpu_check.sh`` runs them on a lent CUDA machine."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap import StyleTransfer, Translator, VectorStyleTransfer

pytestmark = pytest.mark.cuda


def _frames(n: int, size: int = 64) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16"])
def test_cuda_translation_matches_the_cpu_one(tiny_generator, dtype):
    weights = tiny_generator()
    frames = _frames(5)
    on_cpu = Translator(weights, device="cpu")(frames).astype(int)
    on_gpu = Translator(weights, device="cuda", dtype=dtype)
    assert on_gpu.memory_format == torch.channels_last and on_gpu.use_cuda_graph
    out = on_gpu(frames)
    assert out.shape == frames.shape and out.dtype == np.uint8
    tolerance = 1 if dtype == "float32" else 6  # grey levels: half types round coarser
    assert np.abs(out.astype(int) - on_cpu).max() <= tolerance


def test_cuda_graph_replay_gives_the_eager_frames(tiny_generator):
    weights = tiny_generator()
    graph = Translator(weights, device="cuda", dtype="float32", cuda_graph=True)
    eager = Translator(weights, device="cuda", dtype="float32", cuda_graph=False)
    for n in (1, 8, 1, 8):  # graphs captured per batch size, then replayed
        frames = _frames(n)
        np.testing.assert_array_equal(graph(frames), eager(frames))
    assert sorted(graph._graphs) == [1, 8]


def test_wrappers_on_cuda_keep_the_observation_space(tiny_generator):
    weights = tiny_generator()
    env = StyleTransfer(gym.make("StyleWrap/HalfCheetahRestyled-v5"), weights, device="cuda")
    obs, _ = env.reset(seed=0)
    assert obs in env.observation_space
    envs = gym.make_vec("StyleWrap/HalfCheetahRestyled-v5", 3, vectorization_mode="sync")
    envs = VectorStyleTransfer(envs, weights, device="cuda")
    obs, _ = envs.reset(seed=0)
    assert obs in envs.observation_space
    obs, *_ = envs.step(envs.action_space.sample())
    assert obs.shape == (3, 64, 64, 3)


def test_a_training_step_on_cuda_with_mixed_precision(tmp_path):
    from helpers import make_domains

    from style_wrap.train.config import TrainConfig
    from style_wrap.train.loop import EXPORTS, train

    a, b = make_domains(tmp_path, n=16, size=16)
    cfg = TrainConfig(
        domain_a=a,
        domain_b=b,
        out=str(tmp_path / "runs"),
        iters=3,
        batch_size=2,
        ngf=4,
        n_blocks=1,
        ndf=8,
        device="cuda",
        amp="bf16",
        progress=False,
        sample_every=0,
    )
    run = train(cfg)
    metrics = (run / "metrics.jsonl").read_text()
    assert '"cuda' in metrics
    assert (run / EXPORTS["g_ab"]).is_file()
