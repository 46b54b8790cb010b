"""Seconds per policy episode through a translator: one process against ``--jobs`` processes.

``style-wrap choose`` and ``style-wrap demo`` judge translators by many full episodes; episodes
are independent, so :func:`style_wrap.rl.episodes.run_tasks` can spread them over processes. This
times the same episodes (the flip-aware student through its shipped translator, 1000 steps
each unless ``--max-steps``) run one after another in this process and spread over ``--jobs``
worker processes, checks that both give the same returns, and prints the ratio. Worker start-up
(a fresh interpreter importing torch, MuJoCo and the policy) is inside the timing.

Run: ``MUJOCO_GL=egl python benchmarks/episodes.py [--episodes 4] [--jobs 2] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

import style_wrap  # noqa: F401  (registers the cheetah ids)
from style_wrap.evaluation.demo import CONDITIONS
from style_wrap.hub import DEFAULT_TRANSLATOR, resolve_policy
from style_wrap.rl.episodes import EpisodeTask, run_tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--seed", type=int, default=400)
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    policy = resolve_policy()
    tasks = [
        EpisodeTask(
            CONDITIONS["restyled_translated"],
            DEFAULT_TRANSLATOR,
            args.seed + i,
            args.max_steps,
            "cpu",
        )
        for i in range(args.episodes)
    ]
    seconds = {}
    results = {}
    for jobs in (1, args.jobs):
        start = time.perf_counter()
        results[jobs] = run_tasks(policy, tasks, jobs=jobs)
        seconds[jobs] = time.perf_counter() - start
    steps = sum(r.steps for r in results[1])
    report = {
        "episodes": args.episodes,
        "steps": steps,
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "s_one_process": round(seconds[1], 2),
        f"s_{args.jobs}_processes": round(seconds[args.jobs], 2),
        "speedup": round(seconds[1] / seconds[args.jobs], 2),
        "same_returns": [r.ret for r in results[1]] == [r.ret for r in results[args.jobs]],
    }
    print(json.dumps(report, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
