"""Milliseconds per env step (physics + frame) for the stock and the fast render profile.

Both profiles are timed in the same run, in alternating blocks so machine noise hits both alike,
and the script prints their ratio. Run: ``python benchmarks/render_profile.py [--steps 200]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import style_wrap
from style_wrap.envs import CheetahPixelEnv, render_state


def _time_block(env: CheetahPixelEnv, actions: np.ndarray) -> float:
    start = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    return (time.perf_counter() - start) / len(actions) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200, help="steps per profile and size")
    parser.add_argument("--blocks", type=int, default=5, help="alternating blocks per profile")
    parser.add_argument("--domain", default="standard")
    parser.add_argument("--json", help="also write the records here")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    records = []
    for size in (64, 84):
        envs = {
            p: CheetahPixelEnv(args.domain, width=size, height=size, render_profile=p)
            for p in ("stock", "fast")
        }
        times: dict[str, list[float]] = {p: [] for p in envs}
        for env in envs.values():
            env.reset(seed=0)
            _time_block(env, rng.uniform(-1, 1, (10, 6)))  # warm up the GL context
        per_block = max(1, args.steps // args.blocks)
        for _ in range(args.blocks):
            actions = rng.uniform(-1, 1, (per_block, 6))
            for p, env in envs.items():
                times[p].append(_time_block(env, actions))
        qpos = envs["fast"].data.qpos.copy()
        grey = np.abs(
            render_state(args.domain, qpos, width=size, height=size, render_profile="stock")
            .astype(float)
            .mean(-1)
            - render_state(args.domain, qpos, width=size, height=size, render_profile="fast")
            .astype(float)
            .mean(-1)
        ).mean()
        stock, fast = float(np.median(times["stock"])), float(np.median(times["fast"]))
        records.append(
            {
                "size": size,
                "stock_ms": stock,
                "fast_ms": fast,
                "speedup": stock / fast,
                "mean_abs_grey_diff": float(grey),
            }
        )
        print(
            f"{size}x{size}: stock {stock:6.2f} ms/step  fast {fast:6.2f} ms/step  "
            f"stock/fast {stock / fast:4.2f}x  mean |grey diff| {grey:.2f} levels"
        )
        for env in envs.values():
            env.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=2)
    print(
        f"style_wrap {style_wrap.__version__}, domain {args.domain}, median of {args.blocks} blocks"
    )


if __name__ == "__main__":
    main()
