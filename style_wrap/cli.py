"""The ``style-wrap`` command line: each subcommand is a thin call into the package's modules.

Each verb has two small functions: ``_add_VERB`` here builds its parser, and
:mod:`style_wrap.commands` ``run_VERB`` runs it.
Settings classes become flags through :func:`style_wrap.settings.add_arguments`.

Example:
    >>> from style_wrap.cli import build_parser
    >>> build_parser().parse_args(["domains", "--size", "32"]).size
    32
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from style_wrap import commands
from style_wrap.errors import StyleWrapError
from style_wrap.hub import DEFAULT_TRANSLATOR

__all__ = ["build_parser", "main"]


def count(minimum: int = 1) -> Any:
    """An argparse ``type``: an integer ``>= minimum``, else an error naming the value.

    Example:
        >>> count(1)("3")
        3
        >>> count(1)("0")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: 0; expected an integer >= 1
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an integer; expected an integer >= {minimum}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value}; expected an integer >= {minimum}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def counts(text: str) -> tuple[int, ...]:
    """An argparse ``type``: comma-separated integers >= 1 (``--batches 1,8,64``)."""
    parts = [count(1)(t.strip()) for t in text.split(",") if t.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"{text!r}; expected integers >= 1, comma-separated")
    return tuple(parts)


def _add_jobs(p: argparse.ArgumentParser, default: int = 1, said: str = "1") -> None:
    """``--jobs``: the subcommands whose episodes :func:`style_wrap.rl.episodes.run_tasks` runs."""
    p.add_argument(
        "--jobs",
        type=count(1),
        default=default,
        help=f"run the episodes in this many processes (same results, sooner; default {said})",
    )


def _add_threads(p: argparse.ArgumentParser, default: int = 1) -> None:
    said = "0: torch's default" if default == 0 else str(default)
    p.add_argument(
        "--threads", type=count(0), default=default, help=f"CPU threads (default {said})"
    )


def _add_policy(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--policy",
        help="a pixel policy: a shipped one's name (default), a .safetensors policy file, an "
        "SB3 .zip you trust (SB3 zips are pickles: loading one can run code), or a callable "
        "'module:function' / 'file.py:function' taking a frame and returning an action",
    )


def _add_pixels(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pixels",
        type=count(4),
        help="render the env (render_mode='rgb_array') into N x N frames: a state env as pixels",
    )


def _add_env_kwargs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--env-kwarg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keyword for gym.make or the env factory, repeatable; VALUE is a Python or JSON "
        "literal (True, false, None, 3, 0.5, [1, 2], 'text') or a bare word, taken as a string",
    )


def _add_env_pair(p: argparse.ArgumentParser, target: bool = True) -> None:
    """``--source-env``/``--target-env``: the two looks' envs (default: the cheetah pair)."""
    p.add_argument(
        "--source-env",
        default="StyleWrap/HalfCheetahRestyled-v5",
        help="the env of the look the translator reads (gymnasium id or 'module:function'; "
        "default %(default)s)",
    )
    if target:
        p.add_argument(
            "--target-env",
            default="StyleWrap/HalfCheetah-v5",
            help="the env of the look the policy knows (default %(default)s)",
        )
    _add_env_kwargs(p)
    _add_pixels(p)


def _add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="the pixel policy in standard, restyled, restyled+translated")
    _add_policy(p)
    p.add_argument(
        "--weights",
        default=DEFAULT_TRANSLATOR,
        help="translator restyled -> standard (default: %(default)s)",
    )
    p.add_argument(
        "--episodes",
        type=count(1),
        default=10,
        help="episodes per condition (default: %(default)s)",
    )
    p.add_argument(
        "--max-steps", type=count(1), help="cut episodes at this many steps (default: 1000)"
    )
    p.add_argument("--seed", type=count(0), default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--video", default="demo.mp4", help="side-by-side video, or 'none'")
    p.add_argument("--json", help="write returns and ratio_raw / ratio_translated here")
    _add_threads(p)
    _add_jobs(p, min(os.cpu_count() or 1, 8), "the CPU cores, up to 8")
    _add_env_pair(p)
    p.set_defaults(func=commands.run_demo)


def _add_choose(sub: Any) -> None:
    p = sub.add_parser("choose", help="rank translator files by the pixel policy's return")
    p.add_argument("weights", nargs="+", help="translator files (restyled -> standard)")
    _add_policy(p)
    p.add_argument("--episodes", type=count(1), default=3, help="episodes per translator")
    p.add_argument(
        "--seed",
        type=count(0),
        default=100,
        help="first episode seed; keep apart from the demo's 0",
    )
    p.add_argument("--max-steps", type=count(1), help="cut episodes at this many steps")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", help="write the ranking and the best file here")
    _add_threads(p)
    _add_jobs(p)
    _add_env_pair(p, target=False)
    p.set_defaults(func=commands.run_choose)


def _add_zoo(sub: Any) -> None:
    p = sub.add_parser(
        "zoo", help="a translator judged by several pixel policies: each one's ratio, mean, min"
    )
    p.add_argument(
        "policies",
        nargs="+",
        help="pixel policies of the standard look (.safetensors, shipped names, trusted SB3 .zip)",
    )
    p.add_argument(
        "--weights",
        nargs="+",
        default=[DEFAULT_TRANSLATOR],
        help="translator, or several judged on the same episodes: each policy's standard and "
        "raw episodes run once for all of them (default: %(default)s)",
    )
    p.add_argument(
        "--episodes", type=count(1), default=20, help="episodes per condition and policy"
    )
    p.add_argument("--seed", type=count(0), default=700, help="first episode seed (default 700)")
    p.add_argument("--max-steps", type=count(1), help="cut episodes at this many steps")
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--json",
        help="write per-policy results, zoo_ratio_mean, zoo_ratio_min here (several "
        "translators: a list of those under 'translators')",
    )
    _add_threads(p)
    _add_jobs(p, min(os.cpu_count() or 1, 8), "the CPU cores, up to 8")
    _add_env_pair(p)
    p.set_defaults(func=commands.run_zoo)


def _add_eval(sub: Any) -> None:
    from style_wrap.evaluation.paired import EvalConfig
    from style_wrap.settings import add_arguments

    p = sub.add_parser(
        "eval",
        help="a translator's fidelity: paired on the cheetahs, unpaired on any pair of looks",
        description="On the cheetahs (the default), paired metrics: every state is drawn in "
        "both looks. For any other pair, give --source-frames and --target-frames (folders of "
        "`style-wrap collect`): colour-histogram distance, a domain classifier's verdict, KID on "
        "its features and flicker, which need no ground truth; with --policy and --source-env, "
        "the policy's returns through the translator too.",
    )
    p.add_argument("--weights", default=DEFAULT_TRANSLATOR)
    p.add_argument("--source-frames", help="frames of the translator's input look (unpaired)")
    p.add_argument("--target-frames", help="frames of its output look (unpaired)")
    p.add_argument(
        "--max-frames", type=count(10), default=2000, help="frames used per folder (unpaired)"
    )
    p.add_argument(
        "--render-pair",
        help="unpaired, plus paired metrics: 'file.py:function' drawing one recorded state "
        "(function(look, qpos, qvel), look 'source' or 'target') in both looks",
    )
    p.add_argument("--policy", help="also evaluate this pixel policy through the translator")
    p.add_argument("--episodes", type=count(1), default=3, help="policy episodes per condition")
    add_arguments(p, EvalConfig)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", help="folder for eval.json, eval.md and grid.png")
    p.add_argument("--json", help="also write the JSON here")
    p.add_argument(
        "--source-env",
        help="unpaired with --policy: the env of the source look (id or 'module:function')",
    )
    p.add_argument("--target-env", help="unpaired with --policy: the env of the target look")
    _add_env_kwargs(p)
    _add_pixels(p)
    p.set_defaults(func=commands.run_eval)


def _add_domains(sub: Any) -> None:
    p = sub.add_parser("domains", help="draw the cheetah domains side by side into a PNG")
    p.add_argument("--out", default="domains.png", help="image file to write (default %(default)s)")
    p.add_argument(
        "--size", type=count(16), default=128, help="pixels per frame (default %(default)s)"
    )
    p.add_argument("--poses", type=count(1), default=4, help="poses per row (default %(default)s)")
    p.set_defaults(func=commands.run_domains)


def _add_expert(sub: Any) -> None:
    p = sub.add_parser("expert", help="train a state-based PPO expert (the pixel policy's teacher)")
    p.add_argument(
        "--out",
        required=True,
        help="folder for expert.safetensors + vecnormalize.npz (pickle-free) and expert.zip",
    )
    p.add_argument(
        "--convert",
        action="store_true",
        help="write the pickle-free files of an existing --out folder that holds only SB3's "
        "expert.zip and vecnormalize.pkl (this unpickles them: trusted folders only)",
    )
    p.add_argument("--steps", type=count(1), default=250_000, help="environment steps")
    p.add_argument("--seed", type=count(0), default=0)
    p.add_argument("--env", default="HalfCheetah-v5", help="gymnasium id with state observations")
    _add_threads(p)
    p.add_argument(
        "--episodes",
        type=count(0),
        default=5,
        help="evaluation episodes afterwards (seeds 100+; 0: none)",
    )
    p.add_argument("--eval-only", action="store_true", help="evaluate the expert in --out only")
    p.set_defaults(func=commands.run_expert)


def _add_distill(sub: Any) -> None:
    from style_wrap.rl.dagger import DaggerConfig
    from style_wrap.settings import add_arguments

    p = sub.add_parser("distill", help="DAgger: a state expert into a pixel policy (resumable)")
    p.add_argument("--expert", required=True, help="folder made by `style-wrap expert`")
    p.add_argument("--out", required=True, help="folder for rounds, student.zip, best.zip, log")
    add_arguments(p, DaggerConfig)
    _add_threads(p)
    p.set_defaults(func=commands.run_distill)


def _add_collect(sub: Any) -> None:
    p = sub.add_parser("collect", help="store unpaired frames of one domain for training")
    p.add_argument(
        "--env",
        required=True,
        help="gymnasium id with image observations (or any, with --pixels), or an env factory "
        "'module:function' / 'file.py:function' called with the --env-kwarg keywords",
    )
    _add_pixels(p)
    p.add_argument("--frames", type=count(1), required=True, help="frames to add")
    p.add_argument(
        "--skip-steps",
        type=count(0),
        default=0,
        help="record nothing in the first N steps of every episode (an opening zoom, a countdown)",
    )
    p.add_argument(
        "--max-episode-steps", type=count(1), help="cut every episode at this many steps"
    )
    p.add_argument(
        "--total",
        action="store_true",
        help="--frames is the folder's total: add only what is missing (rerun an interrupted "
        "collection with the same command to complete it)",
    )
    p.add_argument("--out", required=True, help="dataset folder (created or appended to)")
    p.add_argument("--seed", type=count(0), default=0)
    p.add_argument(
        "--policy",
        default="random",
        help="'random', a pixel policy (a shipped name, a .safetensors policy, an SB3 .zip you "
        "trust, or a callable 'module:function' / 'file.py:function' taking a frame and "
        "returning an action), or a state-expert folder (style-wrap expert)",
    )
    p.add_argument("--every", type=count(1), default=1, help="keep every K-th step (default 1)")
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
    p.add_argument("--shard-size", type=count(1), default=1000, help="frames per shard")
    p.add_argument("--name", help="domain name stored in the manifest (default: the env id)")
    _add_env_kwargs(p)
    p.set_defaults(func=commands.run_collect)


def _add_train(sub: Any) -> None:
    from style_wrap.train.config import add_config_arguments

    p = sub.add_parser(
        "train",
        help="train a CycleGAN between two frame folders",
        description="Train a CycleGAN; works under torchrun for many GPUs.",
    )
    add_config_arguments(p)
    p.set_defaults(func=commands.run_train)


def _add_fit_pose(sub: Any) -> None:
    from style_wrap.settings import add_arguments
    from style_wrap.train.posefit import PoseFitConfig

    p = sub.add_parser(
        "fit-pose",
        help="fit a translator through the pose (planar MuJoCo walkers; resumable)",
        description="Fit a translator through the body's pose: an encoder on the source look's "
        "frames and states, a renderer on the target look's (unpaired; no policy). Rerun the "
        "same command to resume; the result is OUT/translator.safetensors.",
    )
    p.add_argument(
        "--source",
        nargs="+",
        required=True,
        help="frame folders (style-wrap collect, every step) of the look the translator reads",
    )
    p.add_argument(
        "--target", nargs="+", required=True, help="frame folders of the look the policy knows"
    )
    p.add_argument("--out", required=True, help="run folder (created, or resumed)")
    add_arguments(p, PoseFitConfig, skip=("source", "target"))
    _add_threads(p)
    p.set_defaults(func=commands.run_fit_pose)


def _add_files(sub: Any) -> None:
    """``export``, ``info`` and ``translate``: the verbs that work on files."""
    p = sub.add_parser("export", help="write a run's generators as .safetensors")
    p.add_argument("run_dir", help="a run folder of `style-wrap train`")
    p.add_argument("--dtype", choices=("float32", "float16"), help="default: the run's setting")
    p.set_defaults(func=commands.run_export)

    p = sub.add_parser("info", help="print a generator file's metadata")
    p.add_argument("weights", help=".safetensors file or shipped model name")
    p.set_defaults(func=commands.run_info)

    p = sub.add_parser("translate", help="translate a PNG, a .npy array of frames or an .mp4")
    p.add_argument("weights", help=".safetensors file or shipped model name")
    p.add_argument("input", help="input .png, .npy ((H, W, 3) or (N, H, W, 3) uint8) or .mp4")
    p.add_argument("output", help="output file of the same kind")
    p.add_argument("--device", default="auto")
    p.add_argument("--resize", action="store_true", help="resize frames of another size in and out")
    p.add_argument("--batch-size", type=count(1), default=64, help="frames per forward pass")
    p.set_defaults(func=commands.run_translate)


def _add_bench(sub: Any) -> None:
    p = sub.add_parser("bench", help="time env alone vs env + StyleTransfer, per frame")
    p.add_argument(
        "--weights", help="default: the shipped translator at 64x64, else a fresh generator"
    )
    p.add_argument(
        "--env",
        default="StyleWrap/HalfCheetahRestyled-v5",
        help="gymnasium id or env factory 'module:function' (default %(default)s)",
    )
    p.add_argument(
        "--size",
        type=count(4),
        help="frame side: width/height of the cheetah envs (default 64); for an env with state "
        "observations, render it at this size (otherwise its own frames are timed)",
    )
    _add_env_kwargs(p)
    p.add_argument(
        "--batches", type=counts, default=(1, 8, 64), help="comma-separated (default 1,8,64)"
    )
    p.add_argument("--steps", type=count(1), default=40, help="frames per measurement (roughly)")
    p.add_argument("--ngf", type=count(1), default=8, help="width of the fresh generator")
    p.add_argument("--n-blocks", type=count(0), default=6, help="blocks of the fresh generator")
    _add_threads(p)
    p.add_argument("--json", help="write the records (a list) here")
    p.set_defaults(func=commands.run_bench)


VERBS = (
    _add_demo,
    _add_choose,
    _add_eval,
    _add_zoo,
    _add_domains,
    _add_expert,
    _add_distill,
    _add_collect,
    _add_train,
    _add_fit_pose,
    _add_files,
    _add_bench,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="style-wrap",
        description="Translate pixel observations between visual domains (CycleGAN wrappers).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in VERBS:
        add(sub)
    for action in sub._choices_actions:  # each verb's --help opens with its one-line summary
        verb = sub.choices[action.dest]
        if verb.description is None:
            verb.description = action.help[:1].upper() + action.help[1:] + "."
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
