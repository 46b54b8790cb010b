"""Milliseconds per frame of the pose translator's drawing, against the plain-PyTorch way.

The pose translator draws each frame's soft lines (24 segments over 64x64 pixels) and its floor
(two square waves of six odd harmonics through every pixel's ray). Written the plain way (one
Gaussian ``exp`` over every pixel, a Python loop over the harmonics, ``sin`` and ``exp`` of
whatever the pixels give), most of that time is spent where the CPU's vector math leaves its
fast path: ``exp`` of exponents below -87 (most of a soft-line map lies far from any line; a
harmonic damped at the horizon) and ``sin`` of arguments past 1e5 (the horizon's ground points
lie kilometres off). The package clamps both where the result is nil and reduces the wave's
argument by its period (:func:`style_wrap.posenet.segment_maps`, :func:`square_wave`), and
stacks the harmonics on one axis.

This times the plain and the package's way of each part and of the whole translation
(``PoseNet`` forward, batch 1), interleaved round by round on one thread, checks that they
agree, and prints the median of each and their ratio per round.

Run: ``python benchmarks/pose_render.py [WEIGHTS] [--rounds 7] [--calls 200]`` (default: the
shipped policy-free translator).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from style_wrap.posenet import POSE_SIZE, CameraRenderer, segment_maps
from style_wrap.weights import load_generator


def plain_segment_maps(ends: torch.Tensor, size: int, sigma: float = 1.0) -> torch.Tensor:
    grid = torch.arange(size, dtype=ends.dtype) + 0.5
    a = ends[:, :, 0, :, None, None]
    ab = ends[:, :, 1, :, None, None] - a
    inv = 1 / (ab * ab).sum(2).clamp_min(1e-6)
    dx, dy = grid.view(1, size) - a[:, :, 0], grid.view(size, 1) - a[:, :, 1]
    t = ((dx * ab[:, :, 0] + dy * ab[:, :, 1]) * inv).clamp(0, 1)
    ex, ey = dx - t * ab[:, :, 0], dy - t * ab[:, :, 1]
    return torch.exp((ex * ex + ey * ey) * (-0.5 / sigma**2))


def plain_square_wave(x, sigma, omega, gains):
    out = torch.zeros_like(x)
    for i in range(len(gains)):
        k = 2 * i + 1
        damp = torch.exp(-0.5 * (k * omega * sigma) ** 2)
        out = out + gains[i] * (4 / (math.pi * k)) * torch.sin(k * omega * x) * damp
    return out


class PlainRenderer(CameraRenderer):
    """The same renderer and weights, drawn the plain way."""

    def background(self, root_x, cam_x, cam_z):
        d = self.rays
        down = (-d[2]).clamp_min(1e-4)
        ground = (d[2] < 0).to(d.dtype)
        t = cam_z.view(-1, 1, 1) / down
        along = t * d[0]
        x = (root_x + cam_x).view(-1, 1, 1) + along
        y = self.cam_y + t * d[1]
        pad = nn.functional.pad
        dxu = pad(along.diff(dim=2), (0, 1), mode="replicate")
        dxv = pad(along.diff(dim=1), (0, 0, 0, 1), mode="replicate")
        dyv = pad(y.diff(dim=1), (0, 0, 0, 1), mode="replicate")
        scale = nn.functional.softplus(self.blur) / math.log(2) * 0.5
        sx = scale * (dxu**2 + dxv**2).sqrt()
        sy = scale * dyv.abs()
        omega = 2 * math.pi / float(self.period)
        checker = plain_square_wave(x - self.phase[0], sx, omega, self.gains) * (
            plain_square_wave(y - self.phase[1], sy, omega, self.gains)
        )
        on = (
            torch.sigmoid((self.extent - x.abs()) / (sx + 1e-3))
            * torch.sigmoid((self.extent - y.abs()) / (sy + 1e-3))
            * ground
        ).unsqueeze(1)
        return checker.unsqueeze(1), on

    def body_paint(self, ends, cam_x, cam_z):
        flat = torch.stack([ends[..., 0], ends[..., 1], torch.zeros_like(ends[..., 2])], -1)
        mirror = torch.stack([ends[..., 0], ends[..., 1], -ends[..., 2]], -1)
        pts = self.project(torch.cat([ends, mirror, flat], 1), cam_x, cam_z)
        return self.paint(plain_segment_maps(pts, self.size))


def timed(fn: Callable[[], torch.Tensor], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="?", default="halfcheetah-restyled-to-standard-policyfree")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = load_generator(args.weights)[0].float().eval()
    ren = net.renderer
    plain_net = load_generator(args.weights)[0].float().eval()
    plain = PlainRenderer(ren.kp[-1].out_features // 6, ren.paint[0].out_channels, len(ren.gains))
    plain.load_state_dict(ren.state_dict())
    plain_net.renderer = plain.eval()

    torch.manual_seed(0)
    frames = torch.rand(1, 3, 64, 64) * 2 - 1
    started, root = torch.tensor([True]), torch.tensor([12.3])
    with torch.inference_mode():
        pose = net.encoder(frames, frames)[:, :POSE_SIZE]
        ends, cam_x, cam_z = ren.geometry(pose)
        flat = torch.stack([ends[..., 0], ends[..., 1], torch.zeros_like(ends[..., 2])], -1)
        pts = ren.project(torch.cat([ends, ends * torch.tensor([1, 1, -1]), flat], 1), cam_x, cam_z)
        parts = {
            "soft lines": (
                lambda: plain_segment_maps(pts, ren.size),
                lambda: segment_maps(pts, ren.size),
            ),
            "floor": (
                lambda: plain.background(root, cam_x, cam_z)[0],
                lambda: ren.background(root, cam_x, cam_z)[0],
            ),
            "translation": (
                lambda: plain_net(frames, frames, started, root)[0],
                lambda: net(frames, frames, started, root)[0],
            ),
        }
        for name, (a, b) in parts.items():
            gap = float((a() - b()).abs().max())
            if gap > 1e-3:
                raise SystemExit(f"{name}: the two ways differ by {gap}")
            a_ms, b_ms = [], []
            for _ in range(args.rounds):
                a_ms.append(timed(a, args.calls))
                b_ms.append(timed(b, args.calls))
            ratios = [x / y for x, y in zip(a_ms, b_ms)]
            print(
                f"{name:12s} plain {statistics.median(a_ms):6.2f} ms, package "
                f"{statistics.median(b_ms):6.2f} ms; plain / package per round "
                f"{min(ratios):.2f}-{max(ratios):.2f}, median {statistics.median(ratios):.2f} "
                f"(largest difference {gap:.1e})"
            )


if __name__ == "__main__":
    main()
