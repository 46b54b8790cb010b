"""The camera's motion along a ground plane, read from frames, and where on that plane each
pixel looks: what a floor-aware translator needs at run time.

A tracking camera that follows a body along x sees the ground plane slide sideways between two
frames, each image row by its own amount, ``slopes[r]`` pixels per metre of the camera's step
(fitted per look in training: :func:`style_wrap.train.flow.fit_row_motion`). :func:`warp_rows`
moves a frame by such a motion; :func:`estimate_steps` reads the camera's step between two
frames of one look; :func:`floor_features` turns the camera's position into waves on the plane
that slide exactly as the floor does, so a generator that reads them draws a floor whose phase
holds from frame to frame, whatever its checker's size.

Example:
    >>> import torch
    >>> frame = torch.zeros(1, 3, 4, 8)
    >>> frame[..., 2:, 3] = 1.0  # a bright column in the two lower rows
    >>> moved, valid = warp_rows(frame, torch.tensor([[0.0, 0.0, 2.0, 2.0]]))
    >>> moved[0, 0, 3].tolist(), moved[0, 0, 0].tolist()  # lower rows moved 2 px right
    ([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    >>> valid[0, 0, 3].tolist()  # the first 2 columns came from outside the frame
    [False, False, True, True, True, True, True, True]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["camera_track", "estimate_steps", "floor_features", "warp_rows"]


def warp_rows(frames: torch.Tensor, shifts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``frames`` (N, C, H, W) with each row moved right by ``shifts`` (N, H) pixels (bilinear;
    negative moves left), and where the result is defined (N, 1, H, W): the pixels whose source
    lies inside the frame."""
    n, _, h, w = frames.shape
    cols = torch.arange(w, device=frames.device, dtype=frames.dtype)
    src = cols.view(1, 1, w) - shifts.to(frames.dtype).view(n, h, 1)  # (N, H, W)
    rows = torch.arange(h, device=frames.device, dtype=frames.dtype).view(1, h, 1).expand(n, h, w)
    grid = torch.stack([src * 2 / (w - 1) - 1, rows * 2 / (h - 1) - 1], dim=-1)
    moved = F.grid_sample(frames, grid, mode="bilinear", padding_mode="border", align_corners=True)
    valid = ((src >= 0) & (src <= w - 1)).unsqueeze(1)
    return moved, valid


def floor_features(
    position: torch.Tensor, slopes: torch.Tensor, periods: tuple[float, ...], width: int
) -> torch.Tensor:
    """Where on the ground plane each pixel looks, as waves: ``sin`` and ``cos`` of
    ``2 pi u / p`` for each period ``p`` (metres), ``(N, 2 len(periods), H, W)``.

    ``u`` is the plane's x under the pixel when the camera is at ``position`` (N,): a point at
    ``u`` shows in row ``r`` at column ``c0 + slopes[r] (position - u)``, so ``u = position -
    (c - c0) / slopes[r]`` (``c0`` the middle column), and the waves slide with the floor
    exactly as the camera's motion moves it (:func:`warp_rows` of ``slopes * dx``). A generator
    that reads them can draw a floor of any period that keeps its phase from frame to frame.
    Rows where a period spans under 2 pixels (near the horizon; the sky, slope 0) get 0 for
    that period: the wave would alias there.

    Example:
        >>> slopes = torch.tensor([0.0, 0.0, 8.0, 16.0])
        >>> f = floor_features(torch.tensor([0.0, 0.25]), slopes, (1.0,), width=6)
        >>> f.shape, f[:, :, :2].abs().sum().item()  # the sky rows are empty
        (torch.Size([2, 2, 4, 6]), 0.0)
        >>> moved, valid = warp_rows(f[:1], (slopes * 0.25).view(1, 4))
        >>> bool(torch.allclose(moved[valid.expand_as(moved)], f[1:][valid.expand_as(moved)],
        ...     atol=1e-5))
        True
    """
    h, w = slopes.shape[0], width
    cols = torch.arange(w, device=slopes.device, dtype=torch.float32) - (w - 1) / 2
    s = slopes.float().view(1, h, 1)
    safe = torch.where(s.abs() > 1e-6, s, torch.ones_like(s))
    u = position.float().view(-1, 1, 1) - cols.view(1, 1, w) / safe  # (N, H, W)
    out = []
    for p in periods:
        keep = ((s.abs() * p) >= 2.0).float()  # (1, H, 1)
        phase = u * (2 * torch.pi / p)
        out += [torch.sin(phase) * keep, torch.cos(phase) * keep]
    return torch.stack(out, 1)


def estimate_steps(
    previous: torch.Tensor,
    frames: torch.Tensor,
    slopes: torch.Tensor,
    guess: torch.Tensor,
    *,
    window: float = 0.12,
    candidates: int = 49,
    prior: float = 0.02,
) -> torch.Tensor:
    """The camera's x step (metres) from ``previous`` to ``frames`` (N, C, H, W, model units),
    read from the pixels: the step within ``guess +- window`` (N,) whose row motion (``slopes
    * dx``, :func:`warp_rows`) best maps the previous frame onto this one (mean absolute error
    over the rows that move, plus ``prior`` per metre away from the guess, so a floor with
    nothing to read, such as a plain one, keeps the guess), refined between grid points.

    A checker repeats: steps one repeat apart look alike. The window around the previous step
    (a camera does not change speed by a repeat per frame) picks the right one.

    Example:
        >>> x = torch.linspace(-1, 1, 32).sin().repeat(3, 8, 1)[None]  # (1, 3, 8, 32)
        >>> slopes = torch.full((8,), 10.0)
        >>> moved, _ = warp_rows(x, torch.full((1, 8), 0.8))  # a 0.08 m step
        >>> round(float(estimate_steps(x, moved, slopes, torch.zeros(1))[0]), 2)
        0.08
    """
    n = len(frames)
    moving = slopes.abs() > 1e-6
    if not bool(moving.any()):
        return guess.clone()
    rows = torch.nonzero(moving).flatten()
    before = previous.float().mean(1, keepdim=True)[:, :, rows]  # grey rows that move
    after = frames.float().mean(1, keepdim=True)[:, :, rows]
    offsets = torch.linspace(-window, window, candidates, device=frames.device)
    steps = guess.float().view(n, 1) + offsets.view(1, -1)  # (N, K)
    k = candidates
    shifts = steps.view(n * k, 1) * slopes[rows].float().view(1, -1)
    moved, valid = warp_rows(before.repeat_interleave(k, 0), shifts)
    err = ((moved - after.repeat_interleave(k, 0)).abs() * valid).sum((1, 2, 3))
    err = err / valid.sum((1, 2, 3)).clamp_min(1)
    score = err.view(n, k) + prior * offsets.abs().view(1, -1)
    best = score.argmin(1)
    i = best.clamp(1, k - 2)
    left, mid, right = (score.gather(1, (i + d).view(n, 1)).flatten() for d in (-1, 0, 1))
    curve = left - 2 * mid + right
    frac = torch.where(curve > 1e-9, 0.5 * (left - right) / curve.clamp_min(1e-9), 0.0)
    frac = torch.where(best == i, frac.clamp(-0.5, 0.5), 0.0)
    spacing = 2 * window / (k - 1)
    return steps.gather(1, best.view(n, 1)).flatten() + frac * spacing


def camera_track(frames: torch.Tensor, steps: torch.Tensor, slopes: torch.Tensor) -> torch.Tensor:
    """The camera's position (metres from each episode's first frame) at every frame of
    recorded episodes, as a floor-aware translator reads it at run time: ``frames`` uint8
    ``(N, H, W, 3)`` in order, ``steps`` (N,) each frame's step in its episode; each frame's
    step from the one before (:func:`estimate_steps`, near the step before it) added up. All
    episodes advance together, one step at a time.

    Example:
        >>> frames = torch.zeros(3, 4, 8, 3, dtype=torch.uint8)
        >>> camera_track(frames, torch.tensor([0, 1, 2]), torch.full((4,), 10.0)).tolist()
        [0.0, 0.0, 0.0]
    """
    n = len(frames)
    steps = steps.to(frames.device)
    follows = torch.zeros(n, dtype=torch.bool, device=frames.device)
    follows[1:] = (steps[1:] == steps[:-1] + 1) & (steps[1:] >= 1)
    positions = torch.zeros(n, device=frames.device)
    velocity = torch.zeros(n, device=frames.device)
    if not bool(follows.any()):
        return positions
    for k in range(1, int(steps[follows].max()) + 1):
        index = torch.nonzero(follows & (steps == k)).flatten()
        if len(index) == 0:
            continue
        before = frames[index - 1].permute(0, 3, 1, 2).float() / 127.5 - 1
        after = frames[index].permute(0, 3, 1, 2).float() / 127.5 - 1
        step = estimate_steps(before, after, slopes, velocity[index - 1])
        velocity[index] = step
        positions[index] = positions[index - 1] + step
    return positions
