"""Evaluate a pixel policy with stable-baselines3's evaluate_policy across the cheetah domains.

    python examples/evaluate_across_domains.py \\
        --policy halfcheetah-pixel-policy \\
        --weights halfcheetah-restyled-to-standard --episodes 3

Defaults are the shipped files. The translator goes directly on the vec env, before frame
stacking (SB3 adds the image transposition itself when it loads the policy).
"""

from __future__ import annotations

import argparse

import torch
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecFrameStack

import style_wrap
from style_wrap.hub import DEFAULT_TRANSLATOR, resolve_policy
from style_wrap.rl.policies import frames_stacked, load_policy


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--policy", help="SB3 pixel policy (default: the shipped one)")
    parser.add_argument("--weights", default=DEFAULT_TRANSLATOR)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--randomized-seeds", default="1,2", help="also try these styles")
    parser.add_argument("--max-steps", type=int, default=1000, help="episode length (default 1000)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    model = load_policy(resolve_policy(args.policy))
    n_stack = frames_stacked(model)
    cases = [
        ("standard", "StyleWrap/HalfCheetah-v5", {}, False),
        ("restyled", "StyleWrap/HalfCheetahRestyled-v5", {}, False),
        ("restyled + StyleTransfer", "StyleWrap/HalfCheetahRestyled-v5", {}, True),
    ]
    for seed in filter(None, args.randomized_seeds.split(",")):
        cases.append(
            (
                f"randomized {seed}",
                "StyleWrap/HalfCheetahRandomized-v5",
                {"style_seed": int(seed)},
                False,
            )
        )
    for name, env_id, kwargs, translate in cases:
        kwargs = {**kwargs, "max_episode_steps": args.max_steps}
        venv = make_vec_env(env_id, n_envs=1, seed=0, env_kwargs=kwargs)
        if translate:
            venv = style_wrap.VecStyleTransfer(venv, weights=args.weights)
        venv = VecFrameStack(venv, n_stack)
        mean, std = evaluate_policy(model, venv, n_eval_episodes=args.episodes)
        print(f"{name:28s} {mean:9.1f} +- {std:7.1f}")
        venv.close()


if __name__ == "__main__":
    main()
