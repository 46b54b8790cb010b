"""What would a translator that only recolours serve? (issue 18, a probe)

Each zoo member runs on the standard cheetah drawn with some of the restyled look's geometry
kept: the restyled checker size in the standard colours, the restyled links (thicker, other
proportions) in the standard colours, or both. "Both" is the ideal output of a translator that
keeps the source's structure and changes only colours and materials (what a patchwise
contrastive, one-sided translator tends to do). "plain_floor" is the standard look with a
floor of one grey (what a translator that draws no floor gives, at best). Returns over the zoo's
episodes (seed 700 on).

    python research/look_probe.py [--episodes 5] [--jobs 1] [--looks small_checker,...]
        [--json out.json] POLICY [POLICY ...]
"""

from __future__ import annotations

import argparse
import json

from style_wrap.envs import get_style
from style_wrap.hub import resolve_policy
from style_wrap.rl.episodes import EpisodeTask, run_tasks

RESTYLED = get_style("restyled")
LINKS = ("thickness", "torso_length", "head_length", "limb_length")
GEOMETRY = {k: getattr(RESTYLED, k) for k in LINKS}
GREY = (0.4, 0.4, 0.4)  # the checker's mean: what a translator that draws no floor paints
LOOKS = {
    "small_checker": {"checker_repeat": RESTYLED.checker_repeat},
    "restyled_links": GEOMETRY,
    "both": {"checker_repeat": RESTYLED.checker_repeat, **GEOMETRY},
    "plain_floor": {"checker_rgb1": GREY, "checker_rgb2": GREY},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("policies", nargs="+")
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--seed", type=int, default=700)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--looks", default=",".join(LOOKS), help="comma-separated")
    parser.add_argument("--json")
    args = parser.parse_args()
    looks = {k: LOOKS[k] for k in args.looks.split(",")}
    out: dict[str, dict[str, list[float]]] = {}
    for policy in args.policies:
        tasks = [
            EpisodeTask(
                "StyleWrap/HalfCheetah-v5",
                seed=args.seed + i,
                device="cpu",
                env_kwargs=(
                    ("style", get_style("standard").replace(name=look, **changes)),
                    ("width", 64),
                    ("height", 64),
                ),
            )
            for look, changes in looks.items()
            for i in range(args.episodes)
        ]
        results = run_tasks(resolve_policy(policy), tasks, jobs=args.jobs)
        out[policy] = {}
        for k, look in enumerate(looks):
            rets = [r.ret for r in results[k * args.episodes : (k + 1) * args.episodes]]
            flips = sum(r.flipped for r in results[k * args.episodes : (k + 1) * args.episodes])
            out[policy][look] = rets
            print(f"{policy} {look}: mean {sum(rets) / len(rets):.1f} flipped {flips}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
