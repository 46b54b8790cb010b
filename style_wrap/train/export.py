"""A run's generators as safetensors files: kept exports during training, the final pair, and
``style-wrap export`` of a checkpoint.

Example:
    >>> EXPORTS["g_ab"]
    'generator_a2b.safetensors'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from style_wrap.errors import CheckpointError, ConfigError
from style_wrap.nets import GeneratorConfig, ResnetGenerator
from style_wrap.train.config import TrainConfig
from style_wrap.weights import GeneratorSpec, save_generator

__all__ = [
    "CHECKPOINT",
    "EXPORTS",
    "EXPORTS_DIR",
    "PREVIOUS",
    "export_generators",
    "export_run",
    "read_checkpoint",
]

CHECKPOINT = "checkpoints/latest.pt"  # in a run folder: what --resume and export read
PREVIOUS = "checkpoints/previous.pt"  # the one before it, kept in case the latest is damaged
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


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's contents, checked for the entries a resume and an export read.

    Read with ``weights_only`` (no code runs); anything that cannot be read, or lacks an entry,
    is a :class:`CheckpointError` naming the file.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001  (torch raises many types for a damaged file)
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        raise CheckpointError(
            f"{path}: damaged checkpoint ({type(err).__name__}: {first})"
        ) from None
    shape = {"model": dict, "samplers": dict, "config": dict, "domains": list, "frame_size": list}
    bad = [
        k
        for k, t in shape.items()
        if not isinstance(state, dict) or not isinstance(state.get(k), t)
    ]
    model = state.get("model", {}) if isinstance(state, dict) else {}
    bad += [k for k in ("g_ab", "g_ba", "step") if k not in model]
    if bad:
        raise CheckpointError(
            f"{path}: not a checkpoint of `style-wrap train` (missing or wrong: {', '.join(bad)})"
        )
    return state


def checkpoint_step(path: Path) -> int | None:
    """The step of an intact checkpoint at ``path``, else ``None``."""
    try:
        return int(read_checkpoint(path)["model"]["step"])
    except (CheckpointError, TypeError, ValueError):
        return None


def export_run(run_dir: str | os.PathLike[str], dtype: str | None = None) -> list[Path]:
    """Write both generators of a run's latest checkpoint as safetensors (``style-wrap export``)."""
    run = Path(run_dir)
    checkpoint = run / CHECKPOINT
    if not checkpoint.is_file():
        raise ConfigError(
            f"{run}: no checkpoint at {CHECKPOINT}; expected a run folder of `style-wrap train`"
        )
    state = read_checkpoint(checkpoint)
    try:
        config = TrainConfig(**state["config"])
    except (TypeError, ConfigError) as err:
        raise CheckpointError(f"{checkpoint}: its settings do not load ({err})") from None
    if dtype is not None:
        config = config.replace(export_dtype=dtype)
    arch = GeneratorConfig(ngf=config.ngf, n_blocks=config.n_blocks, upsample=config.upsample)
    generators: dict[str, nn.Module] = {}
    h, w = state["frame_size"]
    for key in EXPORTS:
        net = (config.generator_ab_for(h) if key == "g_ab" else arch).build()
        weights = state["model"][key]
        if f"ema_{key}" in state["model"]:  # a run with ema exports the moving average
            average = state["model"][f"ema_{key}"]
            weights = {k[7:]: v for k, v in average.items() if k.startswith("module.")}
        try:
            net.load_state_dict(weights)
        except (RuntimeError, KeyError, TypeError, AttributeError) as err:
            raise CheckpointError(
                f"{checkpoint}: generator {key} does not match its settings' architecture "
                f"{arch} ({str(err).splitlines()[0][:200]})"
            ) from None
        generators[key] = net
    names = tuple(state["domains"])
    return export_generators(
        run, generators, names, (h, w), int(state["model"]["step"]), config, run.name
    )
