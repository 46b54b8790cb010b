"""Frame metrics for judging a translator against the true render of the same state.

All take uint8 frames, ``(H, W, 3)`` or ``(N, H, W, 3)``, on the 0-255 scale; the masked forms
average only over a boolean ``(H, W)`` or ``(N, H, W)`` mask (e.g. the body, from
:func:`style_wrap.envs.body_mask`). SSIM is torchmetrics' (Gaussian window 11, sigma 1.5).

Example:
    >>> import numpy as np
    >>> a = np.zeros((8, 8, 3), np.uint8)
    >>> l1(a, a), psnr(a, a), round(psnr(a, a + 10), 2)
    (0.0, inf, 28.13)
"""

from __future__ import annotations

import math

import numpy as np
import torch

from style_wrap.errors import ObservationError

__all__ = ["checker_energy", "flicker", "l1", "psnr", "ssim"]


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.shape[-1] != 3 or a.ndim not in (3, 4):
        raise ObservationError(
            f"frames of shapes {a.shape} and {b.shape}; expected two equal "
            "(H, W, 3) or (N, H, W, 3) shapes"
        )
    if a.ndim == 3:
        a, b = a[None], b[None]
    return a.astype(np.float64), b.astype(np.float64)


def _weights(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if mask is None:
        return np.ones(shape[:3])
    m = np.asarray(mask, bool)
    m = m[None] if m.ndim == 2 else m
    try:
        return np.broadcast_to(m, shape[:3]).astype(np.float64)
    except ValueError:
        raise ObservationError(
            f"mask of shape {np.shape(mask)}; expected (H, W) or (N, H, W) matching frames {shape}"
        ) from None


def l1(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute difference in grey levels (0-255), over the mask when given."""
    x, y = _pair(a, b)
    w = _weights(mask, x.shape)
    return float((np.abs(x - y).mean(-1) * w).sum() / max(w.sum(), 1.0))


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB (peak 255); ``inf`` for identical frames."""
    x, y = _pair(a, b)
    w = _weights(mask, x.shape)
    mse = float((((x - y) ** 2).mean(-1) * w).sum() / max(w.sum(), 1.0))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Structural similarity (1 for identical frames), its map averaged over the mask."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    x, y = _pair(a, b)
    w = _weights(mask, x.shape)
    tx, ty = (torch.from_numpy(v).permute(0, 3, 1, 2) for v in (x, y))
    _, full = structural_similarity_index_measure(tx, ty, data_range=255.0, return_full_image=True)
    ssim_map = full.mean(1).numpy()  # average over channels: (N, H, W)
    return float((ssim_map * w).sum() / max(w.sum(), 1.0))


def flicker(frames: np.ndarray) -> float:
    """Mean absolute frame-to-frame change of a sequence ``(T, H, W, 3)``, in grey levels."""
    f = np.asarray(frames)
    if f.ndim != 4 or len(f) < 2:
        raise ObservationError(f"frames of shape {f.shape}; expected a sequence (T >= 2, H, W, 3)")
    return float(np.abs(np.diff(f.astype(np.float64), axis=0)).mean())


def checker_energy(frames: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Per frame, the mean absolute Laplacian of its grey levels over a region: high where a
    textured floor is drawn there, near zero over a plain background.

    Example:
        >>> plain = np.full((1, 8, 8, 3), 100, np.uint8)
        >>> checker = plain.copy(); checker[0, ::2, ::2] = 200
        >>> region = np.ones((1, 8, 8), bool)
        >>> float(checker_energy(plain, region)[0]), bool(checker_energy(checker, region)[0] > 50)
        (0.0, True)
    """
    grey = np.asarray(frames, np.float64).mean(-1)
    padded = np.pad(grey, ((0, 0), (1, 1), (1, 1)), mode="edge")
    laplacian = np.abs(
        4 * grey
        - padded[:, :-2, 1:-1]
        - padded[:, 2:, 1:-1]
        - padded[:, 1:-1, :-2]
        - padded[:, 1:-1, 2:]
    )
    weights = np.asarray(regions, np.float64)
    return (laplacian * weights).sum((1, 2)) / np.maximum(weights.sum((1, 2)), 1.0)
