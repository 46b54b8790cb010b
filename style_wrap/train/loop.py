"""A training run around :class:`~style_wrap.train.model.CycleGAN`: data, checkpoints, resume,
signals, export, many processes.

Under ``torchrun`` every process trains on its own slice of each epoch (as a distributed sampler)
and gradients are averaged across processes before every optimizer step, as DDP would do; DDP's
own reducer is not used because a CycleGAN step calls each generator twice and freezes the
discriminators halfway, which DDP does not allow. Only rank 0 writes.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from style_wrap.data import FrameData, load_frames
from style_wrap.devices import resolve_device
from style_wrap.errors import ConfigError, DataError
from style_wrap.nets import GeneratorConfig, ResnetGenerator, to_model_input
from style_wrap.pose import pose_targets
from style_wrap.train.config import TrainConfig, default_run_name, load_toml
from style_wrap.train.consistency import PolicyPanel, expert_labels, policy_panel
from style_wrap.train.logs import RunWriter
from style_wrap.train.model import CycleGAN, DistInfo, EpochSampler
from style_wrap.weights import GeneratorSpec, save_generator

__all__ = ["CHECKPOINT", "EXPORTS", "train", "export_run"]

CHECKPOINT = "checkpoints/latest.pt"
EXPORTS = {"g_ab": "generator_a2b.safetensors", "g_ba": "generator_b2a.safetensors"}
EXPORTS_DIR = "exports"  # kept exports every ``export_every`` iterations: exports/step-NNNNNN/
# Settings that may change when a run resumes; the rest define the run.
RESUMABLE = {
    "resume",
    "iters",
    "checkpoint_every",
    "log_every",
    "sample_every",
    "export_every",
    "progress",
    "device",
    "threads",
    "name",
    "out",
}


def _load_domains(config: TrainConfig) -> tuple[FrameData, FrameData]:
    if not config.domain_a or not config.domain_b:
        raise ConfigError(
            "settings domain_a and domain_b are required; expected two frame "
            "folders made by `style-wrap collect`"
        )
    data_a, data_b = load_frames(config.domain_a), load_frames(config.domain_b)
    if data_a.frames.shape[1:] != data_b.frames.shape[1:]:
        raise DataError(
            f"frame shapes differ: {config.domain_a} has {data_a.frames.shape[1:]}, "
            f"{config.domain_b} has {data_b.frames.shape[1:]}; expected the same frame size"
        )
    h, w = data_a.frames.shape[1:3]
    multiple = GeneratorConfig().multiple
    if h % multiple or w % multiple:
        raise DataError(f"frame size {h}x{w}: expected sides that are multiples of {multiple}")
    if config.lambda_pose > 0:
        for folder, data in ((config.domain_a, data_a), (config.domain_b, data_b)):
            if data.qpos is None:
                raise ConfigError(
                    f"lambda_pose = {config.lambda_pose} needs recorded poses, but {folder} has "
                    "none; expected frames collected from a MuJoCo env (or lambda_pose = 0)"
                )
        if data_a.qpos.shape[1] != data_b.qpos.shape[1]:
            raise DataError(f"pose sizes differ: {data_a.qpos.shape[1]} and {data_b.qpos.shape[1]}")
    return data_a, data_b


def _find_run(config: TrainConfig) -> Path | None:
    out = Path(config.out)
    if config.name:
        run = out / config.name
        return run if (run / "config.toml").is_file() else None
    runs = [p for p in out.glob("*") if (p / "config.toml").is_file()] if out.is_dir() else []
    return max(runs, key=lambda p: (p / "config.toml").stat().st_mtime) if runs else None


def _resolve_resume(config: TrainConfig, given: set[str]) -> tuple[TrainConfig, Path]:
    run = _find_run(config)
    if run is None:
        where = Path(config.out) / config.name if config.name else Path(config.out)
        raise ConfigError(
            f"--resume: no run to resume in {str(where)!r}; expected a run folder "
            "with config.toml (start without --resume)"
        )
    saved = TrainConfig(**load_toml(run / "config.toml"))
    changed = sorted(k for k in given - RESUMABLE if getattr(config, k) != getattr(saved, k))
    if changed:
        raise ConfigError(
            f"--resume: settings {', '.join(changed)} differ from the run's {run}/config.toml; "
            f"expected only {', '.join(sorted(RESUMABLE - {'resume'}))} to change"
        )
    overrides = {k: getattr(config, k) for k in given & RESUMABLE}
    overrides.update(resume=True, name=run.name, out=str(run.parent))
    return saved.replace(**overrides), run


class _Stop:
    """Turns SIGINT/SIGTERM into a flag the loop checks, so it checkpoints before leaving."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Stop:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _batches(
    frames: torch.Tensor,
    poses: torch.Tensor | None,
    sampler: EpochSampler,
    memory_format: torch.memory_format,
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    while True:
        index = sampler.next().to(frames.device)
        x = to_model_input(frames[index], memory_format=memory_format)
        yield x, None if poses is None else poses[index]


def _stacks(
    frames: torch.Tensor,
    ends: torch.Tensor,
    labels: torch.Tensor,
    n_stack: int,
    sampler: EpochSampler,
    memory_format: torch.memory_format,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of ``n_stack`` consecutive frames (oldest first), flat, and the expert's labels."""
    back = torch.arange(n_stack - 1, -1, -1, device=frames.device)
    while True:
        pick = sampler.next().to(frames.device)
        index = (ends[pick][:, None] - back).reshape(-1)
        yield to_model_input(frames[index], memory_format=memory_format), labels[pick]


def _policy_consistency(
    config: TrainConfig, data_a: FrameData, size: tuple[int, int], device: torch.device
) -> tuple[PolicyPanel | None, torch.Tensor, torch.Tensor]:
    """The frozen policies, the frame indices that end a full stack, and the expert's labels."""
    if config.lambda_policy <= 0:
        return None, torch.zeros(0), torch.zeros(0)
    head = policy_panel(config.policy, size, device, config.policy_shift)
    ends = data_a.stack_ends(head.n_stack)
    if len(ends) == 0:
        raise ConfigError(
            f"lambda_policy = {config.lambda_policy}: {config.domain_a} has no run of "
            f"{head.n_stack} consecutive frames; expected frames collected with --every 1"
        )
    labels = expert_labels(config.policy_expert, data_a, ends)
    return head, torch.from_numpy(ends).to(device), torch.from_numpy(labels).to(device)


def train(config: TrainConfig, given: set[str] | None = None) -> Path:
    """Run (or resume) a training run; returns its folder. ``given``: settings set by the user."""
    dist_info = DistInfo.from_env()
    if config.resume:
        config, run_dir = _resolve_resume(config, given or set())
    else:
        run_dir = Path(config.out) / (config.name or default_run_name(config, time.time()))
        if (run_dir / CHECKPOINT).exists():
            raise ConfigError(
                f"run folder {run_dir} already has a checkpoint; expected --resume "
                "or another --name"
            )
    data_a, data_b = _load_domains(config)  # before any folder is made: bad data leaves none
    init_states = _init_states(config, (data_a.name, data_b.name))  # likewise bad init weights
    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    if dist_info.world > 1:
        if device.type == "cuda":
            device = torch.device("cuda", dist_info.local_rank)
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    h, w = data_a.frames.shape[1:3]
    policy = _policy_consistency(config, data_a, (h, w), device)  # bad settings leave no folder
    writer = RunWriter(run_dir, config, dist_info.is_main, CHECKPOINT)
    try:
        return _train(
            config, run_dir, data_a, data_b, device, dist_info, writer, init_states, policy
        )
    finally:
        writer.close()
        if dist_info.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(
    config: TrainConfig,
    run_dir: Path,
    data_a: FrameData,
    data_b: FrameData,
    device: torch.device,
    dist_info: DistInfo,
    writer: RunWriter,
    init_states: dict[str, dict[str, Any]],
    policy: tuple[PolicyPanel | None, torch.Tensor, torch.Tensor],
) -> Path:
    h, w = data_a.frames.shape[1:3]
    use_pose = config.lambda_pose > 0
    poses = [
        torch.from_numpy(pose_targets(d.qpos)).to(device) if use_pose else None
        for d in (data_a, data_b)
    ]
    head, ends, labels = policy
    model = CycleGAN(
        config,
        (h, w),
        device,
        dist_info,
        pose_dim=poses[0].shape[1] if poses[0] is not None else 0,
        policy_head=head,
    )
    samplers = {
        "a": EpochSampler(
            len(data_a), config.batch_size, config.seed, dist_info.rank, dist_info.world
        ),
        "b": EpochSampler(
            len(data_b), config.batch_size, config.seed + 1, dist_info.rank, dist_info.world
        ),
    }
    if head is not None:
        samplers["policy"] = EpochSampler(
            len(ends),
            config.policy_batch or config.batch_size,
            config.seed + 2,
            dist_info.rank,
            dist_info.world,
        )
    checkpoint = run_dir / CHECKPOINT
    for key, state in init_states.items():
        getattr(model, key).load_state_dict(state)
    if config.resume and checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        for k, s in samplers.items():
            s.load_state_dict(state["samplers"][k])
    frames_a = torch.from_numpy(data_a.frames).to(device)
    frames_b = torch.from_numpy(data_b.frames).to(device)
    if use_pose and not model.pose_fitted:
        assert poses[0] is not None and poses[1] is not None
        model.fit_pose_regressors(
            to_model_input(frames_a), poses[0], to_model_input(frames_b), poses[1]
        )
    batches_a = _batches(frames_a, poses[0], samplers["a"], model.memory_format)
    batches_b = _batches(frames_b, poses[1], samplers["b"], model.memory_format)
    stacks = (
        None
        if head is None
        else _stacks(frames_a, ends, labels, head.n_stack, samplers["policy"], model.memory_format)
    )
    g = torch.Generator().manual_seed(config.seed)
    fixed_a = to_model_input(frames_a[torch.randperm(len(frames_a), generator=g)[:4].to(device)])
    fixed_b = to_model_input(frames_b[torch.randperm(len(frames_b), generator=g)[:4].to(device)])
    names = (data_a.name, data_b.name)
    writer.start(model.step, names, dist_info.world, str(device))

    def save_checkpoint() -> None:
        writer.checkpoint(
            {
                "model": model.state_dict(),
                "samplers": {k: s.state_dict() for k, s in samplers.items()},
                "config": config.to_dict(),
                "domains": list(names),
                "frame_size": [h, w],
            }
        )

    def export(folder: Path) -> None:  # both generators (their averages with ema) at this step
        _export(folder, model.generators, names, (h, w), model.step, config, run_dir.name)

    from tqdm.auto import tqdm

    bar = tqdm(
        total=config.iters,
        initial=model.step,
        desc=run_dir.name,
        unit="it",
        disable=not (config.progress and dist_info.is_main),
        dynamic_ncols=True,
    )
    tick = time.perf_counter()
    with _Stop() as stop:
        while model.step < config.iters:
            (real_a, pose_a), (real_b, pose_b) = next(batches_a), next(batches_b)
            policy_batch = None if stacks is None else next(stacks)
            losses = model.train_step(real_a, real_b, pose_a, pose_b, policy_batch)
            bar.update(1)
            if model.step % config.log_every == 0 or model.step == config.iters:
                now = time.perf_counter()
                seconds = (now - tick) / config.log_every
                tick = now
                writer.scalars(model.step, losses, model.opt_g.param_groups[0]["lr"], seconds)
                bar.set_postfix(
                    G=f"{losses['G_total']:.3f}", D=f"{losses['D_A'] + losses['D_B']:.3f}"
                )
            if config.sample_every and model.step % config.sample_every == 0:
                writer.samples(model.step, model.sample_grid(fixed_a, fixed_b))
            if (
                config.export_every
                and model.step % config.export_every == 0
                and model.step < config.iters
                and dist_info.is_main
            ):
                export(run_dir / EXPORTS_DIR / f"step-{model.step:06d}")
            interrupted = _any_rank(stop.requested, dist_info)
            if model.step % config.checkpoint_every == 0 or interrupted:
                save_checkpoint()
            if interrupted:
                bar.close()
                raise KeyboardInterrupt(
                    f"interrupted at step {model.step}; checkpoint saved in "
                    f"{checkpoint}; continue with --resume"
                )
    bar.close()
    save_checkpoint()
    _check_in_sync(model, dist_info)
    if dist_info.is_main:
        export(run_dir)
    if dist_info.world > 1:
        dist.barrier()  # leave together: tearing gloo down while a peer still works can abort
    return run_dir


def _init_states(config: TrainConfig, names: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """The weights named by ``init_g_ab`` / ``init_g_ba``, checked against the run's settings."""
    from style_wrap.weights import load_generator

    states = {}
    for key, path, (source, target) in (
        ("g_ab", config.init_g_ab, names),
        ("g_ba", config.init_g_ba, names[::-1]),
    ):
        if not path:
            continue
        net, spec = load_generator(path)
        if spec.architecture != config.generator:
            raise ConfigError(
                f"init_{key} {path}: architecture {spec.architecture}; expected "
                f"{config.generator} (the run's ngf, n_blocks, upsample)"
            )
        if (spec.domain_from, spec.domain_to) != (source, target):
            warnings.warn(
                f"init_{key} {path} translates {spec.domain_from} -> {spec.domain_to}; "
                f"this run's {key} translates {source} -> {target}",
                stacklevel=3,
            )
        states[key] = net.state_dict()
    return states


def _any_rank(flag: bool, dist_info: DistInfo) -> bool:
    if dist_info.world == 1:
        return flag
    t = torch.tensor([float(flag)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def _check_in_sync(model: CycleGAN, dist_info: DistInfo) -> None:
    if dist_info.world == 1:
        return
    total = (
        torch.stack(
            [
                p.detach().double().sum().cpu()
                for net in model.nets.values()
                for p in net.parameters()
            ]
        )
        .sum()
        .reshape(1)
    )
    spread = torch.cat([total, -total])
    dist.all_reduce(spread, op=dist.ReduceOp.MAX)
    if not math.isclose(float(spread[0]), -float(spread[1]), rel_tol=0, abs_tol=1e-9):
        raise RuntimeError("processes ended with different weights; gradient averaging failed")


def _export(
    folder: Path,
    generators: dict[str, nn.Module],
    names: tuple[str, str],
    size: tuple[int, int],
    step: int,
    config: TrainConfig,
    run_name: str,
) -> list[Path]:
    dtype = torch.float16 if config.export_dtype == "float16" else None
    paths = []
    for key, (src, dst) in (("g_ab", names), ("g_ba", names[::-1])):
        net = generators[key]
        assert isinstance(net, ResnetGenerator)
        spec = GeneratorSpec(
            net.config,
            size[0],
            size[1],
            src,
            dst,
            step,
            {"run": run_name, "cycle": config.cycle},
        )
        path = folder / EXPORTS[key]
        save_generator(path, net, spec, dtype=dtype)  # copies each tensor out contiguous
        paths.append(path)
    return paths


def export_run(run_dir: str | os.PathLike[str], dtype: str | None = None) -> list[Path]:
    """Write both generators of a run's latest checkpoint as safetensors (``style-wrap export``)."""
    run = Path(run_dir)
    checkpoint = run / CHECKPOINT
    if not checkpoint.is_file():
        raise ConfigError(
            f"{run}: no checkpoint at {CHECKPOINT}; expected a run folder of `style-wrap train`"
        )
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    config = TrainConfig(**state["config"])
    if dtype is not None:
        config = config.replace(export_dtype=dtype)
    arch = GeneratorConfig(ngf=config.ngf, n_blocks=config.n_blocks, upsample=config.upsample)
    generators: dict[str, nn.Module] = {}
    for key in EXPORTS:
        net = arch.build()
        weights = state["model"][key]
        if f"ema_{key}" in state["model"]:  # a run with ema exports the moving average
            average = state["model"][f"ema_{key}"]
            weights = {k[7:]: v for k, v in average.items() if k.startswith("module.")}
        net.load_state_dict(weights)
        generators[key] = net
    h, w = state["frame_size"]
    names = tuple(state["domains"])
    return _export(run, generators, names, (h, w), int(state["model"]["step"]), config, run.name)
