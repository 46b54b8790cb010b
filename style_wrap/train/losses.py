"""CycleGAN's losses as plain functions of tensors.

Example:
    >>> import torch
    >>> from style_wrap.train.losses import adversarial_loss
    >>> adversarial_loss(torch.ones(2, 1, 4, 4), True, "lsgan").item()
    0.0
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "adversarial_loss",
    "discriminator_loss",
    "cycle_losses",
    "floor_motion_loss",
    "gradient_penalty",
    "l1",
]


def adversarial_loss(scores: torch.Tensor, real: bool, mode: str = "lsgan") -> torch.Tensor:
    """How far ``scores`` are from the label ``real``: LSGAN (MSE) or vanilla (BCE on logits)."""
    target = torch.ones_like(scores) if real else torch.zeros_like(scores)
    if mode == "lsgan":
        return F.mse_loss(scores.float(), target.float())
    return F.binary_cross_entropy_with_logits(scores.float(), target.float())


def discriminator_loss(
    discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor, mode: str = "lsgan"
) -> torch.Tensor:
    """Half the sum of the real and fake terms; ``fake`` must already be detached.

    Real and fake go through the discriminator in one batch (instance norm is per sample, so this
    equals two passes).
    """
    scores = discriminator(torch.cat([real, fake]))
    s_real, s_fake = scores[: len(real)], scores[len(real) :]
    return 0.5 * (adversarial_loss(s_real, True, mode) + adversarial_loss(s_fake, False, mode))


def cycle_losses(
    g_ab: nn.Module,
    g_ba: nn.Module,
    real_a: torch.Tensor,
    real_b: torch.Tensor,
    fake_a: torch.Tensor,
    fake_b: torch.Tensor,
    mode: str,
) -> dict[str, torch.Tensor]:
    """The cycle terms ``|G_BA(fake_b) - a|`` and ``|G_AB(fake_a) - b|``.

    ``detached`` is the post's broken cycle: each fake enters the other generator detached, so
    the cycle sends no gradient into the generator that made it. ``full`` is CycleGAN's, ``none``
    has no terms.
    """
    if mode == "none":
        return {}
    if mode == "detached":
        fake_a, fake_b = fake_a.detach(), fake_b.detach()
    return {"cycle_A": l1(g_ba(fake_b), real_a), "cycle_B": l1(g_ab(fake_a), real_b)}


def gradient_penalty(
    discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor, kind: str
) -> torch.Tensor:
    """R1 (squared gradient norm on real frames, halved) or WGAN-GP (unit norm on mixtures)."""
    if kind == "r1":
        x = real.detach().requires_grad_(True)
    else:
        alpha = torch.rand(len(real), 1, 1, 1, device=real.device, dtype=real.dtype)
        x = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    norm2 = grad.float().pow(2).flatten(1).sum(1)
    if kind == "r1":
        return 0.5 * norm2.mean()
    return (norm2.add(1e-12).sqrt() - 1).pow(2).mean()


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference, in float32."""
    return F.l1_loss(a.float(), b.float())


def floor_motion_loss(
    floor: torch.Tensor,
    floor_before: torch.Tensor,
    target: torch.Tensor,
    target_before: torch.Tensor,
    started: torch.Tensor,
) -> torch.Tensor:
    """How far a drawn floor is from moving as the source moved, and from being there.

    Each argument's rows are a checker floor's phase as ``(p sin, p cos)`` (``p``: 1 over the
    floor, 0 past its end; see :func:`~style_wrap.train.pose.pose_targets`): ``floor`` as read
    from this output, ``floor_before`` from the previous one, ``target`` and ``target_before``
    the phases the source's recorded states give. The term is the squared distance of
    ``floor`` from ``floor_before`` turned by the true phase step ``target * conj(target_before)``
    (the motion; the absolute phase stays free, as one source frame leaves it open), plus the
    squared difference of ``floor``'s magnitude from the target's (presence). Rows where
    ``started`` is false have no previous output and count for presence only.

    Example:
        >>> import math
        >>> turn = lambda a: torch.tensor([[math.sin(a), math.cos(a)]])
        >>> yes = torch.tensor([True])
        >>> float(floor_motion_loss(turn(0.7), turn(0.2), turn(1.5), turn(1.0), yes)) < 1e-6
        True
        >>> float(floor_motion_loss(turn(0.2), turn(0.2), turn(1.5), turn(1.0), yes)) > 0.2
        True
    """
    floor, before = floor.float(), floor_before.float()
    target, target_before = target.float(), target_before.float()
    s, c = target[:, 0], target[:, 1]
    s0, c0 = target_before[:, 0], target_before[:, 1]
    turn_c, turn_s = c * c0 + s * s0, s * c0 - c * s0  # target * conj(target_before)
    moved_c = turn_c * before[:, 1] - turn_s * before[:, 0]
    moved_s = turn_c * before[:, 0] + turn_s * before[:, 1]
    motion = (floor[:, 0] - moved_s) ** 2 + (floor[:, 1] - moved_c) ** 2
    magnitude = (floor.pow(2).sum(1) + 1e-8).sqrt()
    presence = (magnitude - target.pow(2).sum(1).sqrt()) ** 2
    return (presence + motion * started.float()).mean()
