"""The ``style-wrap`` command line: each subcommand is a thin call into the package's modules.

Example:
    >>> from style_wrap.cli import build_parser
    >>> build_parser().parse_args(["domains", "--size", "32"]).size
    32
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from style_wrap.errors import ConfigError, StyleWrapError

__all__ = ["build_parser", "main"]


def _cmd_domains(args: argparse.Namespace) -> None:
    from style_wrap.domains.gallery import DEFAULT_ROWS, domain_grid
    from style_wrap.io import write_image

    write_image(args.out, domain_grid(DEFAULT_ROWS, poses=args.poses, size=args.size))
    names = ", ".join(d if s is None else f"{d} (seed {s})" for d, s in DEFAULT_ROWS)
    print(f"wrote {args.out}: rows {names}")


def _parse_kwargs(pairs: list[str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"env kwarg {pair!r}; expected KEY=VALUE (VALUE parsed as JSON)")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def _cmd_collect(args: argparse.Namespace) -> None:
    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.data import collect

    manifest = collect(
        args.env,
        args.frames,
        args.out,
        seed=args.seed,
        policy=args.policy,
        env_kwargs=_parse_kwargs(args.env_kwarg),
        every=args.every,
        shard_size=args.shard_size,
        name=args.name,
        translator=args.translator,
        flip_reset=args.flip_reset,
        deterministic=args.deterministic,
    )
    total = sum(s["frames"] for s in manifest["shards"])
    print(
        f"{args.out}: {total} frames of {manifest['frame_shape']} in {len(manifest['shards'])} "
        f"shard(s){', with qpos/qvel' if manifest['has_state'] else ''}"
    )


def _cmd_expert(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from style_wrap.policy import evaluate_expert, train_expert

    torch.set_num_threads(args.threads)
    if not args.eval_only:
        train_expert(args.out, steps=args.steps, seed=args.seed, env_id=args.env)
        print(f"wrote {args.out}/expert.zip and {args.out}/vecnormalize.pkl")
    if args.episodes:
        returns = evaluate_expert(args.out, args.episodes, seed=100, env_id=args.env)
        shown = ", ".join(f"{r:.0f}" for r in returns)
        print(f"expert return {np.mean(returns):.1f} +- {np.std(returns):.1f} ({shown})")


def _cmd_distill(args: argparse.Namespace) -> None:
    from dataclasses import fields

    import torch

    from style_wrap.policy import DaggerConfig, distill_pixel_policy

    torch.set_num_threads(args.threads)
    settings = {f.name: getattr(args, f.name) for f in fields(DaggerConfig)}
    out = distill_pixel_policy(args.expert, args.out, DaggerConfig(**settings))
    print(f"latest student: {out}/student.zip; best: {out}/best.zip; log: {out}/log.jsonl")


def _cmd_train(args: argparse.Namespace) -> None:
    from dataclasses import fields

    from style_wrap.train.config import TrainConfig, config_from_args
    from style_wrap.train.loop import train

    config = config_from_args(args)
    given = {f.name for f in fields(TrainConfig) if f.name in vars(args)}
    run = train(config, given)
    print(f"run folder: {run}")


def _cmd_export(args: argparse.Namespace) -> None:
    from style_wrap.train.loop import export_run

    for path in export_run(args.run_dir, args.dtype):
        print(f"wrote {path}")


def _cmd_info(args: argparse.Namespace) -> None:
    from style_wrap.weights import read_spec, resolve_weights, spec_summary

    path = resolve_weights(args.weights)
    print(json.dumps({"file": str(path), **spec_summary(read_spec(path))}, indent=2))


def _cmd_translate(args: argparse.Namespace) -> None:
    from style_wrap.media import translate_file
    from style_wrap.translator import Translator

    translator = Translator(args.weights, args.device, resize=args.resize)
    count = translate_file(translator, args.input, args.output, batch_size=args.batch_size)
    print(
        f"wrote {args.output}: {count} frame(s) {translator.spec.domain_from} -> "
        f"{translator.spec.domain_to}"
    )


def _cmd_bench(args: argparse.Namespace) -> None:
    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.bench import bench_weights, run_bench
    from style_wrap.io import atomic_write_bytes

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    weights = bench_weights(args.weights, args.ngf, args.n_blocks, args.size)
    batches = tuple(int(b) for b in args.batches.split(","))
    records = run_bench(
        weights,
        args.env,
        batches=batches,
        steps=args.steps,
        env_kwargs={"width": args.size, "height": args.size},
    )
    print(f"weights {weights}, env {args.env} at {args.size}x{args.size}; ms per frame")
    print("device  batch  env_ms  wrapped_ms  translate_ms  translate/env  frames/s")
    for r in records:
        d = r.to_dict()
        print(
            f"{r.device:6s} {r.batch:6d} {r.env_ms:7.2f} {r.wrapped_ms:11.2f} "
            f"{r.translate_ms:13.3f} {r.translate_over_env:14.2f} {d['frames_per_s']:9.0f}"
        )
    if args.json:
        atomic_write_bytes(args.json, json.dumps([r.to_dict() for r in records], indent=2).encode())


def _cmd_demo(args: argparse.Namespace) -> None:
    import torch

    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.demo import run_demo

    # One frame at a time gains nothing from more threads, and extra threads fight any other
    # process for the cores (measured: docs/usage.md, "Speed").
    torch.set_num_threads(args.threads)
    video = None if args.video == "none" else args.video
    result = run_demo(
        policy=args.policy,
        weights=args.weights,
        episodes=args.episodes,
        max_steps=args.max_steps,
        seed=args.seed,
        device=args.device,
        video=video,
        json_path=args.json,
        jobs=args.jobs,
    )
    print(result.table())
    if video:
        print(f"video (restyled | translated | standard render of the same state): {video}")


def _cmd_choose(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.demo import choose_translator
    from style_wrap.io import atomic_write_bytes

    torch.set_num_threads(args.threads)
    records = choose_translator(
        args.weights,
        policy=args.policy,
        episodes=args.episodes,
        seed=args.seed,
        max_steps=args.max_steps,
        device=args.device,
        jobs=args.jobs,
    )
    print("mean return  speed m/s  flipped  weights")
    for r in records:
        flips = f"{sum(r['flipped'])}/{len(r['returns'])}"
        print(f"{r['mean']:11.1f}  {np.mean(r['speed']):9.2f}  {flips:7s}  {r['weights']}")
    if args.json:
        document = {"best": records[0]["weights"], "seed": args.seed, "results": records}
        atomic_write_bytes(args.json, json.dumps(document, indent=2).encode())
    print(f"best: {records[0]['weights']}")


def _cmd_eval(args: argparse.Namespace) -> None:
    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.evaluate import EvalConfig, evaluate_translator, markdown_table

    config = EvalConfig(
        source=args.source,
        target=args.target,
        sequences=args.sequences,
        sequence_length=args.sequence_length,
        states=args.states,
        probe_states=args.probe_states,
        probe_steps=args.probe_steps,
        seed=args.seed,
    )
    result = evaluate_translator(
        args.weights,
        config,
        policy=args.policy,
        episodes=args.episodes,
        out=args.out,
        device=args.device,
    )
    print(markdown_table(result), end="")
    if args.json:
        from style_wrap.io import atomic_write_bytes

        atomic_write_bytes(args.json, json.dumps(result, indent=2).encode())
    if args.out:
        print(f"wrote {args.out}/eval.json, eval.md, grid.png (source | translated | truth)")


def _add_jobs(p: argparse.ArgumentParser, default: int = 1, said: str = "1") -> None:
    """``--jobs``, for the subcommands whose episodes :func:`style_wrap.episodes.run_tasks` runs."""
    p.add_argument(
        "--jobs",
        type=int,
        default=default,
        help=f"run the episodes in this many processes (same results, sooner; default {said})",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="style-wrap",
        description="Translate pixel observations between visual domains (CycleGAN wrappers).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from style_wrap.demo import SHIPPED_TRANSLATOR

    p = sub.add_parser("demo", help="the pixel policy in standard, restyled, restyled+translated")
    p.add_argument(
        "--policy",
        help="SB3 pixel policy .zip, or a shipped policy file name (default: the demo's)",
    )
    p.add_argument(
        "--weights",
        default=SHIPPED_TRANSLATOR,
        help="translator restyled -> standard (default: %(default)s)",
    )
    p.add_argument(
        "--episodes", type=int, default=10, help="episodes per condition (default: %(default)s)"
    )
    p.add_argument("--max-steps", type=int, help="cut episodes at this many steps (default: 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--video", default="demo.mp4", help="side-by-side video, or 'none'")
    p.add_argument("--json", help="write returns and ratio_raw / ratio_translated here")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    _add_jobs(p, min(os.cpu_count() or 1, 8), "the CPU cores, up to 8")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("choose", help="rank translator files by the pixel policy's return")
    p.add_argument("weights", nargs="+", help="translator files (restyled -> standard)")
    p.add_argument(
        "--policy",
        help="SB3 pixel policy .zip, or a shipped policy file name (default: the demo's)",
    )
    p.add_argument("--episodes", type=int, default=3, help="episodes per translator")
    p.add_argument(
        "--seed", type=int, default=100, help="first episode seed; keep apart from the demo's 0"
    )
    p.add_argument("--max-steps", type=int, help="cut episodes at this many steps")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", help="write the ranking and the best file here")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    _add_jobs(p)
    p.set_defaults(func=_cmd_choose)

    p = sub.add_parser("eval", help="paired fidelity, pose, flicker (and policy) of a translator")
    p.add_argument("--weights", default=SHIPPED_TRANSLATOR)
    p.add_argument("--policy", help="also evaluate this pixel policy through the translator")
    p.add_argument("--episodes", type=int, default=3, help="policy episodes per condition")
    p.add_argument("--source", default="restyled", help="look the translator reads")
    p.add_argument("--target", default="standard", help="look it should produce")
    p.add_argument("--sequences", type=int, default=4)
    p.add_argument("--sequence-length", type=int, default=50)
    p.add_argument(
        "--states",
        default="",
        help="collected dataset whose recorded states to draw (default: random-action rollouts)",
    )
    p.add_argument("--probe-states", type=int, default=2000)
    p.add_argument("--probe-steps", type=int, default=1500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", help="folder for eval.json, eval.md and grid.png")
    p.add_argument("--json", help="also write the JSON here")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("domains", help="draw the cheetah domains side by side into a PNG")
    p.add_argument("--out", default="domains.png", help="image file to write (default %(default)s)")
    p.add_argument("--size", type=int, default=128, help="pixels per frame (default %(default)s)")
    p.add_argument("--poses", type=int, default=4, help="poses per row (default %(default)s)")
    p.set_defaults(func=_cmd_domains)

    p = sub.add_parser("expert", help="train a state-based PPO expert (the pixel policy's teacher)")
    p.add_argument("--out", required=True, help="folder for expert.zip and vecnormalize.pkl")
    p.add_argument("--steps", type=int, default=250_000, help="environment steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--env", default="HalfCheetah-v5", help="gymnasium id with state observations")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument(
        "--episodes", type=int, default=5, help="evaluation episodes afterwards (seeds 100+)"
    )
    p.add_argument("--eval-only", action="store_true", help="evaluate the expert in --out only")
    p.set_defaults(func=_cmd_expert)

    from dataclasses import MISSING, fields

    from style_wrap.policy import DaggerConfig

    p = sub.add_parser("distill", help="DAgger: a state expert into a pixel policy (resumable)")
    p.add_argument("--expert", required=True, help="folder made by `style-wrap expert`")
    p.add_argument("--out", required=True, help="folder for rounds, student.zip, best.zip, log")
    for f in fields(DaggerConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        if isinstance(default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        else:
            p.add_argument(flag, type=type(default), default=default, help="(default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.set_defaults(func=_cmd_distill)

    p = sub.add_parser("collect", help="store unpaired frames of one domain for training")
    p.add_argument("--env", required=True, help="gymnasium id with image observations")
    p.add_argument("--frames", type=int, required=True, help="frames to add")
    p.add_argument("--out", required=True, help="dataset folder (created or appended to)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--policy",
        default="random",
        help="'random', an SB3 pixel-policy .zip (or a shipped one's name), or a state-expert "
        "folder (style-wrap expert)",
    )
    p.add_argument("--every", type=int, default=1, help="keep every K-th step (default 1)")
    p.add_argument(
        "--translator",
        help="generator through which the pixel --policy sees the frames (stored frames stay raw)",
    )
    p.add_argument(
        "--flip-reset",
        action="store_true",
        help="end an episode once the cheetah is upside down (cos(qpos[2]) < 0)",
    )
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="the policy takes its mean action instead of a sample (its loop as evaluated)",
    )
    p.add_argument("--shard-size", type=int, default=1000, help="frames per shard")
    p.add_argument("--name", help="domain name stored in the manifest (default: the env id)")
    p.add_argument(
        "--env-kwarg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="gym.make keyword, repeatable; VALUE is parsed as JSON when it can be",
    )
    p.set_defaults(func=_cmd_collect)

    from style_wrap.train.config import add_config_arguments

    p = sub.add_parser(
        "train",
        help="train a CycleGAN between two frame folders",
        description="Train a CycleGAN; works under torchrun for many GPUs.",
    )
    add_config_arguments(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("export", help="write a run's generators as .safetensors")
    p.add_argument("run_dir", help="a run folder of `style-wrap train`")
    p.add_argument("--dtype", choices=("float32", "float16"), help="default: the run's setting")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("info", help="print a generator file's metadata")
    p.add_argument("weights", help=".safetensors file or shipped model name")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("translate", help="translate a PNG, a .npy array of frames or an .mp4")
    p.add_argument("weights", help=".safetensors file or shipped model name")
    p.add_argument("input", help="input .png, .npy ((H, W, 3) or (N, H, W, 3) uint8) or .mp4")
    p.add_argument("output", help="output file of the same kind")
    p.add_argument("--device", default="auto")
    p.add_argument("--resize", action="store_true", help="resize frames of another size in and out")
    p.add_argument("--batch-size", type=int, default=64)
    p.set_defaults(func=_cmd_translate)

    p = sub.add_parser("bench", help="time env alone vs env + StyleTransfer, per frame")
    p.add_argument("--weights", help="default: the first shipped model, else a fresh generator")
    p.add_argument("--env", default="StyleWrap/HalfCheetahRestyled-v5")
    p.add_argument("--size", type=int, default=64, help="frame side (default %(default)s)")
    p.add_argument("--batches", default="1,8,64", help="comma-separated (default %(default)s)")
    p.add_argument("--steps", type=int, default=40, help="frames per measurement (roughly)")
    p.add_argument("--ngf", type=int, default=8, help="width of the fresh generator")
    p.add_argument("--n-blocks", type=int, default=6, help="blocks of the fresh generator")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--json", help="write the records (a list) here")
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``style-wrap``; package errors print one line and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except StyleWrapError as err:
        print(f"style-wrap {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        print(f"style-wrap {args.command}: {err or 'interrupted'}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
