"""Training settings: one dataclass, a documented field each, from defaults, TOML and flags.

Precedence: field defaults, then a TOML file (``--config``), then command-line flags. The run
folder keeps the resolved settings as ``config.toml``, which ``--config`` reads back.

Example:
    >>> from style_wrap.train.config import TrainConfig
    >>> cfg = TrainConfig(domain_a="data/restyled", domain_b="data/standard", iters=100)
    >>> cfg.identity_weight, cfg.decay_from
    (5.0, 50)
    >>> TrainConfig(domain_a="a", domain_b="b", cycle="half")
    Traceback (most recent call last):
    ...
    style_wrap.errors.ConfigError: setting cycle = 'half'; expected one of detached, full, none
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from style_wrap.errors import ConfigError
from style_wrap.settings import (
    add_arguments,
    check_at_least,
    check_fields,
    fields_of,
    from_arguments,
    setting,
)

if TYPE_CHECKING:
    from style_wrap.nets import GeneratorConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "TrainConfig",
    "CYCLE_MODES",
    "GAN_MODES",
    "GRADIENT_PENALTIES",
    "AMP_MODES",
    "add_config_arguments",
    "config_from_args",
    "load_toml",
    "dump_toml",
]

CYCLE_MODES = ("detached", "full", "none")
GAN_MODES = ("lsgan", "vanilla")
GRADIENT_PENALTIES = ("none", "r1", "wgan-gp")
AMP_MODES = ("auto", "none", "bf16", "fp16")
UPSAMPLE_MODES = ("transpose", "resize")
D_CONDITIONS = ("none", "floor", "pose", "waves")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a CycleGAN run. Domain A is the source look, B the target look."""

    domain_a: str = setting("", "Frame folder of domain A (`style-wrap collect` output).")
    domain_b: str = setting("", "Frame folder of domain B.")
    out: str = setting("runs", "Parent folder of run folders.")
    name: str = setting("", "Run name; default {a}__{b}__{seed}__{time} (CleanRL style).")
    resume: bool = setting(
        False, "Continue the run --name (or the newest in --out) from its checkpoint."
    )
    iters: int = setting(20000, "Training iterations (one D step and one G step each).")
    batch_size: int = setting(8, "Frames per domain per iteration (per process under torchrun).")
    ngf: int = setting(32, "Generator width: channels of its first layer.")
    n_blocks: int = setting(6, "Residual blocks in each generator.")
    upsample: str = setting("transpose", "Generator upsampling.", UPSAMPLE_MODES)
    temporal: bool = setting(
        False,
        "Make G_AB temporal: it also reads the previous source frame and its own previous "
        "output, so it can carry what one frame leaves open (a checker floor's phase when the "
        "two looks' checkers differ) from frame to frame. Trained on streams that walk "
        "domain A's episodes step by step (its own outputs as history) and, in the cycle, on "
        "domain B's consecutive frames (the true previous frame as history). Needs frames "
        "collected with --every 1 (whole episodes from step 0). Warm starts from a per-frame "
        "G_AB (init_g_ab) translate as it did at first.",
    )
    temporal_horizon: int = setting(
        0,
        "With temporal: the training streams also restart at a random episode's first frame "
        "after each step with probability 1 / N (walks of N steps on average; more batches "
        "near the starts, where the history begins); 0 walks whole episodes.",
    )
    ndf: int = setting(64, "Discriminator width.")
    d_condition: str = setting(
        "none",
        "What each discriminator reads beside the frame, as constant channels: none; floor, "
        "whether the frame's recorded state is over the floor (|x| <= floor_extent); or pose, "
        "that and the recorded qpos but x (standardised). Real frames bring their own state, "
        "translations their source's, so the discriminator judges whether the frame shows that "
        "state in its look: a content term that keeps learning (a frozen pose regressor can be "
        "fooled) and that a plain floor cannot satisfy where the state is over a checker (needs "
        "frames collected with their physics state); or waves (with floor_coords), D_B alone "
        "reads the ground plane's waves at each frame's camera position, read from its own "
        "look's frames as G_AB's are: it learns where on the plane the target look's checker "
        "lies, so G_AB must draw it in that phase and move it with the camera.",
        D_CONDITIONS,
    )
    d_layers: int = setting(0, "Discriminator strided layers; 0 picks from the frame size.")
    gan_mode: str = setting("lsgan", "Adversarial loss.", GAN_MODES)
    cycle: str = setting(
        "detached", "Cycle loss: detached (the post's broken cycle), full, none.", CYCLE_MODES
    )
    lambda_cycle: float = setting(10.0, "Weight of the cycle loss.")
    lambda_identity: float = setting(0.5, "Identity loss weight as a fraction of lambda_cycle.")
    gradient_penalty: str = setting(
        "none", "Gradient penalty on the discriminators.", GRADIENT_PENALTIES
    )
    lambda_gp: float = setting(10.0, "Weight of the gradient penalty.")
    lambda_pose: float = setting(
        0.0,
        "Weight of the pose-consistency loss: a pose regressor fitted on each domain's real frames "
        "scores translated frames against the source's recorded pose (needs frames collected with "
        "their physics state; 0 disables).",
    )
    floor_period_a: float = setting(
        0.0,
        "Checker period (m along x) of domain A's floor; with floor_period_b > 0 the pose term "
        "also carries the floor's phase and presence (each look read with its own period), so "
        "a translation must draw the target look's floor where the source's state puts it and "
        "none past its end (the cheetah: 80 / checker_repeat; 0 disables).",
    )
    floor_period_b: float = setting(0.0, "Checker period (m) of domain B's floor (see A's).")
    floor_weight: float = setting(
        1.0,
        "Weight of the floor's phase and presence inside the pose term, relative to each joint's "
        "(1: every target alike); raises the floor without raising the body's lambda_pose "
        "(needs the floor periods).",
    )
    lambda_floor_motion: float = setting(
        0.0,
        "With temporal and the floor periods: weight of the floor's motion term. The floor that "
        "G_AB draws (as domain B's pose regressor reads its phase) must move from its previous "
        "output by the phase step the source's recorded motion gives in B's period, and be "
        "present where the source's state is over a floor: its motion, not its absolute phase, "
        "which one source frame leaves open (0 disables; floor_weight = 0 drops the absolute "
        "phase target).",
    )
    lambda_flow: float = setting(
        0.0,
        "With temporal, on frames with their recorded states: weight of the pixel-level motion "
        "term. G_AB's output must equal its previous output moved as the source's floor moved "
        "(each image row by its slope, fitted from consecutive frames of each look, times the "
        "recorded x step), on the pixels where the source frame itself follows that move (its "
        "floor and sky, not the moving body): the video style transfer term with the camera's "
        "own motion for the flow, so a drawn floor keeps its pattern and moves with the source "
        "(0 disables).",
    )
    flow_tolerance: float = setting(
        0.1,
        "With lambda_flow: a source pixel follows the move when its mean channel error under it "
        "is below this (model units, [-1, 1]; 0.1 is about 13 grey levels).",
    )
    floor_coords: bool = setting(
        False,
        "With temporal, on frames with their recorded states: G_AB also reads where on the "
        "ground plane each pixel looks, as waves of periods 0.25-4 m at the camera's position "
        "(style_wrap.floor). The camera's steps are read from each look's own consecutive "
        "frames (each row's motion fitted per look, as lambda_flow's), in training and at run "
        "time alike, so a checker drawn from the waves keeps its phase and moves with the "
        "source's floor. The generator keeps both looks' row motion in its weights. Warm "
        "starts from a G_AB without it translate as it did at first.",
    )
    floor_lr_scale: float = setting(
        30.0,
        "With floor_coords: the waves' weights learn at this many times lr (they start at zero "
        "in a warm start and must grow to draw a floor at all).",
    )
    floor_extent: float = setting(40.0, "Half-length (m) of the floor along x (gymnasium's: 40).")
    pose_steps: int = setting(2000, "Training steps of each pose regressor (with lambda_pose > 0).")
    pose_width: int = setting(32, "Width of the pose regressors.")
    lambda_policy: float = setting(
        0.0,
        "Weight of the policy-consistency loss (RL-CycleGAN's idea, with a state expert as the "
        "judge): the domain-B pixel policy `policy`, fed G_AB's translation of stacked "
        "consecutive domain-A frames, must take the action the state expert `policy_expert` "
        "takes at the newest frame's recorded state. Needs domain-A frames collected with "
        "--every 1 from a MuJoCo env (0 disables).",
    )
    policy: str = setting(
        "",
        "Pixel policy of domain B (a shipped name, a .safetensors policy, or an SB3 .zip you "
        "trust: a zip can run code) whose actions the "
        "policy-consistency loss reads; it is frozen. Several, comma-separated, judge together "
        "(the loss is the mean of theirs), so the translation serves more than one policy.",
    )
    policy_expert: str = setting(
        "",
        "State-expert folder (`style-wrap expert`) that labels domain-A frames by their state.",
    )
    policy_batch: int = setting(
        0, "Frame stacks per iteration for the policy loss (0: batch_size)."
    )
    policy_shift: int = setting(
        0,
        "Shift each translated stack by up to this many pixels (a random offset per stack, "
        "edges replicated) before the policy reads it, so the translation cannot please the "
        "policy through exact pixel positions alone (0: none).",
    )
    init_g_ab: str = setting(
        "",
        "Start G_AB from these exported weights (a .safetensors path or a shipped name, e.g. "
        "halfcheetah-restyled-to-standard); the architecture must match.",
    )
    init_g_ba: str = setting("", "Start G_BA from these exported weights (see init_g_ab).")
    pool_size: int = setting(50, "Image history pool per domain (0 disables).")
    lr: float = setting(2e-4, "Adam learning rate.")
    beta1: float = setting(0.5, "Adam beta1.")
    beta2: float = setting(0.999, "Adam beta2.")
    decay_start: float = setting(0.5, "Fraction of iters after which the LR decays linearly to 0.")
    seed: int = setting(0, "Seed of initialisation, sampling and the pools.")
    device: str = setting("auto", "auto (CUDA when available), cpu, cuda or cuda:N.")
    amp: str = setting("auto", "Mixed precision on CUDA: auto (bf16), none, bf16, fp16.", AMP_MODES)
    channels_last: bool = setting(True, "Use channels_last memory format on CUDA.")
    threads: int = setting(0, "CPU threads for torch (0 leaves torch's default).")
    checkpoint_every: int = setting(500, "Iterations between checkpoints.")
    log_every: int = setting(50, "Iterations between logged scalars.")
    sample_every: int = setting(500, "Iterations between PNG sample grids (0 disables).")
    ema: float = setting(
        0.0,
        "Decay of an exponential moving average of the generators' weights, which is what "
        "gets exported (0: off, the raw weights; e.g. 0.999). Averaging steadies a GAN that "
        "wanders from step to step.",
    )
    export_every: int = setting(
        0,
        "Iterations between kept exports of both generators in exports/step-NNNNNN/ "
        "(0: only the final one); GAN quality moves a lot between checkpoints, so keep "
        "several and choose by the policy (style-wrap demo/eval --weights).",
    )
    export_dtype: str = setting("float32", "Dtype of exported generators.", ("float32", "float16"))
    progress: bool = setting(True, "Show a progress bar.")
    time_budget: float = setting(
        0.0,
        "Minutes this invocation may train (0: no limit). After 20 timed iterations, iters is "
        "fitted to the budget (never raised) with the LR decay fitted with it and written to "
        "config.toml; when the budget is spent anyway, the run checkpoints and exports as if done.",
    )

    def __post_init__(self) -> None:
        check_fields(self)
        positive = ("iters", "batch_size", "ngf", "ndf", "checkpoint_every", "log_every")
        check_at_least(fields_of(self, *positive, "pose_steps", "pose_width"), 1, prefix="setting ")
        counts = ("n_blocks", "d_layers", "pool_size", "sample_every", "export_every", "threads")
        counts += ("policy_batch", "policy_shift", "temporal_horizon")
        check_at_least(fields_of(self, *counts), 0, prefix="setting ")
        weights = ("lambda_cycle", "lambda_identity", "lambda_gp", "lambda_pose", "lambda_policy")
        floors = ("floor_period_a", "floor_period_b", "floor_extent", "floor_weight")
        floors += ("lambda_floor_motion", "lambda_flow", "flow_tolerance")
        check_at_least(
            fields_of(self, *weights, *floors, "lr", "time_budget"), 0, prefix="setting "
        )
        if (self.floor_period_a > 0) != (self.floor_period_b > 0) or (
            self.floor_period_a > 0 and self.lambda_pose <= 0
        ):
            raise ConfigError(
                f"settings floor_period_a = {self.floor_period_a}, floor_period_b = "
                f"{self.floor_period_b}: expected both > 0 with lambda_pose > 0, or both 0"
            )
        if self.floor_weight != 1.0 and self.floor_period_a <= 0:
            raise ConfigError(
                f"setting floor_weight = {self.floor_weight} weighs the floor's targets of the "
                "pose term; expected floor_period_a and floor_period_b > 0 with it (or "
                "floor_weight = 1)"
            )
        if self.lambda_floor_motion > 0 and not (self.temporal and self.floor_period_a > 0):
            raise ConfigError(
                f"setting lambda_floor_motion = {self.lambda_floor_motion} scores the floor's "
                f"motion between a temporal G_AB's outputs; expected temporal = true (got "
                f"{self.temporal}) and floor_period_a, floor_period_b > 0 (got "
                f"{self.floor_period_a}, {self.floor_period_b}), or lambda_floor_motion = 0"
            )
        if self.lambda_flow > 0 and not self.temporal:
            raise ConfigError(
                f"setting lambda_flow = {self.lambda_flow} compares a temporal G_AB's output "
                "with its previous one; expected temporal = true with it (or lambda_flow = 0)"
            )
        if self.floor_coords and not self.temporal:
            raise ConfigError(
                "setting floor_coords = true feeds a temporal G_AB the camera's position read "
                "from consecutive frames; expected temporal = true with it"
            )
        if self.d_condition == "waves" and not self.floor_coords:
            raise ConfigError(
                "setting d_condition = 'waves' shows D_B the waves a floor-aware G_AB reads; "
                "expected floor_coords = true with it"
            )
        if not self.floor_lr_scale > 0:
            raise ConfigError(f"setting floor_lr_scale = {self.floor_lr_scale!r}; expected > 0")
        if not 0.0 <= self.ema < 1.0:
            raise ConfigError(f"setting ema = {self.ema!r}; expected 0 <= ema < 1 (0: off)")
        if self.temporal and self.lambda_policy > 0:
            raise ConfigError(
                f"settings temporal = true and lambda_policy = {self.lambda_policy}: the policy "
                "term reads per-frame translations; expected lambda_policy = 0 with temporal"
            )
        if self.lambda_policy > 0 and not (self.policy and self.policy_expert):
            raise ConfigError(
                f"lambda_policy = {self.lambda_policy} needs settings policy (a domain-B pixel "
                f"policy, got {self.policy!r}) and policy_expert (a state-expert folder, got "
                f"{self.policy_expert!r})"
            )
        for name in ("beta1", "beta2", "decay_start"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"setting {name} = {getattr(self, name)!r}; expected in [0, 1]")

    @property
    def generator(self) -> GeneratorConfig:
        """The generators' architecture these settings describe."""
        from style_wrap.nets import GeneratorConfig

        return GeneratorConfig(ngf=self.ngf, n_blocks=self.n_blocks, upsample=self.upsample)

    @property
    def generator_ab(self) -> GeneratorConfig:
        """G_AB's architecture: :attr:`generator`, temporal with ``temporal``."""
        return dataclasses.replace(self.generator, temporal=self.temporal)

    def generator_ab_for(self, rows: int) -> GeneratorConfig:
        """G_AB's architecture for frames of ``rows`` rows: :attr:`generator_ab`, floor-aware
        with ``floor_coords``."""
        from style_wrap.nets import FLOOR_PERIODS

        if not self.floor_coords:
            return self.generator_ab
        return dataclasses.replace(self.generator_ab, floor_periods=FLOOR_PERIODS, floor_rows=rows)

    @property
    def identity_weight(self) -> float:
        """The identity loss weight (CycleGAN: half the cycle weight)."""
        return self.lambda_cycle * self.lambda_identity

    @property
    def decay_from(self) -> int:
        """The iteration after which the learning rate decays."""
        return int(self.iters * self.decay_start)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some settings changed; unknown names raise :class:`ConfigError`."""
        _check_names(changes, "setting")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_names(data: dict[str, Any], what: str) -> None:
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"unknown {what} {unknown[0]!r}; expected one of {', '.join(sorted(known))}"
        )


def load_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Settings from a TOML file (top level, or a ``[train]`` table)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"settings file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    data = data.get("train", data)
    _check_names(data, f"setting in {path}:")
    return data


def dump_toml(config: TrainConfig) -> str:
    """The settings as TOML text that :func:`load_toml` reads back."""
    lines = ["# style_wrap training settings (resolved)", "[train]"]
    for key, value in config.to_dict().items():
        text = ("true" if value else "false") if isinstance(value, bool) else json.dumps(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting (``--batch-size``...), help from the field docs, plus ``--config``."""
    parser.add_argument("--config", help="TOML settings file; flags override it")
    add_arguments(parser, TrainConfig, suppress=True)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults, then ``--config``, then the flags that were given."""
    values = load_toml(args.config) if getattr(args, "config", None) else {}
    return from_arguments(TrainConfig, args, **values)


def default_run_name(config: TrainConfig, now: float) -> str:
    """``{a}__{b}__{seed}__{time}``, from the folders' names."""
    a, b = (Path(p).name or "a" for p in (config.domain_a, config.domain_b))
    return f"{a}__{b}__{config.seed}__{int(now)}"
