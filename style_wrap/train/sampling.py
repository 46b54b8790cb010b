"""Where a step's batches come from: epoch samplers of frame indices, the batch streams built
on them, and CycleGAN's pool of earlier fakes. All of it resumes exactly (``state_dict``).

Example:
    >>> import torch
    >>> sampler = EpochSampler(10, 4, seed=0)
    >>> frames = torch.zeros(10, 8, 8, 3, dtype=torch.uint8)
    >>> x, pose = next(frame_batches(frames, None, sampler, torch.contiguous_format))
    >>> x.shape, pose
    (torch.Size([4, 3, 8, 8]), None)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from style_wrap.errors import DataError
from style_wrap.nets import to_model_input

__all__ = ["EpochSampler", "ImagePool", "frame_batches", "stack_batches"]


class ImagePool:
    """CycleGAN's history of generated images: half the time, a fake from an earlier step.

    Example:
        >>> pool = ImagePool(2, seed=0)
        >>> pool.query(torch.zeros(3, 1, 2, 2)).shape
        torch.Size([3, 1, 2, 2])
        >>> len(pool.images)
        2
    """

    def __init__(self, size: int, seed: int):
        self.size = size
        self.images: list[torch.Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        stored = torch.stack(self.images).cpu() if self.images else torch.empty(0)
        return {"images": stored, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any], device: torch.device) -> None:
        self.images = [img.to(device) for img in state["images"]] if state["images"].numel() else []
        self.generator.set_state(state["generator"])


class EpochSampler:
    """Batches of indices: a seeded permutation per epoch, split across processes by rank.

    Example:
        >>> rank0, rank1 = EpochSampler(10, 4, 0, rank=0, world=2), EpochSampler(10, 4, 0, 1, 2)
        >>> a, b = rank0.next().tolist(), rank1.next().tolist()
        >>> len(a), set(a) & set(b)  # each process sees its own frames
        (4, set())
    """

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        if n < world:
            raise DataError(f"{n} frames for {world} processes; expected at least one each")
        self.n, self.batch_size, self.seed, self.rank, self.world = n, batch_size, seed, rank, world
        self.epoch, self.pos = 0, 0
        self._cached: tuple[int, torch.Tensor] | None = None

    def _epoch_indices(self, epoch: int) -> torch.Tensor:
        if self._cached is None or self._cached[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._cached = (epoch, torch.randperm(self.n, generator=g)[self.rank :: self.world])
        return self._cached[1]

    def next(self) -> torch.Tensor:
        parts, need = [], self.batch_size
        while need:
            indices = self._epoch_indices(self.epoch)[self.pos :]
            take = indices[:need]
            parts.append(take)
            need -= len(take)
            self.pos += len(take)
            if need:
                self.epoch, self.pos = self.epoch + 1, 0
        return torch.cat(parts)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])


def frame_batches(
    frames: torch.Tensor,
    poses: torch.Tensor | None,
    sampler: EpochSampler,
    memory_format: torch.memory_format,
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Endless batches of frames (model input) and their poses, in the sampler's order."""
    while True:
        index = sampler.next().to(frames.device)
        x = to_model_input(frames[index], memory_format=memory_format)
        yield x, None if poses is None else poses[index]


def stack_batches(
    frames: torch.Tensor,
    ends: torch.Tensor,
    labels: torch.Tensor,
    n_stack: int,
    sampler: EpochSampler,
    memory_format: torch.memory_format,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of ``n_stack`` consecutive frames (oldest first), flat, and the expert's labels."""
    back = torch.arange(n_stack - 1, -1, -1, device=frames.device)
    while True:
        pick = sampler.next().to(frames.device)
        index = (ends[pick][:, None] - back).reshape(-1)
        yield to_model_input(frames[index], memory_format=memory_format), labels[pick]
