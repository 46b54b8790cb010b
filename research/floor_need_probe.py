"""How much of each zoo member's return needs the floor? (issue 18, a probe)

Each member drives the TRUE standard cheetah (deterministic actions) twice per seed: on clean
frames, and on frames whose floor pixels (MuJoCo's segmentation) are painted one plain grey, as
a translator that draws no floor shows them. The ratio no-floor / clean is the ceiling of a
translator that draws the body perfectly and no floor at all, for that member.

    python research/floor_need_probe.py [--seeds 700 701 702] [--out floor-need.json]
"""

from __future__ import annotations

import argparse
import json

import gymnasium as gym
import numpy as np

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap.envs import floor_mask
from style_wrap.rl.policies import FrameStacker, frames_stacked, load_policy

MEMBERS = (
    "halfcheetah-pixel-policy",
    "research/pretrained/halfcheetah-pixel-policy-flipaware.safetensors",
    "research/pretrained/halfcheetah-pixel-policy-round10.safetensors",
    "research/zoo/stack4.safetensors",
    "research/zoo/shiftonly.safetensors",
)
GREY = np.array([118, 118, 118], np.uint8)  # about the grey a floorless translation draws


def episode(policy, seed: int, no_floor: bool) -> float:
    env = gym.make("StyleWrap/HalfCheetah-v5", width=64, height=64)
    obs, _ = env.reset(seed=seed)

    def seen(frame):
        if not no_floor:
            return frame
        mask = floor_mask("standard", env.unwrapped.data.qpos, width=64, height=64)
        return np.where(mask[..., None], GREY, frame)

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
    parser.add_argument("--seeds", type=int, nargs="+", default=[700, 701, 702])
    parser.add_argument("--members", nargs="+", default=list(MEMBERS))
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    results = {}
    for name in args.members:
        policy = load_policy(name, device="cpu")
        clean = [episode(policy, s, False) for s in args.seeds]
        bare = [episode(policy, s, True) for s in args.seeds]
        results[name] = {
            "clean": clean,
            "no_floor": bare,
            "ratio": float(np.mean(bare) / np.mean(clean)),
        }
        print(
            f"{name}: clean {np.mean(clean):.1f}, no floor {np.mean(bare):.1f}, "
            f"ratio {results[name]['ratio']:.3f}",
            flush=True,
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"seeds": args.seeds, "members": results}, f, indent=1)


if __name__ == "__main__":
    main()
