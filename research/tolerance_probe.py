"""How much faithful-looking damage does each zoo member tolerate? (issue 18, a probe)

Each member drives the TRUE standard cheetah (deterministic actions) with one damage applied to
every frame before stacking: a Gaussian blur, or an area downsample to half size and a bilinear
upsample back. A translator whose output is that close to the truth can serve a member at most
this well, so the ratio damaged / clean is a ceiling for any imperfect translation.

    python research/tolerance_probe.py [--damage blur0.7 down2] [--seeds 700 701 702] [--out F]
"""

from __future__ import annotations

import argparse
import json

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from floor_need_probe import MEMBERS

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap.rl.policies import FrameStacker, frames_stacked, load_policy


def damaged(frame: np.ndarray, damage: str) -> np.ndarray:
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
    if damage.startswith("blur"):
        sigma = float(damage[4:])
        r = int(np.ceil(3 * sigma))
        k = torch.exp(-0.5 * (torch.arange(-r, r + 1).float() / sigma) ** 2)
        k = (k / k.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)
        x = F.pad(x, (r, r, r, r), mode="replicate")
        x = F.conv2d(F.conv2d(x, k, groups=3), k.transpose(2, 3), groups=3)
    elif damage == "down2":
        h, w = frame.shape[:2]
        x = F.interpolate(F.avg_pool2d(x, 2), size=(h, w), mode="bilinear", align_corners=False)
    elif damage != "none":
        raise ValueError(f"damage {damage!r}; expected none, blurSIGMA or down2")
    return x[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()


def episode(policy, seed: int, damage: str) -> float:
    env = gym.make("StyleWrap/HalfCheetah-v5", width=64, height=64)
    obs, _ = env.reset(seed=seed)
    stacker = FrameStacker(frames_stacked(policy, 3), obs.shape)
    stack, total, done = stacker.reset(damaged(obs, damage)), 0.0, False
    while not done:
        action, _ = policy.predict(stack, deterministic=True)
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        done = terminated or truncated
        stack = stacker.push(damaged(obs, damage))
    env.close()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--damage", nargs="+", default=["blur0.7", "down2"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[700, 701, 702])
    parser.add_argument("--members", nargs="+", default=list(MEMBERS))
    parser.add_argument("--clean", default="research/zoo/eval/floor-need.json")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with open(args.clean) as f:
        clean = json.load(f)["members"]
    results = {}
    for name in args.members:
        policy = load_policy(name, device="cpu")
        base = float(np.mean(clean[name]["clean"]))
        results[name] = {"clean": base}
        for damage in args.damage:
            got = [episode(policy, s, damage) for s in args.seeds]
            results[name][damage] = {"got": got, "ratio": float(np.mean(got) / base)}
            print(
                f"{name} {damage}: {np.round(got, 1)} ratio {np.mean(got) / base:.3f}", flush=True
            )
    for damage in args.damage:
        r = [v[damage]["ratio"] for v in results.values()]
        print(f"{damage}: mean {np.mean(r):.3f} min {np.min(r):.3f}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"seeds": args.seeds, "members": results}, f, indent=1)


if __name__ == "__main__":
    main()
