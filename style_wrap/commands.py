"""What each ``style-wrap`` verb does once its flags are parsed: ``run_VERB(args)``, a thin call
into the package (its parser is in :mod:`style_wrap.cli`). Each imports its wing on use, so the
command starts fast.

Example:
    >>> parse_kwargs(["width=64", "name=a"])
    {'width': 64, 'name': 'a'}
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from style_wrap.errors import ConfigError


def run_domains(args: argparse.Namespace) -> None:
    from style_wrap.envs.gallery import DEFAULT_ROWS, domain_grid
    from style_wrap.io import write_image

    write_image(args.out, domain_grid(DEFAULT_ROWS, poses=args.poses, size=args.size))
    names = ", ".join(d if s is None else f"{d} (seed {s})" for d, s in DEFAULT_ROWS)
    print(f"wrote {args.out}: rows {names}")


def _set_threads(threads: int) -> None:
    """``--threads``: this many torch threads; 0 leaves torch's default."""
    import torch

    if threads:
        torch.set_num_threads(threads)


def _env_pair(args: argparse.Namespace) -> dict[str, Any]:
    """``--source-env``, ``--target-env``, ``--env-kwarg``, ``--pixels`` as keywords."""
    kwargs = parse_kwargs(args.env_kwarg)
    pair = {"source_env": args.source_env, "env_kwargs": kwargs or None, "pixels": args.pixels}
    if hasattr(args, "target_env"):
        pair["target_env"] = args.target_env
    return pair


def _write_json(path: str, document: Any) -> None:
    """The ``--json`` file of a verb, written atomically."""
    from style_wrap.io import atomic_write_bytes

    atomic_write_bytes(path, json.dumps(document, indent=2).encode())


_JSON_WORDS = {"true": True, "false": False, "null": None, "none": None}


def parse_kwargs(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` flags as keyword arguments: VALUE a Python or JSON literal, or a bare word.

    Example:
        >>> parse_kwargs(["flag=False", "n=3", "mode=rgb_array", "xs=[1, 2]", "on=true"])
        {'flag': False, 'n': 3, 'mode': 'rgb_array', 'xs': [1, 2], 'on': True}
        >>> parse_kwargs(["xs=[1, 2"])
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: env kwarg 'xs=[1, 2': value '[1, 2' does not parse; ...
    """
    import ast
    import re

    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ConfigError(
                f"env kwarg {pair!r}; expected KEY=VALUE with KEY a Python identifier"
            )
        text = value.strip()
        if text.lower() in _JSON_WORDS:
            kwargs[key] = _JSON_WORDS[text.lower()]
            continue
        try:
            kwargs[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            if not re.fullmatch(r"[A-Za-z_][\w.\-/:]*", text):
                raise ConfigError(
                    f"env kwarg {pair!r}: value {value!r} does not parse; expected a Python or "
                    "JSON literal (True, None, 3, 0.5, [1, 2], 'text') or a bare word"
                ) from None
            kwargs[key] = text  # a bare word: a string, as a shell user means it
    return kwargs


def run_collect(args: argparse.Namespace) -> None:
    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.train.collect import collect

    env_kwargs = parse_kwargs(args.env_kwarg)
    if env_kwargs:
        print(f"env kwargs: {env_kwargs!r}")
    manifest = collect(
        args.env,
        args.frames,
        args.out,
        seed=args.seed,
        policy=args.policy,
        env_kwargs=env_kwargs,
        every=args.every,
        shard_size=args.shard_size,
        name=args.name,
        translator=args.translator,
        flip_reset=args.flip_reset,
        deterministic=args.deterministic,
        total=args.total,
        pixels=args.pixels,
        skip_steps=args.skip_steps,
        max_episode_steps=args.max_episode_steps,
    )
    total = sum(s["frames"] for s in manifest["shards"])
    print(
        f"{args.out}: {total} frames of {manifest['frame_shape']} in {len(manifest['shards'])} "
        f"shard(s){', with qpos/qvel' if manifest['has_state'] else ''}"
    )


def run_expert(args: argparse.Namespace) -> None:
    import numpy as np

    from style_wrap.rl.episodes import evaluate_expert
    from style_wrap.rl.expert import EXPERT_FILES, convert_expert, train_expert

    _set_threads(args.threads)
    if args.convert:
        convert_expert(args.out)
        print(f"wrote {', '.join(f'{args.out}/{n}' for n in EXPERT_FILES)}")
    elif not args.eval_only:
        train_expert(args.out, steps=args.steps, seed=args.seed, env_id=args.env)
        print(
            f"wrote {', '.join(f'{args.out}/{n}' for n in EXPERT_FILES)} and {args.out}/expert.zip"
        )
    if args.episodes:
        returns = evaluate_expert(args.out, args.episodes, seed=100, env_id=args.env)
        shown = ", ".join(f"{r:.0f}" for r in returns)
        print(f"expert return {np.mean(returns):.1f} +- {np.std(returns):.1f} ({shown})")


def run_distill(args: argparse.Namespace) -> None:

    from style_wrap.rl.dagger import DaggerConfig, distill_pixel_policy
    from style_wrap.settings import from_arguments

    _set_threads(args.threads)
    out = distill_pixel_policy(args.expert, args.out, from_arguments(DaggerConfig, args))
    print(f"latest student: {out}/student.zip; best: {out}/best.zip; log: {out}/log.jsonl")


def run_train(args: argparse.Namespace) -> None:
    from dataclasses import fields

    from style_wrap.train.config import TrainConfig, config_from_args
    from style_wrap.train.loop import train

    config = config_from_args(args)
    given = {f.name for f in fields(TrainConfig) if f.name in vars(args)}
    run = train(config, given)
    print(f"run folder: {run}")


def run_fit_pose(args: argparse.Namespace) -> None:
    from style_wrap.settings import from_arguments
    from style_wrap.train.posefit import PoseFitConfig, fit_pose

    _set_threads(args.threads)
    config = from_arguments(
        PoseFitConfig, args, source=tuple(args.source), target=tuple(args.target)
    )
    path = fit_pose(config, args.out)
    print(f"wrote {path} (held-out scores in {args.out}/log.jsonl)")


def run_export(args: argparse.Namespace) -> None:
    from style_wrap.train.loop import export_run

    for path in export_run(args.run_dir, args.dtype):
        print(f"wrote {path}")


def run_info(args: argparse.Namespace) -> None:
    from style_wrap.hub import resolve_weights
    from style_wrap.weights import read_spec, spec_summary

    path = resolve_weights(args.weights)
    print(json.dumps({"file": str(path), **spec_summary(read_spec(path))}, indent=2))


def run_translate(args: argparse.Namespace) -> None:
    from style_wrap.evaluation.media import translate_file
    from style_wrap.translator import Translator

    translator = Translator(args.weights, args.device, resize=args.resize)
    count = translate_file(translator, args.input, args.output, batch_size=args.batch_size)
    print(
        f"wrote {args.output}: {count} frame(s) {translator.spec.domain_from} -> "
        f"{translator.spec.domain_to}"
    )


def run_bench(args: argparse.Namespace) -> None:
    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.evaluation.bench import bench_weights, run_bench
    from style_wrap.making import default_kwargs, make_env
    from style_wrap.spaces import image_space, is_image_space

    _set_threads(args.threads)
    env = {**default_kwargs(args.env, args.size or 64), **parse_kwargs(args.env_kwarg)}
    probe = make_env(args.env, **env)
    if not is_image_space(probe.observation_space) and args.size:  # a state env: render it
        probe.close()
        env["pixels"] = args.size
        probe = make_env(args.env, **env)
    try:
        frame = image_space(probe.observation_space).shape
    finally:
        probe.close()
    weights = bench_weights(args.weights, args.ngf, args.n_blocks, tuple(frame[:2]))
    records = run_bench(weights, args.env, batches=tuple(args.batches), steps=args.steps,
                        env_kwargs=env)  # fmt: skip
    print(f"weights {weights}, env {args.env} at {frame[0]}x{frame[1]}; ms per frame")
    print("device  batch  env_ms  wrapped_ms  translate_ms  translate/env  frames/s")
    for r in records:
        d = r.to_dict()
        print(
            f"{r.device:6s} {r.batch:6d} {r.env_ms:7.2f} {r.wrapped_ms:11.2f} "
            f"{r.translate_ms:13.3f} {r.translate_over_env:14.2f} {d['frames_per_s']:9.0f}"
        )
    if args.json:
        _write_json(args.json, [r.to_dict() for r in records])


def run_demo(args: argparse.Namespace) -> None:

    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.evaluation.demo import run_demo

    # One frame at a time gains nothing from more threads, and extra threads fight any other
    # process for the cores (measured: docs/usage.md, "Speed").
    _set_threads(args.threads)
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
        **_env_pair(args),
    )
    print(result.table())
    if video:
        print(f"video (restyled | translated | standard render of the same state): {video}")


def run_choose(args: argparse.Namespace) -> None:
    import numpy as np

    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.evaluation.choose import choose_translator

    _set_threads(args.threads)
    records = choose_translator(
        args.weights,
        policy=args.policy,
        episodes=args.episodes,
        seed=args.seed,
        max_steps=args.max_steps,
        device=args.device,
        jobs=args.jobs,
        **_env_pair(args),
    )
    print("mean return  speed m/s  flipped  weights")
    for r in records:
        flips = f"{sum(r['flipped'])}/{len(r['returns'])}"
        speeds = [v for v in r["speed"] if v is not None]
        speed = f"{np.mean(speeds):9.2f}" if speeds else "        -"
        print(f"{r['mean']:11.1f}  {speed}  {flips:7s}  {r['weights']}")
    if args.json:
        document = {"best": records[0]["weights"], "seed": args.seed, "results": records}
        _write_json(args.json, document)
    print(f"best: {records[0]['weights']}")


def run_eval(args: argparse.Namespace) -> None:
    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.evaluation.paired import EvalConfig, evaluate_translator, markdown_table
    from style_wrap.settings import from_arguments

    config = from_arguments(EvalConfig, args)
    if args.source_frames or args.target_frames:
        _run_unpaired(args)
        return
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
        _write_json(args.json, result)
    if args.out:
        print(f"wrote {args.out}/eval.json, eval.md, grid.png (source | translated | truth)")


def _run_unpaired(args: argparse.Namespace) -> None:
    from style_wrap.evaluation.unpaired import evaluate_unpaired, unpaired_table

    if not (args.source_frames and args.target_frames):
        raise ConfigError(
            f"--source-frames {args.source_frames!r}, --target-frames {args.target_frames!r}: "
            "expected both (unpaired evaluation compares the two folders)"
        )
    demo = None
    if args.policy:
        if not (args.source_env and args.target_env):
            raise ConfigError(
                f"--policy {args.policy!r} needs --source-env and --target-env to run episodes"
            )
        demo = {**_env_pair(args), "target_env": args.target_env}
    result = evaluate_unpaired(
        args.weights,
        args.source_frames,
        args.target_frames,
        device=args.device,
        max_frames=args.max_frames,
        seed=args.seed,
        policy=args.policy,
        episodes=args.episodes,
        demo=demo,
        json_path=args.json,
        render_pair=args.render_pair,
    )
    print(unpaired_table(result))


def run_zoo(args: argparse.Namespace) -> None:

    import style_wrap  # noqa: F401  (registers the cheetah ids)
    from style_wrap.evaluation.zoo import evaluate_zoos, zoo_table

    _set_threads(args.threads)
    results = evaluate_zoos(
        args.policies,
        args.weights,
        episodes=args.episodes,
        seed=args.seed,
        max_steps=args.max_steps,
        device=args.device,
        jobs=args.jobs,
        **_env_pair(args),
    )
    documents = []
    for weights, result in zip(args.weights, results):
        if len(results) > 1:
            print(f"\n{weights}")
        print(zoo_table(result), end="")
        documents.append({"weights": str(weights), "seed": args.seed, **result.to_dict()})
    if args.json:
        many = {"seed": args.seed, "translators": documents}
        _write_json(args.json, documents[0] if len(documents) == 1 else many)
