"""The post's central claim, measured: cycle loss ``detached`` against ``full`` against ``none``.

Trains one run per (cycle mode, pose weight) from the same settings file, data, budget and seed,
then scores each with ``style-wrap eval`` (paired truth, body masks, pose probe, flicker, and the
policy through it when ``--policy`` is given), and writes a markdown table plus each run's grid
(source | translated | truth). Runs resume where they stopped; finished runs are not retrained
and finished evaluations (``RUN/eval/eval.json``) not redone. Also writes ``ablation-grid.png``:
per held-out state, the source, the truth, then each run's translation in table order.

    python research/cycle_ablation.py --config research/recipes/translator.toml \\
        --iters 20000 --lambda-pose 0,1 --states data/eval-restyled \\
        --policy research/pretrained/halfcheetah-pixel-policy-round10.safetensors \\
        --out runs/ablation

Runs as it is with tiny settings (``--iters 2 --frames 12``: it collects its own small random
frames when the settings' data folders do not exist).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np

import style_wrap  # noqa: F401  (registers the cheetah ids)
from style_wrap.evaluation.paired import EvalConfig, evaluate_translator
from style_wrap.io import atomic_write_bytes, write_image
from style_wrap.train.collect import collect
from style_wrap.train.config import TrainConfig, load_toml
from style_wrap.train.loop import CHECKPOINT, EXPORTS, train

MODES = ("detached", "full", "none")
COLUMNS = ("l1_body", "psnr_body", "ssim_body", "psnr", "flicker_translated", "pose_error_ratio")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", help="TOML settings shared by every run")
    parser.add_argument("--iters", type=int, default=2, help="the same budget for every run")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--lambda-pose", default="0", help="comma-separated pose weights")
    parser.add_argument("--frames", type=int, default=12, help="frames to collect if no data")
    parser.add_argument("--states", default="", help="eval states (a collected dataset)")
    parser.add_argument("--policy", help="also run this pixel policy through each translator")
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--sequences", type=int, default=4, help="eval sequences of 50 states")
    parser.add_argument("--probe-states", type=int, default=2000, help="pose probe frames")
    parser.add_argument("--probe-steps", type=int, default=1500, help="pose probe training steps")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    args = parser.parse_args()

    base = TrainConfig(**load_toml(args.config)) if args.config else TrainConfig(ngf=8)
    data = {}
    for side, env_id, domain, seed in (
        ("a", "StyleWrap/HalfCheetahRestyled-v5", "restyled", 1),
        ("b", "StyleWrap/HalfCheetah-v5", "standard", 2),
    ):
        folder = Path(getattr(base, f"domain_{side}") or args.out / f"data-{domain}")
        if not (folder / "manifest.json").exists():
            collect(env_id, args.frames, folder, seed=seed, every=5, name=domain)
        data[f"domain_{side}"] = str(folder)

    rows = []
    for mode in args.modes.split(","):
        for pose in (float(w) for w in args.lambda_pose.split(",")):
            name = f"cycle-{mode}-pose-{pose:g}"
            run = args.out / name
            config = base.replace(
                **data,
                out=str(args.out),
                name=name,
                cycle=mode,
                lambda_pose=pose,
                iters=args.iters,
                resume=(run / CHECKPOINT).is_file(),
                progress=False,
            )
            if not (run / EXPORTS["g_ab"]).is_file():
                train(config)
            done = run / "eval" / "eval.json"
            if done.is_file():
                result = json.loads(done.read_text())
            else:
                result = evaluate_translator(
                    run / EXPORTS["g_ab"],
                    EvalConfig(
                        sequences=args.sequences,
                        states=args.states,
                        probe_states=args.probe_states,
                        probe_steps=args.probe_steps,
                    ),
                    policy=args.policy,
                    episodes=args.episodes,
                    out=run / "eval",
                )
            rows.append((mode, pose, result))
            print(f"{name}: " + json.dumps({c: round(result[c], 4) for c in COLUMNS}), flush=True)

    table = ["| cycle | pose weight | " + " | ".join(COLUMNS) + " | policy (c)/(a) |"]
    table.append("|" + " --- |" * (len(COLUMNS) + 3))
    for mode, pose, r in rows:
        policy = f"{r['policy']['ratio_translated']:.3f}" if "policy" in r else "-"
        cells = " | ".join(f"{r[c]:.3f}" for c in COLUMNS)
        table.append(f"| {mode} | {pose:g} | {cells} | {policy} |")
    baseline = rows[0][2]
    table.append(
        "| (untranslated) | - | "
        + " | ".join(f"{baseline.get('baseline_' + c, float('nan')):.3f}" for c in COLUMNS)
        + " | - |"
    )
    atomic_write_bytes(args.out / "ablation.md", ("\n".join(table) + "\n").encode())
    # Each eval grid is rows of (source | translated | truth); keep source and truth once.
    grids = [
        iio.imread(args.out / f"cycle-{m}-pose-{p:g}" / "eval" / "grid.png") for m, p, _ in rows
    ]
    width = grids[0].shape[1] // 3
    columns = [grids[0][:, :width], grids[0][:, 2 * width :]]
    columns += [g[:, width : 2 * width] for g in grids]
    write_image(args.out / "ablation-grid.png", np.concatenate(columns, axis=1))
    print("\n".join(table))
    print(f"wrote {args.out / 'ablation.md'} and {args.out / 'ablation-grid.png'}")


if __name__ == "__main__":
    main()
