"""Image augmentations on NCHW float batches: random shift, Gaussian blur, colour jitter.

One module for the three places that augment: the pixel policy's distillation
(:mod:`style_wrap.rl.dagger`), the pose regressor's fit and the policy-consistency term
(:mod:`style_wrap.train`). It sits in the core, below both wings, because both use it; it needs
torch only. Callers draw their own offsets (each from its own seeded generator, so that resumed
runs replay them), and these functions apply them.

Example:
    >>> import torch
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> shift(x, torch.tensor([[2], [1]]), pad=1)[0, 0, 0].tolist()  # down 1 row, same columns
    [4.0, 5.0, 6.0, 7.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["shift", "blur", "jitter"]


def shift(x: torch.Tensor, offsets: Any, pad: int) -> torch.Tensor:
    """Move each sample of ``x`` (NCHW) by its own offset; the uncovered border repeats the edge.

    ``offsets`` is ``(2, N)`` (or ``(2, 1)``, one offset for all): each sample's crop corner
    (row, column) in ``[0, 2 * pad]`` of the replicate-padded frame, so ``pad`` is no move.
    All channels of a sample move together (stacked frames keep their motion). Gradients flow
    through (it is an index).

    Example:
        >>> x = torch.arange(8.0).reshape(2, 1, 2, 2)
        >>> bool(torch.equal(shift(x, torch.ones(2, 2, dtype=torch.long), pad=1), x))
        True
    """
    if pad == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    offsets = torch.as_tensor(offsets, device=x.device).reshape(2, -1, 1).expand(2, n, 1)
    rows = offsets[0] + torch.arange(h, device=x.device)  # (N, H)
    cols = offsets[1] + torch.arange(w, device=x.device)  # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    picked = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
    return picked.permute(0, 3, 1, 2)


def blur(x: torch.Tensor, sigma: np.ndarray) -> torch.Tensor:
    """Gaussian blur of each sample ``i`` of an NCHW batch with width ``sigma[i]`` pixels.

    Example:
        >>> obs = torch.zeros(2, 3, 9, 9); obs[:, :, 4, 4] = 1.0
        >>> out = blur(obs, np.array([0.0, 1.0]))
        >>> bool(torch.equal(out[0], obs[0])), round(float(out[1].sum()), 3)
        (True, 3.0)
        >>> float(out[1, 0, 4, 4]) < 1  # the peak spreads to its neighbours
        True
    """
    n, c, h, w = x.shape
    taps = torch.arange(-2, 3, dtype=x.dtype, device=x.device)
    width = torch.as_tensor(np.maximum(sigma, 1e-3), dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (taps[None] / width[:, None]) ** 2)
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (n*c, 5)
    flat = F.pad(x.reshape(1, n * c, h, w), (2, 2, 2, 2), mode="replicate")
    flat = F.conv2d(flat, kernel[:, None, None, :], groups=n * c)
    flat = F.conv2d(flat, kernel[:, None, :, None], groups=n * c)
    return flat.reshape(n, c, h, w)


def jitter(x: torch.Tensor, amount: float) -> torch.Tensor:
    """A per-sample colour gain of ``1 +- amount`` and pixel noise, on 0..255 frames.

    The same gain applies to every stacked RGB frame of a sample (its channels in threes).
    Draws from torch's global generator.

    Example:
        >>> x = torch.full((2, 6, 4, 4), 100.0)
        >>> y = jitter(x, 0.1)
        >>> y.shape, bool(((y >= 0) & (y <= 255)).all())
        (torch.Size([2, 6, 4, 4]), True)
    """
    n, channels = x.shape[:2]
    gain = 1 + amount * (2 * torch.rand(n, 3, 1, 1) - 1)
    gain = gain.repeat(1, channels // 3, 1, 1)
    noise = torch.randn_like(x) * (255 * amount / 10)
    return (x * gain.to(x.device) + noise).clamp(0, 255)
