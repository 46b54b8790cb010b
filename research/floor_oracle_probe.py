"""Is the floor all a translator lacks? (issue 18, a probe)

Each zoo member drives the RESTYLED cheetah through a translator (deterministic actions), and
sees the translation with the TRUE standard floor pasted in: the pixels where the standard
render of the same state shows the floor (MuJoCo's segmentation) are taken from that render.
The return over the member's clean standard return (research/zoo/eval/floor-need.json, same
seeds) is the ceiling of a translator that draws this body and a perfect, moving floor.

    PYTHONPATH=research python research/floor_oracle_probe.py WEIGHTS [--kinds oracle plain]
        [--seeds 700 701 702] [--out F.json]
"""

from __future__ import annotations

import argparse
import json

import gymnasium as gym
import numpy as np
from floor_need_probe import MEMBERS

import style_wrap
from style_wrap.envs import floor_mask, render_state
from style_wrap.rl.policies import FrameStacker, frames_stacked, load_policy


def episode(policy, weights: str, seed: int, oracle: bool) -> float:
    env = style_wrap.StyleTransfer(
        gym.make("StyleWrap/HalfCheetahRestyled-v5", width=64, height=64), weights, device="cpu"
    )
    obs, _ = env.reset(seed=seed)

    def seen(frame):
        if not oracle:
            return frame
        qpos = env.unwrapped.data.qpos
        mask = floor_mask("standard", qpos, width=64, height=64)
        truth = render_state("standard", qpos, width=64, height=64)
        return np.where(mask[..., None], truth, frame)

    stacker = FrameStacker(frames_stacked(policy, 3), obs.shape)
    stack, total, done = stacker.reset(seen(obs)), 0.0, False
    while not done:
        action, _ = policy.predict(stack, deterministic=True)
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        done = terminated or truncated
        stack = stacker.push(seen(obs))
    env.close()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights")
    parser.add_argument("--seeds", type=int, nargs="+", default=[700, 701, 702])
    parser.add_argument("--members", nargs="+", default=list(MEMBERS))
    parser.add_argument("--clean", default="research/zoo/eval/floor-need.json")
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=["oracle"],
        choices=["oracle", "plain"],
        help="oracle: the true floor pasted in; plain: the translation as it is",
    )
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    with open(args.clean) as f:
        clean = json.load(f)
    results = {}
    for name in args.members:
        policy = load_policy(name, device="cpu")
        base = float(np.mean(clean["members"][name]["clean"]))
        row = {"clean": base}
        for kind in args.kinds:
            got = [episode(policy, args.weights, s, kind == "oracle") for s in args.seeds]
            row[kind] = got
            row[f"{kind}_ratio"] = float(np.mean(got) / base)
        results[name] = row
        print(name, {k: v for k, v in row.items() if "ratio" in k}, flush=True)
    for kind in args.kinds:
        ratios = [r[f"{kind}_ratio"] for r in results.values()]
        print(f"{kind} mean {np.mean(ratios):.3f}, min {np.min(ratios):.3f}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            out = {"weights": args.weights, "seeds": args.seeds, "members": results}
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
