"""A run's generators as safetensors files: kept exports during training, the final pair, and
``style-wrap export`` of a checkpoint.

Example:
    >>> EXPORTS["g_ab"]
    'generator_a2b.safetensors'
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from style_wrap.errors import ConfigError
from style_wrap.nets import GeneratorConfig, ResnetGenerator
from style_wrap.train.config import TrainConfig
from style_wrap.weights import GeneratorSpec, save_generator

__all__ = ["CHECKPOINT", "EXPORTS", "EXPORTS_DIR", "export_generators", "export_run"]

CHECKPOINT = "checkpoints/latest.pt"  # in a run folder: what --resume and export read
EXPORTS = {"g_ab": "generator_a2b.safetensors", "g_ba": "generator_b2a.safetensors"}
EXPORTS_DIR = "exports"  # kept exports every ``export_every`` iterations: exports/step-NNNNNN/


def export_generators(
    folder: Path,
    generators: dict[str, nn.Module],
    names: tuple[str, str],
    size: tuple[int, int],
    step: int,
    config: TrainConfig,
    run_name: str,
) -> list[Path]:
    dtype = torch.float16 if config.export_dtype == "float16" else None
    paths = []
    for key, (src, dst) in (("g_ab", names), ("g_ba", names[::-1])):
        net = generators[key]
        assert isinstance(net, ResnetGenerator)
        spec = GeneratorSpec(
            net.config,
            size[0],
            size[1],
            src,
            dst,
            step,
            {"run": run_name, "cycle": config.cycle},
        )
        path = folder / EXPORTS[key]
        save_generator(path, net, spec, dtype=dtype)  # copies each tensor out contiguous
        paths.append(path)
    return paths


def export_run(run_dir: str | os.PathLike[str], dtype: str | None = None) -> list[Path]:
    """Write both generators of a run's latest checkpoint as safetensors (``style-wrap export``)."""
    run = Path(run_dir)
    checkpoint = run / CHECKPOINT
    if not checkpoint.is_file():
        raise ConfigError(
            f"{run}: no checkpoint at {CHECKPOINT}; expected a run folder of `style-wrap train`"
        )
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    config = TrainConfig(**state["config"])
    if dtype is not None:
        config = config.replace(export_dtype=dtype)
    arch = GeneratorConfig(ngf=config.ngf, n_blocks=config.n_blocks, upsample=config.upsample)
    generators: dict[str, nn.Module] = {}
    for key in EXPORTS:
        net = arch.build()
        weights = state["model"][key]
        if f"ema_{key}" in state["model"]:  # a run with ema exports the moving average
            average = state["model"][f"ema_{key}"]
            weights = {k[7:]: v for k, v in average.items() if k.startswith("module.")}
        net.load_state_dict(weights)
        generators[key] = net
    h, w = state["frame_size"]
    names = tuple(state["domains"])
    return export_generators(
        run, generators, names, (h, w), int(state["model"]["step"]), config, run.name
    )
