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

__all__ = ["adversarial_loss", "discriminator_loss", "cycle_losses", "gradient_penalty", "l1"]


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
