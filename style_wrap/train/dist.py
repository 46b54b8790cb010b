"""Training under ``torchrun``: this process's place, and keeping the processes in step.

Gradients are averaged across processes before every optimizer step, as DDP would do; DDP's own
reducer is not used because a CycleGAN step calls each generator twice and freezes the
discriminators halfway, which DDP does not allow.

Example:
    >>> DistInfo().is_main, DistInfo(rank=1, world=2).is_main
    (True, False)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["DistInfo", "any_rank", "average_gradients", "check_in_sync"]


@dataclass(frozen=True)
class DistInfo:
    """This process's place under torchrun (rank 0 of 1 otherwise)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> DistInfo:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return cls(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def average_gradients(modules: list[nn.Module], dist_info: DistInfo) -> None:
    """Replace every gradient of ``modules`` by its mean over the processes (one all-reduce)."""
    if dist_info.world == 1:
        return
    grads = [p.grad for m in modules for p in m.parameters() if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist_info.world
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def any_rank(flag: bool, dist_info: DistInfo) -> bool:
    """Whether ``flag`` is set on any process (a stop asked of one stops all)."""
    if dist_info.world == 1:
        return flag
    t = torch.tensor([float(flag)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def check_in_sync(nets: list[nn.Module], dist_info: DistInfo) -> None:
    """Raise unless every process ended with the same weights (a sum over all parameters)."""
    if dist_info.world == 1:
        return
    total = (
        torch.stack([p.detach().double().sum().cpu() for net in nets for p in net.parameters()])
        .sum()
        .reshape(1)
    )
    spread = torch.cat([total, -total])
    dist.all_reduce(spread, op=dist.ReduceOp.MAX)
    if not math.isclose(float(spread[0]), -float(spread[1]), rel_tol=0, abs_tol=1e-9):
        raise RuntimeError("processes ended with different weights; gradient averaging failed")
