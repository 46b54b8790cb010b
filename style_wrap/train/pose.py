"""A pose regressor: a small CNN that reads the cheetah's joint configuration from a frame.

Two uses. Training: with ``lambda_pose > 0``, a regressor fitted on each domain's real frames
(whose physics state was recorded at collection) scores the *translated* frames against the
source frame's recorded pose: the simulated form of RetinaGAN's perception consistency, with no
paired images. Evaluation: a probe of content fidelity (pose error on translated frames against
its error on true frames).

The target is ``qpos`` without its first entry (the x position, which the tracking camera cannot
see), standardised with statistics stored in the module.

The network is :class:`style_wrap.nets.PoseRegressor`.

Example:
    >>> import torch
    >>> net = fit_pose_regressor(torch.zeros(8, 3, 16, 16), torch.rand(8, 2), steps=2, width=4)
    >>> net(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 2])
"""

from __future__ import annotations

import numpy as np
import torch

from style_wrap.augment import shift
from style_wrap.nets import PoseRegressor

__all__ = ["pose_targets", "fit_pose_regressor"]


def pose_targets(qpos: np.ndarray) -> np.ndarray:
    """The part of ``qpos`` a frame shows: everything but the x position (float32)."""
    return np.asarray(qpos, np.float32)[..., 1:]


def fit_pose_regressor(
    frames: torch.Tensor,
    poses: torch.Tensor,
    *,
    steps: int = 2000,
    batch_size: int = 64,
    lr: float = 1e-3,
    width: int = 32,
    seed: int = 0,
) -> PoseRegressor:
    """Fit a regressor to frames (float NCHW in ``[-1, 1]``) and poses; returned frozen, eval.

    Random shifts of up to 4 pixels make it read the body, not exact pixel positions.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    h, w = frames.shape[2:]
    net = PoseRegressor(poses.shape[1], (h, w), width).to(frames.device)
    net.mean.copy_(poses.mean(0))
    net.std.copy_(poses.std(0).clamp_min(1e-6))
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        index = torch.randint(len(frames), (batch_size,), generator=generator).to(frames.device)
        offset = torch.randint(0, 9, (2, 1), generator=generator)  # one for the whole batch
        loss = net.loss(shift(frames[index], offset, pad=4), poses[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net
