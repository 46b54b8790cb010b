"""Where a step's batches come from: epoch samplers of frame indices, the batch streams built
on them, and CycleGAN's pool of earlier fakes. All of it resumes exactly (``state_dict``).

Example:
    >>> import torch
    >>> sampler = EpochSampler(10, 4, seed=0)
    >>> frames = torch.zeros(10, 8, 8, 3, dtype=torch.uint8)
    >>> x, pose, _ = next(frame_batches(frames, None, sampler, torch.contiguous_format))
    >>> x.shape, pose
    (torch.Size([4, 3, 8, 8]), None)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from style_wrap.errors import DataError
from style_wrap.nets import to_model_input

__all__ = [
    "EpisodeStreams",
    "EpochSampler",
    "ImagePool",
    "frame_batches",
    "previous_frames",
    "stack_batches",
]


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
    conditions: torch.Tensor | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]]:
    """Endless batches of frames (model input), their poses and their discriminator conditions,
    in the sampler's order."""
    while True:
        index = sampler.next().to(frames.device)
        x = to_model_input(frames[index], memory_format=memory_format)
        pose = None if poses is None else poses[index]
        yield x, pose, None if conditions is None else conditions[index]


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


def previous_frames(steps: torch.Tensor, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For frames ``index``: the index of the frame one step before in the same episode, and
    whether there is one (at an episode's first frame, or where steps are unknown, there is not:
    the frame's own index comes back).

    Example:
        >>> steps = torch.tensor([0, 1, 2, 0, 1])
        >>> prev, ok = previous_frames(steps, torch.tensor([0, 2, 3, 4]))
        >>> prev.tolist(), ok.tolist()
        ([0, 1, 3, 3], [False, True, False, True])
    """
    before = (index - 1).clamp(min=0)
    ok = (index > 0) & (steps[index] >= 1) & (steps[before] == steps[index] - 1)
    return torch.where(ok, before, index), ok


class EpisodeStreams:
    """Streams that walk recorded episodes step by step, for training a temporal generator on
    its own outputs: each of ``n`` streams is at one frame, moves to the next step of its episode
    at every :meth:`next`, and restarts at the first frame of a random episode where its episode
    (or a run of consecutive steps) ends. The generator's last output of each stream rides along
    (``outputs``), so a resumed run continues the streams exactly.

    Args:
        steps: Each frame's step in its episode (``-1`` unknown), in recorded order.
        n: Streams (the batch size).
        seed: Seed of the episodes' order.
        horizon: With ``horizon > 0`` a stream also restarts after each step with probability
            ``1 / horizon`` (walks of ``horizon`` steps on average), so that more of the batches
            are near episodes' starts, where the history begins; 0: whole episodes.

    Example:
        >>> streams = EpisodeStreams(torch.tensor([0, 1, 2, 0, 1, 2]), 2, seed=0)
        >>> first, started = streams.next()
        >>> sorted(first.tolist()) in ([0, 0], [0, 3], [3, 3]), started.tolist()
        (True, [False, False])
        >>> second, started = streams.next()
        >>> (second - first).tolist(), started.tolist()
        ([1, 1], [True, True])
    """

    def __init__(self, steps: torch.Tensor, n: int, seed: int, horizon: int = 0):
        self.steps = steps.cpu()
        self.starts = torch.nonzero(self.steps == 0).flatten()
        if len(self.starts) == 0:
            raise DataError(
                "a temporal generator needs whole episodes (frames recorded from step 0 with "
                "--every 1); these frames hold no episode's first step"
            )
        self.n, self.horizon = n, horizon
        self.generator = torch.Generator().manual_seed(seed)
        self.position = torch.full((n,), -1, dtype=torch.int64)
        self.outputs: torch.Tensor | None = None

    def _restart(self, rows: torch.Tensor) -> None:
        pick = torch.randint(len(self.starts), (int(rows.sum()),), generator=self.generator)
        self.position[rows] = self.starts[pick]

    def next(self, active: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Every stream's next frame index, and which streams continue (have a history).

        ``active``: only these streams move (the others keep their frame, and are reported as
        continuing)."""
        if active is not None:
            kept, moved = self.position.clone(), self.next()
            self.position = torch.where(active, moved[0], kept)
            return self.position.clone(), moved[1] | ~active
        step = self.position + 1
        inside = (self.position >= 0) & (step < len(self.steps))
        cont = inside.clone()
        at = step[inside]
        cont[inside] = (self.steps[at] >= 1) & (self.steps[at] == self.steps[at - 1] + 1)
        if self.horizon > 0:
            cont &= torch.rand(self.n, generator=self.generator) >= 1.0 / self.horizon
        self.position = torch.where(cont, step, self.position)
        if (~cont).any():
            self._restart(~cont)
        return self.position.clone(), cont

    def state_dict(self) -> dict[str, Any]:
        return {
            "position": self.position.clone(),
            "generator": self.generator.get_state(),
            "outputs": self.outputs.cpu() if self.outputs is not None else torch.empty(0),
        }

    def load_state_dict(self, state: dict[str, Any], device: torch.device | None = None) -> None:
        self.position = state["position"].clone()
        self.generator.set_state(state["generator"])
        out = state["outputs"]
        self.outputs = out.to(device or "cpu") if out.numel() else None
