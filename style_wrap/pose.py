"""A pose regressor: a small CNN that reads the cheetah's joint configuration from a frame.

Two uses. Training: with ``lambda_pose > 0``, a regressor fitted on each domain's real frames
(whose physics state was recorded at collection) scores the *translated* frames against the
source frame's recorded pose: the simulated form of RetinaGAN's perception consistency, with no
paired images. Evaluation: a probe of content fidelity (pose error on translated frames against
its error on true frames).

The target is ``qpos`` without its first entry (the x position, which the tracking camera cannot
see), standardised with statistics stored in the module.

Example:
    >>> import torch
    >>> net = PoseRegressor(n_outputs=8, frame_size=(64, 64), width=8)
    >>> net(torch.zeros(2, 3, 64, 64)).shape
    torch.Size([2, 8])
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PoseRegressor", "pose_targets", "fit_pose_regressor"]


def pose_targets(qpos: np.ndarray) -> np.ndarray:
    """The part of ``qpos`` a frame shows: everything but the x position (float32)."""
    return np.asarray(qpos, np.float32)[..., 1:]


class PoseRegressor(nn.Module):
    """Frames in ``[-1, 1]`` (NCHW) to standardised pose; :meth:`predict` undoes the scaling.

    Args:
        n_outputs: Pose dimensions.
        frame_size: ``(height, width)`` of the frames.
        width: Channels of the first layer (doubled twice).
    """

    def __init__(self, n_outputs: int, frame_size: tuple[int, int], width: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 5, stride=2, padding=2),
            nn.ReLU(True),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(4 * width, 4 * width, 3, stride=2, padding=1),
            nn.ReLU(True),
        )
        cells = -(-frame_size[0] // 16) * -(-frame_size[1] // 16)  # after four stride-2 layers
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(4 * width * cells, 256),
            nn.ReLU(True),
            nn.Linear(256, n_outputs),
        )
        self.register_buffer("mean", torch.zeros(n_outputs))
        self.register_buffer("std", torch.ones(n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def standardise(self, pose: torch.Tensor) -> torch.Tensor:
        """Pose in the units the network predicts."""
        return (pose - self.mean) / self.std

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Pose in the original units."""
        return self(x) * self.std + self.mean

    def loss(self, x: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        """Mean squared error in standardised units."""
        return F.mse_loss(self(x).float(), self.standardise(pose).float())


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
        x = F.pad(frames[index], (4, 4, 4, 4), mode="replicate")
        dy, dx = (int(v) for v in torch.randint(0, 9, (2,), generator=generator))
        loss = net.loss(x[:, :, dy : dy + h, dx : dx + w], poses[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net
