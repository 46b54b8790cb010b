"""A training run around :class:`~style_wrap.train.model.CycleGAN`: data, checkpoints, resume,
signals, export, many processes.

:func:`train` checks everything a run needs (settings, data, initial weights, the policy term)
before any folder is made, then a :class:`Run` sets up the model and its batch streams (resuming
from the run's checkpoint), steps, checkpoints and exports. Under ``torchrun`` every process
trains on its own slice of each epoch (as a distributed sampler) and gradients are averaged
across processes before every optimizer step (:mod:`style_wrap.train.dist`). Only rank 0 writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from style_wrap.devices import resolve_device
from style_wrap.errors import CheckpointError, ConfigError, DataError, TrainingError
from style_wrap.floor import camera_track
from style_wrap.io import atomic_write_bytes
from style_wrap.nets import GeneratorConfig, floor_state, temporal_state, to_model_input
from style_wrap.train.config import TrainConfig, default_run_name, load_toml
from style_wrap.train.consistency import PolicyPanel, expert_labels, policy_panel
from style_wrap.train.data import FrameData, load_frames
from style_wrap.train.dist import DistInfo, any_rank, check_in_sync
from style_wrap.train.export import (
    CHECKPOINT,
    EXPORTS,
    EXPORTS_DIR,
    PREVIOUS,
    checkpoint_step,
    export_generators,
    export_run,
    read_checkpoint,
)
from style_wrap.train.flow import fit_row_motion
from style_wrap.train.logs import RunWriter
from style_wrap.train.model import BatchHistory, CycleGAN
from style_wrap.train.pose import pose_targets
from style_wrap.train.sampling import (
    EpisodeStreams,
    EpochSampler,
    frame_batches,
    previous_frames,
    stack_batches,
)
from style_wrap.weights import load_generator

__all__ = ["CHECKPOINT", "EXPORTS", "EXPORTS_DIR", "Run", "train", "export_run"]

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
    "time_budget",
}

#: The frozen policies, the frame indices that end a full stack, the expert's labels.
PolicyTerm = tuple[PolicyPanel | None, torch.Tensor, torch.Tensor]


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
    needs = [f"lambda_pose = {config.lambda_pose}"] if config.lambda_pose > 0 else []
    needs += [f"d_condition = {config.d_condition!r}"] if config.d_condition != "none" else []
    if needs:
        for folder, data in ((config.domain_a, data_a), (config.domain_b, data_b)):
            if data.qpos is None:
                raise ConfigError(
                    f"{needs[0]} needs recorded poses, but {folder} has none; expected frames "
                    "collected from a MuJoCo env (or lambda_pose = 0 and d_condition = 'none')"
                )
        if data_a.qpos.shape[1] != data_b.qpos.shape[1]:
            raise DataError(f"pose sizes differ: {data_a.qpos.shape[1]} and {data_b.qpos.shape[1]}")
    if config.temporal:
        for folder, data in ((config.domain_a, data_a), (config.domain_b, data_b)):
            if data.steps is None or not (data.steps == 0).any() or len(data.stack_ends(2)) == 0:
                raise DataError(
                    f"temporal = true needs whole episodes, but {folder} holds no episode's "
                    "first step or no two consecutive steps; expected frames collected with "
                    "--every 1 and no --skip-steps"
                )
            motion = f"lambda_flow = {config.lambda_flow}" if config.lambda_flow > 0 else ""
            motion = motion or ("floor_coords = true" if config.floor_coords else "")
            if motion and data.qpos is None:
                raise ConfigError(
                    f"{motion} needs recorded x positions (to fit the floor's row motion), but "
                    f"{folder} has no physics state; expected frames collected from a MuJoCo env "
                    "(or lambda_flow = 0 and floor_coords = false)"
                )
    return data_a, data_b


def _find_run(config: TrainConfig) -> Path | None:
    """The run ``--name`` names, else the newest run in ``--out`` that has a checkpoint (a start
    that failed before its first checkpoint is not a run to resume)."""
    out = Path(config.out)
    if config.name:
        run = out / config.name
        return run if (run / "config.toml").is_file() else None
    runs = [
        p
        for p in (out.glob("*") if out.is_dir() else [])
        if (p / "config.toml").is_file() and any((p / c).is_file() for c in (CHECKPOINT, PREVIOUS))
    ]
    if not runs:
        return None
    newest = max(
        runs,
        key=lambda p: max(
            (p / c).stat().st_mtime for c in (CHECKPOINT, PREVIOUS) if (p / c).is_file()
        ),
    )
    print(f"style-wrap train: resuming the newest run with a checkpoint, {newest}")
    return newest


def _resolve_resume(config: TrainConfig, given: set[str]) -> tuple[TrainConfig, Path]:
    run = _find_run(config)
    if run is None:
        where = Path(config.out) / config.name if config.name else Path(config.out)
        raise ConfigError(
            f"--resume: no run to resume in {str(where)!r}; expected a run folder "
            "with config.toml and a checkpoint (start without --resume)"
        )
    try:
        saved = TrainConfig(**load_toml(run / "config.toml"))
    except TypeError as err:
        raise ConfigError(f"{run / 'config.toml'}: not a run's settings ({err})") from None
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


def _policy_consistency(
    config: TrainConfig, data_a: FrameData, size: tuple[int, int], device: torch.device
) -> PolicyTerm:
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
    try:  # the model is built before the folder is made: settings it cannot take leave none
        run = Run(config, run_dir, (data_a, data_b), device, dist_info, None, policy)
    except (RuntimeError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(
            f"the settings do not build a model for {h}x{w} frames ({err}); check ngf, ndf, "
            "n_blocks and d_layers"
        ) from None
    writer = RunWriter(run_dir, config, dist_info.is_main, CHECKPOINT)
    run.writer = writer
    try:
        run.load(init_states)
        return run.fit()
    finally:
        writer.close()
        if dist_info.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


class Run:
    """One run's model, samplers and batch streams on this process; :meth:`fit` trains it.

    Args:
        config: The run's settings.
        run_dir: Its folder.
        data: The frames of domain A and domain B.
        device: Where to train.
        dist_info: This process's rank and world size.
        writer: What rank 0 writes (set before :meth:`load`).
        policy: The policy term (see :func:`_policy_consistency`).
    """

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        data: tuple[FrameData, FrameData],
        device: torch.device,
        dist_info: DistInfo,
        writer: RunWriter | None,
        policy: PolicyTerm,
    ):
        self.config, self.run_dir, self.device = config, run_dir, device
        self.dist, self.writer = dist_info, writer
        self.data = data
        self.names = (data[0].name, data[1].name)
        self.size: tuple[int, int] = tuple(data[0].frames.shape[1:3])  # type: ignore[assignment]
        # Each regressor learns its own look (fit), and scores the other look's translations
        # against the source frames' states read with its look's floor period (score).
        self.fit_poses = self._pose_targets((config.floor_period_a, config.floor_period_b))
        self.poses = self._pose_targets((config.floor_period_b, config.floor_period_a))
        self.panel, self.ends, self.labels = policy
        pose_dim = self.poses[0].shape[1] if self.poses[0] is not None else 0
        # Domain A's recorded x, whose steps move the floor (the flow term).
        self.xs: torch.Tensor | None = None
        if config.lambda_flow > 0 and data[0].qpos is not None:
            self.xs = torch.from_numpy(data[0].qpos[:, 0].astype(np.float32))
        # Each domain's discriminator conditions (d_condition), one row per frame.
        self.conditions = self._conditions()
        cond_dim = 0 if self.conditions[0] is None else self.conditions[0].shape[1]
        cond_dim = 1 if config.d_condition == "waves" else cond_dim  # a camera position
        self.model = CycleGAN(config, self.size, device, dist_info, pose_dim, self.panel, cond_dim)
        rank, world = dist_info.rank, dist_info.world
        self.samplers = {
            "a": EpochSampler(len(data[0]), config.batch_size, config.seed, rank, world),
            "b": EpochSampler(len(data[1]), config.batch_size, config.seed + 1, rank, world),
        }
        if self.panel is not None:
            per_step = config.policy_batch or config.batch_size
            self.samplers["policy"] = EpochSampler(
                len(self.ends), per_step, config.seed + 2, rank, world
            )
        if config.temporal:
            steps_a = torch.from_numpy(data[0].steps)
            self.samplers["streams"] = EpisodeStreams(
                steps_a, config.batch_size, config.seed + 3 + 1000 * rank, config.temporal_horizon
            )

    def _pose_targets(self, periods: tuple[float, float]) -> list[torch.Tensor | None]:
        """Each domain's pose targets, its floor phase read with ``periods`` (A's, B's)."""
        if self.config.lambda_pose <= 0:
            return [None, None]
        extent = self.config.floor_extent
        return [
            torch.from_numpy(pose_targets(d.qpos, period, extent)).to(self.device)
            for d, period in zip(self.data, periods)
        ]

    def _conditions(self) -> list[torch.Tensor | None]:
        """Each frame's discriminator condition (``d_condition``): +1 over the floor (|x| <=
        floor_extent), else -1, and with ``pose`` first the qpos but x, standardised over both
        domains' frames."""
        if self.config.d_condition in ("none", "waves"):  # waves: the camera's positions
            return [None, None]
        qpos = [np.asarray(d.qpos, np.float32) for d in self.data]
        joints = np.concatenate([q[:, 1:] for q in qpos])
        mean, std = joints.mean(0), np.maximum(joints.std(0), 1e-6)
        out: list[torch.Tensor | None] = []
        for q in qpos:
            rows = np.where(np.abs(q[:, :1]) <= self.config.floor_extent, 1.0, -1.0)
            if self.config.d_condition == "pose":
                rows = np.concatenate([(q[:, 1:] - mean) / std, rows], 1)
            out.append(torch.from_numpy(rows.astype(np.float32)).to(self.device))
        return out

    def load(self, init_states: dict[str, dict[str, Any]]) -> None:
        """Initial weights, then the checkpoint of a resumed run; then the frames go to the
        device, the pose regressors are fitted (once per run) and the batch streams open."""
        model, config = self.model, self.config
        for key, state in init_states.items():
            getattr(model, key).load_state_dict(state)
        if config.resume:
            self._resume()
        frames_a = torch.from_numpy(self.data[0].frames).to(self.device)
        frames_b = torch.from_numpy(self.data[1].frames).to(self.device)
        if config.lambda_pose > 0 and not model.pose_fitted:
            pose_a, pose_b = self.fit_poses
            assert pose_a is not None and pose_b is not None
            model.fit_pose_regressors(
                to_model_input(frames_a), pose_a, to_model_input(frames_b), pose_b
            )
        fmt = model.memory_format
        conds = self.conditions
        self.batches_a = frame_batches(frames_a, self.poses[0], self.samplers["a"], fmt, conds[0])
        self.batches_b = frame_batches(frames_b, self.poses[1], self.samplers["b"], fmt, conds[1])
        self.stacks = None
        if self.panel is not None:
            sampler = self.samplers["policy"]
            n = self.panel.n_stack
            self.stacks = stack_batches(frames_a, self.ends, self.labels, n, sampler, fmt)
        if config.temporal:
            self.frames = (frames_a, frames_b)
            self.steps = tuple(torch.from_numpy(d.steps).to(self.device) for d in self.data)
            wants_motion = config.lambda_flow > 0 or config.floor_coords
            if wants_motion and model.row_motion is None:
                model.row_motion = torch.stack(
                    [self._row_motion(i, frames) for i, frames in enumerate(self.frames)]
                )
                model.set_floor_motion(model.row_motion)
            self.positions: tuple[torch.Tensor, torch.Tensor] | None = None
            if config.floor_coords:
                assert model.row_motion is not None
                self.positions = (
                    camera_track(frames_a, self.steps[0], model.row_motion[0]),
                    camera_track(frames_b, self.steps[1], model.row_motion[1]),
                )
            if model.step == 0:
                self._burn_in()
        g = torch.Generator().manual_seed(config.seed)
        pick_a = torch.randperm(len(frames_a), generator=g)[:4].to(self.device)
        pick_b = torch.randperm(len(frames_b), generator=g)[:4].to(self.device)
        self.fixed = (to_model_input(frames_a[pick_a]), to_model_input(frames_b[pick_b]))

    def _resume(self) -> None:
        """Load the run's checkpoint: the latest, or, when a kill came between the two renames
        of a checkpoint write, the previous one. A damaged latest is an error that names the
        newest intact checkpoint (nothing is overwritten on the way)."""
        latest, previous = self.run_dir / CHECKPOINT, self.run_dir / PREVIOUS
        if not latest.is_file():
            if not previous.is_file():
                return  # a run that made its folder but no checkpoint yet: start it afresh
            print(f"style-wrap train: {latest} is missing; resuming from {previous}")
            latest = previous
        try:
            state = read_checkpoint(latest)
            self.model.load_state_dict(state["model"])
            for k, s in self.samplers.items():
                s.load_state_dict(state["samplers"][k])
        except (CheckpointError, RuntimeError, KeyError, TypeError, ValueError) as err:
            step = checkpoint_step(previous) if latest != previous else None
            hint = (
                f"; the newest intact checkpoint is {previous} (step {step}): to resume from "
                f"it, mv {previous} {latest}"
                if step is not None
                else "; no intact checkpoint is left: start the run again"
            )
            reason = str(err) if isinstance(err, CheckpointError) else f"{latest}: {err}"
            raise CheckpointError(f"{reason.splitlines()[0][:300]}{hint}") from None

    def _burn_in(self) -> None:
        """Spread a fresh run's streams over their episodes: each walks, translating without
        gradient, from its episode's first frame to a random step of it (up to 400), so the
        first batches are not all episode starts."""
        streams: EpisodeStreams = self.samplers["streams"]
        g = torch.Generator().manual_seed(self.config.seed + 4)
        walks = torch.randint(1, 400, (streams.n,), generator=g)
        for k in range(int(walks.max())):
            active = walks > k
            index, history = self._stream_batch(active)
            with torch.no_grad():
                x = self.model.ab_input(self._frames_a(index), history)
                fake = self.model.run_ab(x, history.position)
            if streams.outputs is not None:
                fake = torch.where(active.to(self.device).view(-1, 1, 1, 1), fake, streams.outputs)
            streams.outputs = fake

    def _row_motion(self, domain: int, frames: torch.Tensor) -> torch.Tensor:
        """One look's image-row motion per metre of x (see
        :func:`~style_wrap.train.flow.fit_row_motion`), from up to 256 seeded pairs of its
        consecutive frames."""
        data = self.data[domain]
        assert data.qpos is not None  # checked with the data
        steps = torch.from_numpy(data.steps)
        later = torch.nonzero((steps[1:] >= 1) & (steps[1:] == steps[:-1] + 1)).flatten() + 1
        g = torch.Generator().manual_seed(self.config.seed + 5 + domain)
        pick = later[torch.randperm(len(later), generator=g)[:256]]
        pairs = torch.stack([pick - 1, pick], 1).flatten().to(self.device)
        x = torch.from_numpy(data.qpos[:, 0].astype(np.float32))
        dx = (x[pick] - x[pick - 1]).to(self.device)
        h, w = frames.shape[1:3]
        return fit_row_motion(to_model_input(frames[pairs]).reshape(-1, 2, 3, h, w), dx)

    def _frames_a(self, index: torch.Tensor) -> torch.Tensor:
        return to_model_input(self.frames[0][index.to(self.device)])

    def _stream_batch(
        self, active: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, BatchHistory]:
        """The streams' next frames of domain A and their history (their own last outputs)."""
        streams: EpisodeStreams = self.samplers["streams"]
        index, started = streams.next(active)
        outputs = streams.outputs
        before = torch.where(started, index - 1, index)
        previous = self._frames_a(before)
        if outputs is None or outputs.shape[0] != len(index):
            outputs, started = torch.zeros_like(previous), torch.zeros_like(started)
        pose = None if self.poses[0] is None else self.poses[0][before.to(self.device)]
        dx = None
        if self.xs is not None:
            dx = torch.where(started, self.xs[index] - self.xs[before], 0.0).to(self.device)
        position = None if self.positions is None else self.positions[0][index.to(self.device)]
        history = BatchHistory(
            previous, outputs.to(self.device), started.to(self.device), pose, dx, position
        )
        return index, history

    def _temporal_step(self) -> dict[str, float]:
        streams: EpisodeStreams = self.samplers["streams"]
        index, history_a = self._stream_batch()
        pose_a = None if self.poses[0] is None else self.poses[0][index.to(self.device)]
        pick = self.samplers["b"].next().to(self.device)
        before, ok = previous_frames(self.steps[1], pick)
        frames_b = self.frames[1]
        real_b, prev_b = to_model_input(frames_b[pick]), to_model_input(frames_b[before])
        at_b = None if self.positions is None else self.positions[1][pick]
        history_b = BatchHistory(prev_b, prev_b, ok, position=at_b)
        pose_b = None if self.poses[1] is None else self.poses[1][pick]
        conds = self.conditions
        cond_a = None if conds[0] is None else conds[0][index.to(self.device)]
        cond_b = None if conds[1] is None else conds[1][pick]
        if self.config.d_condition == "waves":
            assert history_a.position is not None and at_b is not None
            cond_a, cond_b = history_a.position[:, None], at_b[:, None]
        losses = self.model.train_step(
            self._frames_a(index),
            real_b,
            pose_a,
            pose_b,
            None,
            history_a,
            history_b,
            cond_a,
            cond_b,
        )
        streams.outputs = self.model.last_fake_b
        return losses

    def step(self) -> dict[str, float]:
        """One training iteration on the next batches; returns its losses."""
        if self.config.temporal:
            return self._temporal_step()
        (real_a, pose_a, cond_a), (real_b, pose_b, cond_b) = (
            next(self.batches_a),
            next(self.batches_b),
        )
        policy_batch = None if self.stacks is None else next(self.stacks)
        return self.model.train_step(
            real_a, real_b, pose_a, pose_b, policy_batch, cond_a=cond_a, cond_b=cond_b
        )

    def checkpoint(self) -> None:
        """Everything a resumed run needs, written atomically by rank 0."""
        self.writer.checkpoint(
            {
                "model": self.model.state_dict(),
                "samplers": {k: s.state_dict() for k, s in self.samplers.items()},
                "config": self.config.to_dict(),
                "domains": list(self.names),
                "frame_size": list(self.size),
            }
        )

    def export(self, folder: Path) -> None:
        """Both generators (their averages with ema) at this step, into ``folder``."""
        model, config = self.model, self.config
        export_generators(
            folder, model.generators, self.names, self.size, model.step, config, self.run_dir.name
        )

    def _after_step(self, losses: dict[str, float], bar: Any) -> None:
        """Log, draw samples and keep exports when their turn comes."""
        model, config = self.model, self.config
        if model.step % config.log_every == 0 or model.step == config.iters:
            now = time.perf_counter()
            steps = max(1, model.step - self.tick_step)  # fewer than log_every after a resume
            seconds, self.tick, self.tick_step = (now - self.tick) / steps, now, model.step
            self.writer.scalars(model.step, losses, model.opt_g.param_groups[0]["lr"], seconds)
            bar.set_postfix(G=f"{losses['G_total']:.3f}", D=f"{losses['D_A'] + losses['D_B']:.3f}")
        if config.sample_every and model.step % config.sample_every == 0:
            self.writer.samples(model.step, model.sample_grid(*self.fixed))
        every = config.export_every
        if every and model.step % every == 0 and model.step < config.iters and self.dist.is_main:
            self.export(self.run_dir / EXPORTS_DIR / f"step-{model.step:06d}")

    def _fit_to_budget(self, budget: float, spent: float, bar: Any) -> None:
        """Fit ``iters`` to what the time budget allows at the speed of the last 20 steps."""
        per_step = spent / 20
        affordable = self.model.step + int((budget - spent) / per_step)
        if affordable < self.config.iters:
            print(
                f"\nstyle-wrap train: {per_step:.3f} s per iteration; the time budget of "
                f"{self.config.time_budget:g} min affords {affordable} iterations "
                f"(asked {self.config.iters}); the LR decay follows"
            )
            self._fit_iters(affordable)
            bar.total = affordable

    def _fit_iters(self, iters: int) -> None:
        """The run becomes one of ``iters`` iterations: its LR schedule and config.toml follow."""
        from style_wrap.train.config import dump_toml

        config = self.config.replace(iters=max(iters, self.model.step))
        self.config = self.model.config = config
        decay_from, decay = config.decay_from, max(1, config.iters - config.decay_from)

        def schedule(step: int) -> float:
            return max(0.0, 1.0 - max(0, step - decay_from) / decay)

        for sched in (self.model.sched_g, self.model.sched_d):
            sched.lr_lambdas = [schedule] * len(sched.optimizer.param_groups)
            for group, base in zip(sched.optimizer.param_groups, sched.base_lrs):
                group["lr"] = base * schedule(self.model.step)
        if self.dist.is_main:
            atomic_write_bytes(self.run_dir / "config.toml", dump_toml(config).encode())

    def fit(self) -> Path:
        """Train to ``iters``, checkpointing as set and when stopped (SIGINT/SIGTERM); then
        export both generators into the run folder. Returns the run folder."""
        from tqdm.auto import tqdm

        model, config = self.model, self.config
        self.writer.start(model.step, self.names, self.dist.world, str(self.device))
        bar = tqdm(
            total=config.iters,
            initial=model.step,
            desc=self.run_dir.name,
            unit="it",
            disable=not (config.progress and self.dist.is_main),
            dynamic_ncols=True,
        )
        self.tick = started = time.perf_counter()
        self.tick_step = model.step
        budget = config.time_budget * 60
        first = model.step
        with _Stop() as stop:
            while model.step < self.config.iters:
                losses = self.step()
                bad = sorted(k for k, v in losses.items() if not math.isfinite(v))
                if bad:
                    bar.close()
                    raise TrainingError(
                        f"step {model.step}: loss {bad[0]} = {losses[bad[0]]}; training "
                        f"stopped and nothing of this step was saved (the last checkpoint, "
                        f"{self.run_dir / CHECKPOINT}, is kept); expected finite losses: "
                        "lower lr or the lambdas, or check the data"
                    )
                bar.update(1)
                self._after_step(losses, bar)
                if budget and model.step - first == 20:
                    self._fit_to_budget(budget, time.perf_counter() - started, bar)
                over = time.perf_counter() - started >= budget
                if budget and any_rank(over, self.dist) and model.step < self.config.iters:
                    print(f"\nstyle-wrap train: time budget spent at step {model.step}")
                    self._fit_iters(model.step)
                interrupted = any_rank(stop.requested, self.dist)
                if model.step % config.checkpoint_every == 0 or interrupted:
                    self.checkpoint()
                if interrupted:
                    bar.close()
                    raise KeyboardInterrupt(
                        f"interrupted at step {model.step}; checkpoint saved in "
                        f"{self.run_dir / CHECKPOINT}; continue with --resume"
                    )
        bar.close()
        if model.step % config.checkpoint_every:  # else the loop has just written this step
            self.checkpoint()
        check_in_sync(list(model.nets.values()), self.dist)
        if self.dist.is_main:
            self.export(self.run_dir)
        if self.dist.world > 1:
            dist.barrier()  # leave together: tearing gloo down while a peer still works can abort
        return self.run_dir


def _init_states(config: TrainConfig, names: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """The weights named by ``init_g_ab`` / ``init_g_ba``, checked against the run's settings."""
    states = {}
    for key, path, (source, target), arch in (
        ("g_ab", config.init_g_ab, names, config.generator_ab),
        ("g_ba", config.init_g_ba, names[::-1], config.generator),
    ):
        if not path:
            continue
        net, spec = load_generator(path)
        got = dataclasses.replace(spec.architecture, floor_periods=(), floor_rows=0)
        per_frame = got == config.generator
        if got != arch and not (arch.temporal and per_frame):
            raise ConfigError(
                f"init_{key} {path}: architecture {spec.architecture}; expected "
                f"{arch} (the run's ngf, n_blocks, upsample, temporal)"
            )
        if spec.architecture.floor_periods and not (key == "g_ab" and config.floor_coords):
            raise ConfigError(
                f"init_{key} {path} reads the floor's waves; expected floor_coords = true with "
                "it (a floor-aware G_AB)"
            )
        if (spec.domain_from, spec.domain_to) != (source, target):
            warnings.warn(
                f"init_{key} {path} translates {spec.domain_from} -> {spec.domain_to}; "
                f"this run's {key} translates {source} -> {target}",
                stacklevel=3,
            )
        # A per-frame G_AB starts a temporal one: the history's weights start at zero; so do
        # a floor-aware one's wave weights (its row motion is fitted with the run's data).
        state = net.state_dict()
        if per_frame and arch.temporal:
            state = temporal_state(state)
        if key == "g_ab" and config.floor_coords and not spec.architecture.floor_periods:
            state = floor_state(state, config.generator_ab_for(spec.frame_height))
        states[key] = state
    return states
