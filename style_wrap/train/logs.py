"""What a training run writes, on rank 0 only: settings, metrics, TensorBoard, grids, checkpoints.

TensorBoard is optional (``pip install 'style-wrap[train]'``); ``metrics.jsonl`` always has every
logged number. Scalars are grouped as ``losses/...`` and ``charts/...``.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from style_wrap.train.config import TrainConfig
    >>> run = Path(tempfile.mkdtemp()) / "run"
    >>> w = RunWriter(run, TrainConfig(domain_a="a", domain_b="b"), True, "checkpoints/latest.pt")
    >>> w.scalars(10, {"D_A": 0.25}, 2e-4, 0.5)
    >>> w.close()
    >>> json.loads((run / "metrics.jsonl").read_text())["D_A"]
    0.25
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from style_wrap.io import atomic_path, atomic_write_bytes, write_image
from style_wrap.train.config import TrainConfig, dump_toml

__all__ = ["RunWriter"]


class RunWriter:
    """Everything a run writes, on rank 0 only: settings, metrics, TensorBoard, grids, files."""

    def __init__(self, run_dir: Path, config: TrainConfig, enabled: bool, checkpoint_name: str):
        self.run_dir, self.enabled, self.tb = run_dir, enabled, None
        self.checkpoint_name = checkpoint_name
        if not enabled:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        folder = (run_dir / checkpoint_name).parent
        if folder.is_dir():  # temporary files of a write that a kill interrupted
            for stale in folder.glob(".*.pt"):
                stale.unlink()
        atomic_write_bytes(run_dir / "config.toml", dump_toml(config).encode())
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # an optional extra: metrics.jsonl still has every number
            print(
                "style-wrap train: tensorboard is not installed (pip install "
                "'style-wrap[train]'); logging to metrics.jsonl only"
            )
        else:
            self.tb = SummaryWriter(str(run_dir / "tb"))

    def start(self, step: int, names: tuple[str, str], world: int, device: str) -> None:
        if self.enabled:
            record = {"event": "start", "step": step, "domains": names, "world_size": world}
            self._log({**record, "device": device})

    def _log(self, record: dict[str, Any]) -> None:
        with open(self.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def scalars(self, step: int, losses: dict[str, float], lr: float, seconds: float) -> None:
        if not self.enabled:
            return
        self._log({"step": step, **losses, "lr": lr, "s_per_iter": seconds})
        if self.tb is not None:
            for k, v in losses.items():
                self.tb.add_scalar(f"losses/{k}", v, step)
            self.tb.add_scalar("charts/learning_rate", lr, step)
            self.tb.add_scalar("charts/s_per_iter", seconds, step)

    def samples(self, step: int, grid: np.ndarray) -> None:
        if not self.enabled:
            return
        write_image(self.run_dir / "samples" / f"step_{step:07d}.png", grid)
        if self.tb is not None:
            self.tb.add_image("samples/input_translated_cycle", grid, step, dataformats="HWC")

    def checkpoint(self, state: dict[str, Any]) -> None:
        """Write the checkpoint atomically; the one it replaces is kept as ``previous.pt``."""
        if not self.enabled:
            return
        path = self.run_dir / self.checkpoint_name
        with atomic_path(path, suffix=".pt") as tmp:
            torch.save(state, tmp)
            if path.is_file():
                os.replace(path, path.with_name("previous.pt"))

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
