"""What the floor lock does along closed-loop episodes (issue 18): per step the root's true x,
the encoder's guess (last x plus its step), the lock's x, and the reward, through the wheel's
StyleTransfer on the restyled env.

    python research/lock_trace.py WEIGHTS --policy NAME --seeds 700 701 ... --out F.npz
        [--search HALF N FINE_HALF FINE_N] [--max-correction M] [--frames]

WEIGHTS: a pose translator file with a lock (``research/pose_translator.py add-lock``).
``--search`` sets the lock's search window instead of ``posenet.LOCK_SEARCH``;
``--max-correction`` bounds the lock's move from the guess per frame (m; 0: no bound);
``--edge-only M`` locks only from M m before the floor's edge on. Prints each episode's
return, the largest |lock - guess|, how often the lock moved more than 5 cm, the largest
|lock - x| and the slip steps (its error jumping by over 0.15 m on the floor), and writes the
traces (``x``, ``guess``, ``lock``, ``reward`` per seed; with ``--frames`` also the translated
frames and the true standard ones, ``seen`` and ``truth``) to ``--out``.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch

import style_wrap  # noqa: F401  (registers the envs)
import style_wrap.posenet as posenet
from style_wrap import StyleTransfer
from style_wrap.envs import render_state
from style_wrap.rl.policies import FrameStacker, frames_stacked, load_policy
from style_wrap.weights import load_generator


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights")
    p.add_argument("--policy", default="halfcheetah-pixel-policy")
    p.add_argument("--seeds", type=int, nargs="+", default=[700])
    p.add_argument("--max-correction", type=float, default=0.0)
    p.add_argument(
        "--search",
        type=float,
        nargs=4,
        default=None,
        metavar=("HALF", "N", "FINE_HALF", "FINE_N"),
        help="the lock's search instead of posenet.LOCK_SEARCH (m, candidates; coarse, fine)",
    )
    p.add_argument(
        "--edge-only",
        type=float,
        default=0.0,
        metavar="M",
        help="lock only within M metres before the floor's edge and past it (0: everywhere)",
    )
    p.add_argument("--out", default="")
    p.add_argument(
        "--frames", action="store_true", help="also keep each translated frame and the truth"
    )
    args = p.parse_args()
    torch.set_num_threads(1)
    if getattr(load_generator(args.weights)[0], "lock", None) is None:
        raise SystemExit(f"{args.weights} has no floor lock (research/pose_translator.py add-lock)")

    trace: dict[str, list[float]] = {"guess": [], "lock": []}
    plain = posenet.floor_lock

    def recorded(source, pose, x, guess):
        if args.edge_only > 0 and float(guess.abs().max()) < float(source.extent) - args.edge_only:
            got = guess.float().clone()
        else:
            got = plain(source, pose, x, guess)
        if args.max_correction > 0:
            m = args.max_correction
            got = guess.float() + (got - guess.float()).clamp(-m, m)
        trace["guess"].append(float(guess[0]))
        trace["lock"].append(float(got[0]))
        return got

    if args.search:
        h, n, fh, fn = args.search
        posenet.LOCK_SEARCH = ((h, int(n)), (fh, int(fn)))
    posenet.floor_lock = recorded  # PoseNet.forward looks it up in the module at each call
    policy = load_policy(args.policy, device="cpu")
    saved = {}
    for seed in args.seeds:
        trace["guess"].clear()
        trace["lock"].clear()
        env = StyleTransfer(
            gym.make("StyleWrap/HalfCheetahRestyled-v5", width=64, height=64),
            weights=args.weights,
            device="cpu",
        )
        obs, _ = env.reset(seed=seed)
        xs, rewards = [float(env.unwrapped.data.qpos[0])], []
        seen, truth = [obs], [render_state("standard", env.unwrapped.data.qpos)]
        stacker = FrameStacker(frames_stacked(policy, 3), obs.shape)
        stack, done = stacker.reset(obs), False
        while not done:
            action, _ = policy.predict(stack, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            rewards.append(float(reward))
            xs.append(float(env.unwrapped.data.qpos[0]))
            done = terminated or truncated
            stack = stacker.push(obs)
            if args.frames:
                seen.append(obs)
                truth.append(render_state("standard", env.unwrapped.data.qpos))
        env.close()
        x, guess, lock = np.array(xs), np.array(trace["guess"]), np.array(trace["lock"])
        moved = np.abs(lock - guess)
        err = np.abs(lock - x[: len(lock)])
        # A slip: the lock's error jumping by more than 0.15 m in one step while on the floor.
        on = np.abs(x[1 : len(lock)]) < 40
        slips = int(((np.abs(np.diff(lock - x[: len(lock)])) > 0.15) & on).sum())
        print(
            seed,
            round(sum(rewards), 1),
            f"max |lock-guess| {moved.max():.3f}",
            f"moves > 5 cm {int((moved > 0.05).sum())}",
            f"max |lock - x| {err.max():.3f}",
            f"slip steps {slips}",
            flush=True,
        )
        saved[f"x_{seed}"], saved[f"guess_{seed}"] = x, guess
        saved[f"lock_{seed}"], saved[f"reward_{seed}"] = lock, np.array(rewards)
        if args.frames:
            saved[f"seen_{seed}"], saved[f"truth_{seed}"] = np.stack(seen), np.stack(truth)
    if args.out:
        np.savez_compressed(args.out, **saved)


if __name__ == "__main__":
    main()
