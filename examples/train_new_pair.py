"""Collect and train a translator for a new pair of looks: two randomized cheetahs.

Runs as it is (a short run, a few minutes on a laptop CPU); raise --frames and --iters for a
real one, and add --lambda-pose 1 to keep the pose (the frames record their physics state):

    python examples/train_new_pair.py --seed-a 3 --seed-b 7 --iters 200 --out runs/example

The result is two generators in the run folder, usable at once with StyleTransfer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym

import style_wrap
from style_wrap.train.collect import collect
from style_wrap.train.config import TrainConfig
from style_wrap.train.loop import EXPORTS, train


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed-a", type=int, default=3, help="style seed of the source look")
    parser.add_argument("--seed-b", type=int, default=7, help="style seed of the target look")
    parser.add_argument("--frames", type=int, default=400, help="frames per domain")
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--lambda-pose", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=Path("runs/example"))
    args = parser.parse_args()

    env_id = "StyleWrap/HalfCheetahRandomized-v5"
    folders = {}
    for label, seed in (("a", args.seed_a), ("b", args.seed_b)):
        folder = args.out / f"data-randomized-{seed}"
        if not folder.exists():
            collect(
                env_id,
                args.frames,
                folder,
                seed=seed,
                every=5,
                name=f"randomized-{seed}",
                env_kwargs={"style_seed": seed},
            )
        folders[label] = folder

    run = train(
        TrainConfig(
            domain_a=str(folders["a"]),
            domain_b=str(folders["b"]),
            out=str(args.out),
            iters=args.iters,
            ngf=8,
            n_blocks=6,
            lambda_pose=args.lambda_pose,
            sample_every=max(1, args.iters // 4),
        )
    )
    weights = run / EXPORTS["g_ab"]
    env = style_wrap.StyleTransfer(
        gym.make(env_id, style_seed=args.seed_a), weights=weights, device="auto"
    )
    obs, _ = env.reset(seed=0)
    print(
        f"trained {run}; {weights.name} translates randomized-{args.seed_a} frames "
        f"{obs.shape} into the look of randomized-{args.seed_b}; samples in {run / 'samples'}"
    )


if __name__ == "__main__":
    main()
