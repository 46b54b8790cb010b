"""Shared test setup: headless rendering before anything imports MuJoCo, and the small files
many tests need (a tiny generator, a tiny pixel policy, the earlier students kept in research/)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

ROOT = Path(__file__).resolve().parents[1]
#: Earlier pixel policies of the standard look, kept outside the wheel (research/README.md).
RESEARCH_POLICIES = {
    "flipaware": ROOT
    / "research"
    / "pretrained"
    / "halfcheetah-pixel-policy-flipaware.safetensors",
    "round10": ROOT / "research" / "pretrained" / "halfcheetah-pixel-policy-round10.safetensors",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cuda: needs a CUDA device (skipped without one)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device here (benchmarks/gpu_check.sh runs these)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def tiny_generator(tmp_path: Path) -> Callable[..., str]:
    """``make(size=64, seed=0, name="g", ngf=4, source="restyled", target="standard")``: the
    path of a fresh one-block generator file, initialised from ``seed``."""

    def make(
        size: int = 64,
        seed: int = 0,
        name: str = "g",
        ngf: int = 4,
        source: str = "restyled",
        target: str = "standard",
        step: int = 0,
    ) -> str:
        import torch

        from style_wrap.nets import GeneratorConfig
        from style_wrap.weights import GeneratorSpec, save_generator

        spec = GeneratorSpec(GeneratorConfig(ngf=ngf, n_blocks=1), size, size, source, target, step)
        torch.manual_seed(seed)
        path = tmp_path / f"{name}.safetensors"
        save_generator(path, spec.architecture.build(), spec)
        return str(path)

    return make


@pytest.fixture
def tiny_policy(tmp_path: Path) -> Path:
    """An untrained SB3 CnnPolicy on 3 stacked 64x64 standard frames (fast to load and run)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecFrameStack

    import style_wrap  # noqa: F401  (registers the ids)

    venv = VecFrameStack(make_vec_env("StyleWrap/HalfCheetah-v5", 1), 3)
    PPO("CnnPolicy", venv, n_steps=8, batch_size=8, seed=0, device="cpu").save(tmp_path / "p.zip")
    venv.close()
    return tmp_path / "p.zip"
