"""Fit a translator through the pose (:mod:`style_wrap.posenet`) on unpaired frames: ``style-wrap
fit-pose``.

Two fits, each on ONE look's own frames and the physics states recorded with them (never a pair
of the same state drawn in both looks, and no policy anywhere):

1. the encoder, on the source look's consecutive frames: the later frame's pose and the root's
   x step between the two (each episode's first frame is also shown twice, a step of 0, as at
   run time);
2. the renderer, on the target look's frames: the pose's capsule ends and camera, supervised by
   the target look's own model (its capsules and tracking camera at each recorded state), and the
   painter and floor by the frames themselves (an L1 loss weighted up near the body).

The bodies must be planar MuJoCo walkers whose ``qpos`` is the root's x, height and pitch and six
joints (HalfCheetah, Walker2d), seen by a camera named ``track`` over a plane. The run folder
holds ``config.json``, ``checkpoint.pt`` (written atomically every ``checkpoint_every`` steps, so
that rerunning the command resumes), ``log.jsonl`` (held-out errors) and, at the end,
``translator.safetensors``, which :class:`~style_wrap.StyleTransfer` loads.

Example:
    >>> PoseFitConfig(source=("a",), target=("b",)).encoder_steps
    20000
    >>> PoseFitConfig(source=("a",), target=("b",), renderer_lr=-1.0)
    Traceback (most recent call last):
    ...
    style_wrap.errors.ConfigError: fit-pose renderer_lr = -1.0; expected >= 0
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from style_wrap.devices import resolve_device
from style_wrap.errors import CheckpointError, ConfigError, DataError
from style_wrap.io import atomic_path, atomic_write_bytes
from style_wrap.posenet import POSE_SIZE, PoseConfig, PoseNet, segment_maps
from style_wrap.settings import check_at_least, check_fields, fields_of, setting
from style_wrap.train.data import FrameData, load_frames

__all__ = ["LookCamera", "PoseFitConfig", "fit_pose", "look_camera", "pose_vector"]

CHECKPOINT = "checkpoint.pt"
PHASES = ("encoder", "renderer", "lock")
TRANSLATOR = "translator.safetensors"


@dataclass(frozen=True)
class PoseFitConfig:
    """Settings of ``style-wrap fit-pose`` (the data folders and the target env are named on the
    command line; the rest are flags of the same names)."""

    source: tuple[str, ...] = setting((), "Frame folders of the look the translator reads.")
    target: tuple[str, ...] = setting((), "Frame folders of the look the policy knows.")
    target_env: str = setting(
        "StyleWrap/HalfCheetah-v5", "The target look's env (its model draws the supervision)."
    )
    source_env: str = setting(
        "StyleWrap/HalfCheetahRestyled-v5",
        "The source look's env (its model supervises the floor lock's renderer).",
    )
    encoder_steps: int = setting(20000, "Adam steps of the encoder (0: keep --init's).")
    renderer_steps: int = setting(6000, "Adam steps of the renderer (0: keep --init's).")
    lock_steps: int = setting(
        0,
        "Adam steps of the floor lock, a renderer of the source look whose floor pins the "
        "root's x to what each frame shows (0: keep --init's lock, or none; experimental: "
        "docs/training.md has its zoo numbers).",
    )
    encoder_batch: int = setting(64, "Frame pairs per encoder step.")
    renderer_batch: int = setting(16, "Frames per renderer step.")
    encoder_lr: float = setting(1e-3, "The encoder's peak learning rate (one cycle).")
    renderer_lr: float = setting(1e-3, "The renderer's peak learning rate (one cycle).")
    body_weight: float = setting(10.0, "Extra L1 weight of the pixels near the body's capsules.")
    encoder_width: int = setting(32, "The encoder's first convolution's channels.")
    renderer_width: int = setting(32, "The renderer's painter's channels.")
    harmonics: int = setting(6, "Odd harmonics of the floor's square waves.")
    floor_period: float = setting(
        0.0, "The target floor's checker period in metres (0: read from its model)."
    )
    held_out_every: int = setting(20, "Every N-th frame is held out and scored, never fitted.")
    checkpoint_every: int = setting(500, "Steps between checkpoints and held-out scores.")
    seed: int = setting(0, "Seeds the networks' initialisation and the batches.")
    init: str = setting("", "A pose translator file (or shipped name) to start both from.")
    dtype: str = setting("float16", "The translator file's float type.", ("float16", "float32"))
    device: str = setting("auto", "auto, cpu, cuda or cuda:N.")

    def __post_init__(self) -> None:
        for name in ("source", "target"):
            value = getattr(self, name)
            if isinstance(value, (str, list)):
                object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        check_fields(self, prefix="fit-pose ")
        for name in ("source", "target"):
            if not getattr(self, name) or not all(isinstance(v, str) for v in getattr(self, name)):
                raise ConfigError(
                    f"fit-pose {name} = {getattr(self, name)!r}; expected one or more folders"
                )
        check_at_least(
            fields_of(
                self,
                "encoder_batch",
                "renderer_batch",
                "encoder_width",
                "renderer_width",
                "harmonics",
                "held_out_every",
                "checkpoint_every",
            ),
            1,
            prefix="fit-pose ",
        )
        check_at_least(
            fields_of(
                self,
                "encoder_steps",
                "renderer_steps",
                "lock_steps",
                "encoder_lr",
                "renderer_lr",
                "body_weight",
                "floor_period",
                "seed",
            ),
            0,
            prefix="fit-pose ",
        )
        if not self.init and (self.encoder_steps == 0 or self.renderer_steps == 0):
            raise ConfigError(
                f"fit-pose encoder_steps = {self.encoder_steps}, renderer_steps = "
                f"{self.renderer_steps} without init; expected both >= 1, or an init to keep "
                "the unfitted part from"
            )
        if self.held_out_every < 2:
            raise ConfigError(
                f"fit-pose held_out_every = {self.held_out_every}; expected >= 2 (1 would hold "
                "out every frame)"
            )

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def pose_vector(qpos: np.ndarray) -> np.ndarray:
    """A planar walker's pose from its ``qpos`` rows (float32, ``(N, 9)``): the root's height,
    the sine and cosine of its pitch, and the six joints (the x is what the camera hides).

    Example:
        >>> pose_vector(np.array([[5.0, 0.1, 0.0, 1, 2, 3, 4, 5, 6]])).tolist()[0][:4]
        [0.10000000149011612, 0.0, 1.0, 1.0]
    """
    q = np.asarray(qpos, np.float32)
    return np.concatenate([q[:, 1:2], np.sin(q[:, 2:3]), np.cos(q[:, 2:3]), q[:, 3:9]], 1)


@dataclass(frozen=True)
class LookCamera:
    """One look's tracking camera and floor, and per state its camera and capsules."""

    axes: np.ndarray  # (3, 3) world from camera, columns
    cam_y: float
    focal: float  # in pixels
    extent: float  # the floor's half length, m
    period: float  # the floor's checker period, m
    cam_x: np.ndarray  # (N,) the camera's x offset from the root's x
    cam_z: np.ndarray  # (N,) the camera's height
    ends: np.ndarray  # (N, G, 2, 3) capsule ends, x relative to the root's x


def _mujoco_parts(env: Any, env_id: str) -> tuple[Any, Any, int, list[int], int]:
    import mujoco

    base = env.unwrapped
    model, data = getattr(base, "model", None), getattr(base, "data", None)
    if not isinstance(model, mujoco.MjModel):
        raise ConfigError(f"target_env {env_id!r} is not a MuJoCo env; expected one with a model")
    if model.nq != POSE_SIZE:
        raise ConfigError(
            f"target_env {env_id!r} has nq = {model.nq}; expected {POSE_SIZE} (a planar walker: "
            "root x, height, pitch and six joints)"
        )
    cam = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "track")
    if cam < 0:
        raise ConfigError(f"target_env {env_id!r} has no camera named 'track'; expected one")
    geoms = [
        g
        for g in range(model.ngeom)
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE and model.geom_bodyid[g] > 0
    ]
    planes = [g for g in range(model.ngeom) if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE]
    if not geoms or not planes:
        raise ConfigError(
            f"target_env {env_id!r} has {len(geoms)} capsules and {len(planes)} planes; "
            "expected a body of capsules over a floor plane"
        )
    return model, data, cam, geoms, planes[0]


def _checker_period(model: Any, plane: int) -> float:
    """A checker texture's period along x: two squares per repeat of the texture."""
    mat = int(model.geom_matid[plane])
    if mat < 0:
        raise ConfigError("the target floor has no material; pass floor_period")
    repeat = float(model.mat_texrepeat[mat][0])
    if repeat <= 0:
        raise ConfigError("the target floor's texrepeat is 0; pass floor_period")
    if model.mat_texuniform[mat]:
        return 1.0 / repeat
    return 2 * float(model.geom_size[plane][0]) / repeat


def look_camera(
    env_id: str, qpos: np.ndarray, size: int, period: float = 0.0, **env_kwargs: Any
) -> LookCamera:
    """From one look's own model, its camera's fixed frame and floor and, for each recorded
    state, the camera's x offset and height and the capsules' 3-D ends."""
    import mujoco

    from style_wrap.making import default_kwargs, make_env

    env = make_env(env_id, **(env_kwargs or default_kwargs(env_id, size)))
    try:
        model, data, cam, geoms, plane = _mujoco_parts(env, env_id)
        cam_x = np.empty(len(qpos), np.float32)
        cam_z = np.empty(len(qpos), np.float32)
        ends = np.empty((len(qpos), len(geoms), 2, 3), np.float32)
        half_length = model.geom_size[geoms][:, 1]
        for i, q in enumerate(qpos):
            data.qpos[:] = q
            mujoco.mj_forward(model, data)
            cam_x[i] = data.cam_xpos[cam][0] - q[0]
            cam_z[i] = data.cam_xpos[cam][2]
            axis = data.geom_xmat[geoms].reshape(-1, 3, 3)[:, :, 2] * half_length[:, None]
            centre = data.geom_xpos[geoms]
            ends[i, :, 0], ends[i, :, 1] = centre - axis, centre + axis
            ends[i, :, :, 0] -= q[0]
        fovy = float(model.cam_fovy[cam])
        return LookCamera(
            axes=data.cam_xmat[cam].reshape(3, 3).astype(np.float32).copy(),
            cam_y=float(data.cam_xpos[cam][1]),
            focal=float((size / 2) / np.tan(np.deg2rad(fovy) / 2)),
            extent=float(model.geom_size[plane][0]),
            period=period or _checker_period(model, plane),
            cam_x=cam_x,
            cam_z=cam_z,
            ends=ends,
        )
    finally:
        env.close()


def _load_look(folders: tuple[str, ...], role: str, size: int | None, pairs: bool) -> FrameData:
    """One look's folders, checked for what the fit reads, as one :class:`FrameData`."""
    parts = []
    for folder in folders:
        if not Path(folder).is_dir():
            raise DataError(f"fit-pose {role} folder {folder!r} does not exist")
        data = load_frames(folder)
        if data.qpos is None:
            raise DataError(
                f"{folder}: no physics states recorded; expected frames collected by `style-wrap "
                "collect` from a MuJoCo env"
            )
        if data.qpos.shape[1] != POSE_SIZE:
            raise DataError(
                f"{folder}: qpos has {data.qpos.shape[1]} entries; expected {POSE_SIZE} (a planar "
                "walker: root x, height, pitch and six joints)"
            )
        side = size or data.frames.shape[1]
        if data.frames.shape[1:] != (side, side, 3) or side % 16:
            same = f", {side} as in the folders before it" if size else ""
            raise DataError(
                f"{folder}: frames of {data.frames.shape[1:]}; expected square RGB frames of a "
                f"side that is a multiple of 16{same} (collect with --env-kwarg width=N "
                "--env-kwarg height=N)"
            )
        size = side
        if pairs and (data.steps is None or (data.steps < 0).any()):
            raise DataError(
                f"{folder}: frames without their steps; the encoder reads consecutive frames "
                "(collect them again with `style-wrap collect`)"
            )
        parts.append(data)
    if pairs and not any((p.steps[1:] == p.steps[:-1] + 1).any() for p in parts):
        raise DataError(
            f"fit-pose {role} folders {list(folders)} hold no consecutive frames; expected "
            "episodes collected with --every 1"
        )
    cat = np.concatenate
    return FrameData(
        cat([p.frames for p in parts]),
        cat([p.qpos for p in parts]),
        None,
        parts[0].manifest,
        cat([p.steps for p in parts]) if pairs else None,
    )


def _to_model(frames: np.ndarray, device: torch.device) -> torch.Tensor:
    x = torch.from_numpy(frames).to(device).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1


def _one_cycle(step: int, total: int, peak: float) -> float:
    """The learning rate at ``step`` of ``total``: a cosine rise over the first 30 % from
    ``peak / 25``, then a cosine fall to ``peak / 25e4`` (torch's OneCycleLR's defaults)."""
    start, end, rise = peak / 25, peak / 25e4, max(1, int(0.3 * total))
    if step < rise:
        return start + (peak - start) * (1 - math.cos(math.pi * step / rise)) / 2
    t = (step - rise) / max(1, total - rise)
    return end + (peak - end) * (1 + math.cos(math.pi * min(t, 1.0))) / 2


def _encoder_pairs(steps: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(earlier, later) frame indices: consecutive steps, and each episode's first frame twice."""
    i = np.arange(1, len(steps))
    after = i[steps[1:] == steps[:-1] + 1]
    starts = np.flatnonzero(steps == 0)
    return torch.from_numpy(np.concatenate([after - 1, starts])), torch.from_numpy(
        np.concatenate([after, starts])
    )


class _Fit:
    """The state of one fit-pose run: both networks, the phase, its optimizer and step."""

    def __init__(self, config: PoseFitConfig, out: Path, n_geoms: int, size: int, lock_geoms: int):
        self.config, self.out = config, out
        self.device = resolve_device(config.device)
        self.net_config = PoseConfig(
            n_geoms=n_geoms,
            encoder_width=config.encoder_width,
            renderer_width=config.renderer_width,
            harmonics=config.harmonics,
            size=size,
            lock_geoms=lock_geoms,
        )
        torch.manual_seed(config.seed)
        self.net: PoseNet = self.net_config.build().to(self.device)
        self.phase, self.step, self.fresh = "encoder", 0, True
        self.optimizer: torch.optim.Optimizer | None = None
        self.generator = torch.Generator().manual_seed(config.seed)

    def module(self, phase: str) -> torch.nn.Module:
        net = self.net
        module = {"encoder": net.encoder, "renderer": net.renderer, "lock": net.lock}[phase]
        assert module is not None
        return module

    def start_phase(self, phase: str) -> None:
        self.phase, self.step = phase, 0
        self.optimizer = torch.optim.Adam(self.module(phase).parameters(), lr=0.0)

    def save(self) -> None:
        state = {
            "format": "style_wrap.fit_pose",
            "config": self.config.to_dict(),
            "n_geoms": self.net_config.n_geoms,
            "phase": self.phase,
            "step": self.step,
            "net": self.net.state_dict(),
            "optimizer": None if self.optimizer is None else self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
        }
        with atomic_path(self.out / CHECKPOINT, suffix=".pt") as tmp:
            torch.save(state, tmp)

    def restore(self, path: Path) -> None:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(state, dict) or state.get("format") != "style_wrap.fit_pose":
                raise ValueError("not a checkpoint of `style-wrap fit-pose`")
            self.net.load_state_dict(state["net"])
            if state["phase"] in PHASES:
                self.start_phase(state["phase"])
            self.phase, self.step = state["phase"], int(state["step"])
            if self.optimizer is not None and state["optimizer"] is not None:
                self.optimizer.load_state_dict(state["optimizer"])
            self.generator.set_state(state["generator"])
        except Exception as err:  # noqa: BLE001  (torch raises many types for a damaged file)
            first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
            raise CheckpointError(
                f"{path}: cannot resume from it ({type(err).__name__}: {first}); expected a "
                f"checkpoint of `style-wrap fit-pose` (delete {path} to start the run again)"
            ) from None
        self.fresh = False

    def batch(self, n: int, pool: torch.Tensor) -> torch.Tensor:
        return pool[torch.randint(len(pool), (n,), generator=self.generator)]


def _log(out: Path, record: dict[str, Any]) -> None:
    with open(out / "log.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")


def _check_run_folder(config: PoseFitConfig, out: Path) -> bool:
    """True when ``out`` holds a run of this config to resume; a run of another config is an
    error that names the differing settings (nothing is overwritten)."""
    saved = out / "config.json"
    if not saved.is_file():
        if out.is_dir() and any(out.iterdir()):
            raise ConfigError(
                f"fit-pose out folder {str(out)!r} holds files but no config.json; expected a "
                "new or empty folder, or an earlier fit-pose run to resume"
            )
        return False
    try:
        before = json.loads(saved.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{saved}: unreadable ({err}); expected fit-pose's config") from None
    now = config.to_dict()
    # A setting newer than the run's config.json counts as its default there.
    defaults = PoseFitConfig(source=config.source, target=config.target).to_dict()
    before = {**{k: v for k, v in defaults.items() if k not in before}, **before}
    differ = [k for k in now if k != "device" and before.get(k) != now[k]]
    if differ:
        shown = ", ".join(f"{k} = {before.get(k)!r} there, {now[k]!r} now" for k in differ[:4])
        raise ConfigError(
            f"fit-pose out folder {str(out)!r} holds a run of other settings ({shown}); expected "
            "the same settings to resume it, or a new out folder"
        )
    return True


def fit_pose(config: PoseFitConfig, out: str | Path, progress: bool = True) -> Path:
    """Fit (or resume fitting) a pose translator into the run folder ``out``; return the path of
    its ``translator.safetensors``. Every input is checked before the first step."""
    from style_wrap.weights import GeneratorSpec, load_generator, save_generator

    out = Path(out)
    resume = _check_run_folder(config, out)
    source = _load_look(config.source, "source", None, pairs=config.encoder_steps > 0)
    size = source.frames.shape[1]
    target = _load_look(config.target, "target", size, pairs=False)
    camera = look_camera(config.target_env, target.qpos, size, config.floor_period)
    init = None
    if config.init:
        init, _ = load_generator(config.init)
        if not isinstance(init, PoseNet):
            raise ConfigError(f"fit-pose init {config.init!r} is not a pose translator")
        if init.config.n_geoms != camera.ends.shape[1]:
            raise ConfigError(
                f"fit-pose init {config.init!r} draws {init.config.n_geoms} capsules; the target "
                f"env {config.target_env!r} has {camera.ends.shape[1]}"
            )
        widths = (init.config.encoder_width, init.config.renderer_width, init.config.harmonics)
        if widths != (config.encoder_width, config.renderer_width, config.harmonics):
            raise ConfigError(
                f"fit-pose init {config.init!r} is {init.config}; expected the widths and "
                "harmonics given (encoder_width, renderer_width, harmonics)"
            )
    source_camera, lock_geoms = None, 0
    if config.lock_steps:
        source_camera = look_camera(config.source_env, source.qpos, size)
        lock_geoms = source_camera.ends.shape[1]
        kept = 0 if init is None else init.config.lock_geoms
        if kept and kept != lock_geoms:
            raise ConfigError(
                f"fit-pose init {config.init!r} locks with {kept} capsules; the source env "
                f"{config.source_env!r} has {lock_geoms}"
            )
    elif init is not None:
        lock_geoms = init.config.lock_geoms
    run = _Fit(config, out, camera.ends.shape[1], size, lock_geoms)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(f".{CHECKPOINT}.*"):  # a write that a kill interrupted
        stale.unlink()
    if resume and (out / CHECKPOINT).is_file():
        run.restore(out / CHECKPOINT)
    else:
        atomic_write_bytes(out / "config.json", json.dumps(config.to_dict(), indent=1).encode())
        warm = init is not None
        if warm:  # a warm start keeps its statistics, so its heads keep their meaning
            missing, _ = run.net.load_state_dict(init.state_dict(), strict=False)
            assert all(k.startswith("lock.") for k in missing), missing
        else:
            _normalise_encoder(run.net.encoder, source)
        _set_look(run.net.renderer, target, camera, fresh=not warm)
        if source_camera is not None:
            _set_look(run.net.lock, source, source_camera, fresh=not (warm and init.lock))
        first = [p for p in PHASES if _steps(config, p)]
        if first:
            run.start_phase(first[0])
        else:
            run.phase = "done"
    while run.phase in PHASES:
        if run.phase == "encoder":
            _fit_encoder(run, source, progress)
        elif run.phase == "renderer":
            _fit_renderer(run, target, camera, progress)
        elif source_camera is not None:
            _fit_renderer(run, source, source_camera, progress)
        later = [p for p in PHASES[PHASES.index(run.phase) + 1 :] if _steps(config, p)]
        if later:
            run.start_phase(later[0])
        else:
            run.phase = "done"
        run.save()
    extra = {
        "env_from": str(source.manifest.get("env_id", "")),
        "env_to": config.target_env,
        "source": ",".join(config.source),
        "target": ",".join(config.target),
        "init": config.init,
        "policy_in_loss": "none",
    }
    spec = GeneratorSpec(
        run.net_config,
        size,
        size,
        source.name,
        target.name,
        config.encoder_steps + config.renderer_steps + config.lock_steps,
        extra,
    )
    path = out / TRANSLATOR
    dtype = torch.float16 if config.dtype == "float16" else torch.float32
    save_generator(path, run.net.cpu().eval(), spec, dtype=dtype)
    return path


def _steps(config: PoseFitConfig, phase: str) -> int:
    return {
        "encoder": config.encoder_steps,
        "renderer": config.renderer_steps,
        "lock": config.lock_steps,
    }[phase]


@torch.no_grad()
def _normalise_encoder(enc: torch.nn.Module, source: FrameData) -> None:
    """Standardise the encoder's targets (pose and step) on the source look's data."""
    before, after = _encoder_pairs(source.steps)
    y = _encoder_targets(source.qpos, before, after)
    enc.mean.copy_(y.mean(0))
    enc.std.copy_(y.std(0).clamp_min(1e-3))


@torch.no_grad()
def _set_look(ren: Any, data: FrameData, camera: LookCamera, fresh: bool) -> None:
    """Give a renderer its look's camera and floor and, when ``fresh``, standardise its pose
    input and geometry targets on that look's data."""
    ren.set_camera(
        torch.from_numpy(camera.axes), camera.cam_y, camera.focal, camera.extent, camera.period
    )
    if not fresh:
        return
    pose = torch.from_numpy(pose_vector(data.qpos))
    geometry = _geometry_targets(camera)
    ren.mean.copy_(pose.mean(0))
    ren.std.copy_(pose.std(0).clamp_min(1e-3))
    ren.kp_mean.copy_(geometry.mean(0))
    ren.kp_std.copy_(geometry.std(0).clamp_min(1e-3))


def _encoder_targets(qpos: np.ndarray, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    step = torch.from_numpy((qpos[after, 0] - qpos[before, 0]).astype(np.float32))
    return torch.cat([torch.from_numpy(pose_vector(qpos))[after], step[:, None]], 1)


def _geometry_targets(camera: LookCamera) -> torch.Tensor:
    cam_x, cam_z = torch.from_numpy(camera.cam_x), torch.from_numpy(camera.cam_z)
    return torch.cat([cam_x[:, None], cam_z[:, None], torch.from_numpy(camera.ends).flatten(1)], 1)


def _split(n: int, every: int) -> tuple[torch.Tensor, torch.Tensor]:
    held = torch.arange(n) % every == 0
    return torch.nonzero(~held).flatten(), torch.nonzero(held).flatten()


def _bar(total: int, start: int, label: str, progress: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=start, desc=label, disable=not progress, mininterval=10)


def _fit_encoder(run: _Fit, source: FrameData, progress: bool) -> None:
    config, enc, dev = run.config, run.net.encoder, run.device
    before, after = _encoder_pairs(source.steps)
    y = _encoder_targets(source.qpos, before, after).to(dev)
    train_i, held_i = _split(len(y), config.held_out_every)
    held_i = held_i[:2000]
    frames = source.frames
    enc.train()
    t0 = time.time()
    with _bar(config.encoder_steps, run.step, "fit-pose encoder", progress) as bar:
        while run.step < config.encoder_steps:
            for group in run.optimizer.param_groups:
                group["lr"] = _one_cycle(run.step, config.encoder_steps, config.encoder_lr)
            i = run.batch(config.encoder_batch, train_i)
            x0 = _to_model(frames[before[i].numpy()], dev)
            x1 = _to_model(frames[after[i].numpy()], dev)
            loss = (((enc(x0, x1) - y[i.to(dev)]) / enc.std) ** 2).mean()
            run.optimizer.zero_grad()
            loss.backward()
            run.optimizer.step()
            run.step += 1
            bar.update(1)
            if run.step % config.checkpoint_every == 0 or run.step == config.encoder_steps:
                with torch.no_grad():
                    enc.eval()
                    err = torch.cat(
                        [
                            (
                                enc(
                                    _to_model(frames[before[j].numpy()], dev),
                                    _to_model(frames[after[j].numpy()], dev),
                                )
                                - y[j.to(dev)]
                            ).abs()
                            for j in held_i.split(256)
                        ]
                    ).mean(0)
                    enc.train()
                _log(
                    run.out,
                    {
                        "phase": "encoder",
                        "step": run.step,
                        "loss": loss.item(),
                        "held_out_joint_error_rad": float(err[3:POSE_SIZE].mean()),
                        "held_out_height_error_m": float(err[0]),
                        "held_out_step_error_m": float(err[POSE_SIZE]),
                        "seconds": round(time.time() - t0, 1),
                    },
                )
                run.save()
    enc.eval()


def _fit_renderer(run: _Fit, data: FrameData, camera: LookCamera, progress: bool) -> None:
    """The phase's renderer (the target look's, or the lock's of the source look) on its look's
    frames: the painter from the true geometry, the pose's geometry from the look's model."""
    config, ren, dev = run.config, run.module(run.phase), run.device
    steps = _steps(config, run.phase)
    pose = torch.from_numpy(pose_vector(data.qpos)).to(dev)
    geometry = _geometry_targets(camera).to(dev)
    ends = torch.from_numpy(camera.ends).to(dev)
    cam_x, cam_z = torch.from_numpy(camera.cam_x).to(dev), torch.from_numpy(camera.cam_z).to(dev)
    root = torch.from_numpy(data.qpos[:, 0].astype(np.float32)).to(dev)
    train_i, held_i = _split(len(pose), config.held_out_every)
    held_i = held_i[:200]
    ren.train()
    t0 = time.time()
    with _bar(steps, run.step, f"fit-pose {run.phase}", progress) as bar:
        while run.step < steps:
            for group in run.optimizer.param_groups:
                group["lr"] = _one_cycle(run.step, steps, config.renderer_lr)
            i = run.batch(config.renderer_batch, train_i).to(dev)
            x = _to_model(data.frames[i.cpu().numpy()], dev)
            # The painter learns from the true geometry, the pose's geometry from the model's.
            drawn = ren.draw(ends[i], root[i], cam_x[i], cam_z[i])
            near = segment_maps(ren.project(ends[i], cam_x[i], cam_z[i]), ren.size, 2.5)
            weight = 1 + config.body_weight * near.amax(1, keepdim=True)
            loss = ((drawn - x).abs() * weight).mean() / weight.mean()
            got = ren.kp((pose[i] - ren.mean) / ren.std)
            loss = loss + ((got - (geometry[i] - ren.kp_mean) / ren.kp_std) ** 2).mean()
            run.optimizer.zero_grad()
            loss.backward()
            run.optimizer.step()
            run.step += 1
            bar.update(1)
            if run.step % config.checkpoint_every == 0 or run.step == steps:
                _log(
                    run.out,
                    {
                        **_renderer_scores(run, data, camera, held_i),
                        "loss": loss.item(),
                        "seconds": round(time.time() - t0, 1),
                    },
                )
                run.save()
    ren.eval()


@torch.no_grad()
def _renderer_scores(
    run: _Fit, target: FrameData, camera: LookCamera, held_i: torch.Tensor
) -> dict[str, Any]:
    """The phase's renderer on held-out frames from their true poses: whole-frame and body
    PSNR."""
    ren, dev = run.module(run.phase), run.device
    j = held_i.to(dev)
    ren.eval()
    pose = torch.from_numpy(pose_vector(target.qpos[held_i.numpy()])).to(dev)
    root = torch.from_numpy(target.qpos[held_i.numpy(), 0].astype(np.float32)).to(dev)
    x = _to_model(target.frames[held_i.numpy()], dev)
    y = ren(pose, root)
    ends = torch.from_numpy(camera.ends).to(dev)[j]
    px = ren.project(
        ends, torch.from_numpy(camera.cam_x).to(dev)[j], torch.from_numpy(camera.cam_z).to(dev)[j]
    )
    mask = segment_maps(px, ren.size, 2.5).amax(1, keepdim=True) > 0.1
    mse = float(((y - x) ** 2).mean() / 4)
    body = float((((y - x) ** 2) * mask).sum() / (mask.sum() * 3).clamp_min(1) / 4)
    ren.train()
    return {
        "phase": run.phase,
        "step": run.step,
        "held_out_psnr_db": -10 * math.log10(max(mse, 1e-10)),
        "held_out_body_psnr_db": -10 * math.log10(max(body, 1e-10)),
    }
