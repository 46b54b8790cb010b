"""Speed of the wrapper: ms per frame of the env alone and of env + StyleTransfer.

For each device (CPU, and CUDA when present) and batch size (1: ``StyleTransfer`` on one env;
8 and 64: ``VectorStyleTransfer`` on a sync vector env), the plain and the wrapped env are
stepped in alternating blocks with the same actions, so machine noise hits both alike; the
translation is also timed alone, on each frame as it comes out of a step (caches as a real loop
leaves them). Used by ``style-wrap bench``.

Example:
    >>> from style_wrap.evaluation.bench import BenchRecord
    >>> BenchRecord("cpu", 1, env_ms=10.0, wrapped_ms=14.0, translate_ms=4.0).added_ms
    4.0
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from style_wrap.hub import DEFAULT_TRANSLATOR
from style_wrap.making import make_env, make_vector_env
from style_wrap.nets import GeneratorConfig
from style_wrap.weights import GeneratorSpec, save_generator
from style_wrap.wrappers import StyleTransfer, VectorStyleTransfer

__all__ = ["BenchRecord", "run_bench", "bench_weights"]


@dataclass(frozen=True)
class BenchRecord:
    """Milliseconds per frame for one device and batch size."""

    device: str
    batch: int
    env_ms: float
    wrapped_ms: float
    translate_ms: float

    @property
    def added_ms(self) -> float:
        """What the wrapper adds to a step, per frame."""
        return self.wrapped_ms - self.env_ms

    @property
    def translate_over_env(self) -> float:
        """Translation time over the env's own step time (render included)."""
        return self.translate_ms / self.env_ms

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            **asdict(self),
            "added_ms": self.added_ms,
            "translate_over_env": self.translate_over_env,
            "frames_per_s": 1000.0 / self.translate_ms,
        }


def bench_weights(weights: str | None, ngf: int, n_blocks: int, size: int | tuple[int, int]) -> str:
    """The weights to time: the given file; else the shipped translator when it fits (64x64
    frames, ngf 8 and 6 blocks, its own architecture); else a fresh generator of width ``ngf``
    with ``n_blocks`` blocks for ``size`` frames (a side, or ``(height, width)``)."""
    if weights:
        return weights
    h, w = (size, size) if isinstance(size, int) else size
    if (h, w, ngf, n_blocks) == (64, 64, 8, 6):
        return DEFAULT_TRANSLATOR
    spec = GeneratorSpec(GeneratorConfig(ngf=ngf, n_blocks=n_blocks), h, w, "a", "b")
    path = Path(tempfile.mkdtemp(prefix="style-wrap-bench-")) / "random.safetensors"
    save_generator(path, spec.architecture.build(), spec)
    return str(path)


def _time_steps(env: gym.Env | gym.vector.VectorEnv, actions: np.ndarray) -> float:
    start = time.perf_counter()
    for a in actions:
        env.step(a)
    return time.perf_counter() - start


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_bench(
    weights: str | os.PathLike[str],
    env_id: str,
    *,
    batches: tuple[int, ...] = (1, 8, 64),
    devices: tuple[str, ...] | None = None,
    steps: int = 40,
    blocks: int = 4,
    env_kwargs: dict | None = None,
) -> list[BenchRecord]:
    """Time ``env_id`` alone and wrapped, per frame, for each device and batch size."""
    if devices is None:
        devices = ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)
    rng = np.random.default_rng(0)
    return [
        _bench_one(weights, env_id, device, batch, steps, blocks, dict(env_kwargs or {}), rng)
        for device in devices
        for batch in batches
    ]


def _envs(
    weights: str | os.PathLike[str], env_id: str, device: str, batch: int, env_kwargs: dict
) -> tuple[Any, Any]:
    """The plain env and the wrapped one: single envs at batch 1, sync vector envs above."""
    if batch == 1:
        plain = make_env(env_id, **env_kwargs)
        return plain, StyleTransfer(make_env(env_id, **env_kwargs), weights, device=device)
    make = lambda: make_vector_env(env_id, batch, **env_kwargs)  # noqa: E731
    return make(), VectorStyleTransfer(make(), weights, device=device)


def _bench_one(
    weights: str | os.PathLike[str],
    env_id: str,
    device: str,
    batch: int,
    steps: int,
    blocks: int,
    env_kwargs: dict,
    rng: np.random.Generator,
) -> BenchRecord:
    plain, wrapped = _envs(weights, env_id, device, batch, env_kwargs)
    space = plain.action_space
    space.seed(int(rng.integers(2**31)))

    def sample(k: int) -> np.ndarray:
        return np.stack([space.sample() for _ in range(k)])

    plain.reset(seed=0)
    wrapped.reset(seed=0)
    n = max(2, steps // batch)
    per_block = max(1, n // blocks)
    totals = {"plain": 0.0, "wrapped": 0.0}
    _time_steps(wrapped, sample(2))  # warm-up
    for _ in range(blocks):
        actions = sample(per_block)
        totals["plain"] += _time_steps(plain, actions)
        totals["wrapped"] += _time_steps(wrapped, actions)
    # Translation as it runs inside a loop, interleaved with env steps (caches cold from
    # rendering), not back to back: the cost a wrapped step really pays.
    translator = wrapped.translator
    translate = 0.0
    for a in sample(n):
        frames = plain.step(a)[0]
        _sync(device)
        start = time.perf_counter()
        translator(frames)
        _sync(device)
        translate += time.perf_counter() - start
    translate /= n * batch
    count = blocks * per_block * batch
    plain.close()
    wrapped.close()
    return BenchRecord(
        device,
        batch,
        1e3 * totals["plain"] / count,
        1e3 * totals["wrapped"] / count,
        1e3 * translate,
    )
