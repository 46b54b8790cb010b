"""The floor's motion in pixels, and the pixel-level temporal term that asks a translation to
follow it.

A tracking camera that follows the body along x sees the ground plane slide sideways between two
frames, each image row by its own amount (near rows more than far ones; rows above the horizon,
the sky, not at all). That amount is the body's recorded x step times a per-row slope in pixels
per metre, fixed by the camera. :func:`fit_row_motion` measures the slopes from consecutive
frames of one look and their recorded x; :func:`warp_rows` moves a frame by them. The temporal
term (:func:`flow_loss`) is the one video style transfer uses with optical flow: the translation
of frame ``t`` must equal the translation of frame ``t - 1`` moved by the source's motion, on the
pixels where the *source* itself follows that motion (its floor and sky, not the moving body or
the strip that comes into view), so the floor drawn keeps its pattern and moves as the source's
does, whatever its checker's size. It needs no paired images: only the source's frames and states.


:func:`warp_rows` lives in :mod:`style_wrap.floor` (the run-time side of the floor's motion).
"""

from __future__ import annotations

import torch

from style_wrap.floor import warp_rows

__all__ = ["fit_row_motion", "flow_loss", "warp_rows"]


def fit_row_motion(
    frames: torch.Tensor,
    dx: torch.Tensor,
    *,
    max_slope: float = 64.0,
    resolution: float = 0.25,
) -> torch.Tensor:
    """Each image row's motion in pixels per metre of the body's x step, from pairs of
    consecutive frames: ``frames`` (N, 2, C, H, W) in model units, ``dx`` (N,) their recorded x
    steps.

    A pinhole camera moving along a ground plane, parallel to its image rows, sees each point of
    the plane move by ``f dx / depth``, and a plane's inverse depth is affine in the image row:
    the slopes are ``k (row - horizon)`` below the horizon and 0 above it. The fit scores every
    row at every slope of a grid (``resolution`` up to ``+-max_slope``) by how well the first
    frame, moved, matches the second (mean absolute error over the pairs), then picks the
    ``k`` and horizon whose slopes score best over all rows, so rows that the moving body fills
    follow the rows around them.

    Example:
        >>> x = torch.arange(16.0).repeat(6, 1)  # a ramp; row r > 2 slides (r - 2) px per 0.1 m
        >>> first = x.expand(4, 3, 6, 16)
        >>> slide = torch.tensor([0.0, 0, 0, 1, 2, 3]).view(6, 1)
        >>> pairs = torch.stack([first, (x - slide).expand(4, 3, 6, 16)], 1)
        >>> fit_row_motion(pairs, torch.full((4,), 0.1), max_slope=40.0).tolist()
        [0.0, 0.0, 0.0, 10.0, 20.0, 30.0]
    """
    if frames.ndim != 5 or frames.shape[1] != 2 or len(dx) != len(frames):
        raise ValueError(
            f"frames of shape {tuple(frames.shape)} and dx of length {len(dx)}; expected "
            "(N, 2, C, H, W) pairs and N x steps"
        )
    n, _, _, h, _ = frames.shape
    slopes = torch.arange(-max_slope, max_slope + resolution / 2, resolution, device=frames.device)
    before, after = frames[:, 0], frames[:, 1]
    errors = torch.empty(len(slopes), h, device=frames.device)
    for k, slope in enumerate(slopes):
        shifts = (slope * dx).view(n, 1).expand(n, h)
        moved, valid = warp_rows(before, shifts)
        err = ((moved - after).abs().mean(1, keepdim=True) * valid).sum((0, 1, 3))
        errors[k] = err / valid.sum((0, 1, 3)).clamp_min(1)
    # Affine slopes k (row + 0.5 - horizon), 0 above the horizon, scored from the table.
    rows = torch.arange(h, device=frames.device, dtype=slopes.dtype) + 0.5
    horizons = torch.arange(0, h + 0.25, 0.5, device=frames.device, dtype=slopes.dtype)
    gains = torch.linspace(-max_slope / 2, max_slope / 2, 801, device=frames.device)
    below = (rows.view(1, h) - horizons.view(-1, 1)).clamp_min(0)  # (horizons, H)
    table = errors.T.contiguous()  # (H, slopes)
    best_score, best = float("inf"), torch.zeros(h, device=frames.device)
    for gain in gains:
        candidate = gain * below  # (horizons, H)
        at = ((candidate + max_slope) / resolution).round().long().clamp(0, len(slopes) - 1)
        score = table.gather(1, at.T).sum(0)  # (horizons,)
        i = int(score.argmin())
        if float(score[i]) < best_score - 1e-9:
            best_score, best = float(score[i]), candidate[i]
    return best


def flow_loss(
    output: torch.Tensor,
    previous_output: torch.Tensor,
    source: torch.Tensor,
    previous_source: torch.Tensor,
    shifts: torch.Tensor,
    started: torch.Tensor,
    tolerance: float = 0.1,
    output_shifts: torch.Tensor | None = None,
) -> torch.Tensor:
    """The pixel-level temporal term: mean ``|output - previous_output moved by shifts|`` over
    the pixels where the source follows the same move (its mean channel error under the move is
    below ``tolerance``, in model units) and the move is defined, on rows with a history
    (``started``); 0 where there are none. ``previous_output`` is an anchor: no gradient. The
    output moves by ``output_shifts`` when its look's rows move otherwise (default: ``shifts``).

    Example:
        >>> import torch
        >>> src = torch.rand(2, 3, 8, 8)
        >>> yes, still = torch.tensor([True, True]), torch.zeros(2, 8)
        >>> same = flow_loss(src, src, src, src, still, yes)
        >>> round(float(same), 6), float(flow_loss(-src, src, src, src, still, yes)) > 0.5
        (0.0, True)
    """
    moved_src, valid = warp_rows(previous_source, shifts)
    follows = ((source - moved_src).abs().mean(1, keepdim=True) < tolerance) & valid
    mask = follows & started.view(-1, 1, 1, 1)
    out_shifts = shifts if output_shifts is None else output_shifts
    moved, inside = warp_rows(previous_output.detach(), out_shifts)
    mask = mask & inside
    count = mask.sum() * output.shape[1]
    if count == 0:
        return output.sum() * 0.0
    return ((output - moved).abs() * mask).sum() / count
