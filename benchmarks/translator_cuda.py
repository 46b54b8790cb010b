"""Milliseconds per frame of the translator on CUDA: style_wrap's path against the plain way.

style_wrap's :class:`~style_wrap.translator.Translator` uploads uint8 frames (pinned), converts
on the device, runs channels_last in fp16 or fp32 and replays a CUDA graph per batch size. The
plain way is what a user writes by hand: ``torch.from_numpy(frames).cuda().permute().float()``,
the fp32 generator, and back. Both translate the same frames of the shipped 64x64 generator, in
alternating blocks. Needs a CUDA device (``benchmarks/gpu_check.sh`` runs it).

Run: ``python benchmarks/translator_cuda.py [--batches 1,8,64,256] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from style_wrap.hub import DEFAULT_TRANSLATOR
from style_wrap.translator import Translator
from style_wrap.weights import load_generator


def _plain(weights: str):
    net, _ = load_generator(weights, "cuda")

    @torch.inference_mode()
    def translate(frames: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(frames).cuda().permute(0, 3, 1, 2).float() / 127.5 - 1
        y = ((net(x) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
        return y.permute(0, 2, 3, 1).cpu().numpy()

    return translate


def _ms_per_frame(fn, frames: np.ndarray, repeats: int) -> float:
    fn(frames)  # warm-up (and graph capture)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn(frames)
    torch.cuda.synchronize()
    return 1e3 * (time.perf_counter() - start) / (repeats * len(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=DEFAULT_TRANSLATOR)
    parser.add_argument("--batches", default="1,8,64,256")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--json", help="write the records here")
    args = parser.parse_args()
    variants = {
        "plain fp32": _plain(args.weights),
        **{
            f"style_wrap {dtype} graph {'on' if graph else 'off'}": Translator(
                args.weights, "cuda", dtype, cuda_graph=graph
            )
            for dtype in ("float16", "float32")
            for graph in (True, False)
        },
    }
    records = []
    print(f"{'batch':>5}  " + "  ".join(f"{name:>26}" for name in variants))
    for batch in (int(b) for b in args.batches.split(",")):
        frames = np.random.default_rng(0).integers(0, 256, (batch, 64, 64, 3), dtype=np.uint8)
        totals = dict.fromkeys(variants, 0.0)
        for _ in range(args.blocks):  # alternate, so drift hits every variant alike
            for name, fn in variants.items():
                totals[name] += _ms_per_frame(fn, frames, args.repeats) / args.blocks
        plain = totals["plain fp32"]
        records += [
            {"batch": batch, "variant": k, "ms_per_frame": v, "plain_over_this": plain / v}
            for k, v in totals.items()
        ]
        cells = "  ".join(f"{v:20.4f} ({plain / v:3.1f}x)" for v in totals.values())
        print(f"{batch:5d}  {cells}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=2)


if __name__ == "__main__":
    main()
