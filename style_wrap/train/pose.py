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


def pose_targets(
    qpos: np.ndarray, floor_period: float = 0.0, floor_extent: float = 40.0
) -> np.ndarray:
    """The part of ``qpos`` a frame shows (float32): everything but the x position, and with
    ``floor_period > 0`` the phase of a checker floor under the body.

    The tracking camera hides x itself, but a checker floor of period ``floor_period`` (metres
    along x) shows it modulo the period: two targets ``p * sin(2 pi x / period)`` and
    ``p * cos(...)``, where ``p`` is 1 while the body is over the floor (``|x| <=
    floor_extent``) and 0 past its end. Scored on a translated frame with the *target* look's
    period, they ask the translation to draw that look's checker where the source frame's state
    puts it (so the floor moves with the source, frame after frame) and no floor past its end.

    Example:
        >>> q = np.zeros((2, 9)); q[1, 0] = 50.0
        >>> pose_targets(q).shape, pose_targets(q, floor_period=1.0)[:, -2:].tolist()
        ((2, 8), [[0.0, 1.0], [0.0, 0.0]])
    """
    q = np.asarray(qpos, np.float32)
    if floor_period <= 0:
        return q[..., 1:]
    x = q[..., :1]
    present = (np.abs(x) <= floor_extent).astype(np.float32)
    angle = 2 * np.pi * x / floor_period
    return np.concatenate([q[..., 1:], present * np.sin(angle), present * np.cos(angle)], -1)


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
