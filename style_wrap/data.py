"""Frame datasets: collect unpaired frames of one domain into shards, and read them back.

A dataset folder holds ``manifest.json`` and ``shard-NNNNN.npz`` files. Each shard has
``frames`` (uint8, ``(n, H, W, 3)``), ``steps`` (each frame's step within its episode, so runs of
consecutive frames can be stacked as a pixel policy sees them) and, for MuJoCo envs, the physics
state of each frame (``qpos``, ``qvel``). A shard is written to a temporary name and renamed, and
only then listed in the manifest (itself replaced atomically), so an interrupted collection never
leaves a shard that a reader would take. Collecting again into the same folder appends.

Example:
    >>> import tempfile
    >>> import style_wrap
    >>> from style_wrap.data import collect, load_frames
    >>> folder = tempfile.mkdtemp()
    >>> _ = collect("StyleWrap/HalfCheetah-v5", 6, folder, env_kwargs={"width": 32, "height": 32},
    ...             progress=False)
    >>> data = load_frames(folder)
    >>> data.frames.shape, data.qpos.shape
    ((6, 32, 32, 3), (6, 9))
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from style_wrap.errors import DataError
from style_wrap.io import atomic_path, atomic_write_bytes
from style_wrap.spaces import image_key, image_space

__all__ = [
    "FrameData",
    "collect",
    "save_frames",
    "load_frames",
    "read_manifest",
    "MANIFEST",
]

MANIFEST = "manifest.json"
FORMAT = "style_wrap.frames"


@dataclass(frozen=True)
class FrameData:
    """Frames of one domain, with their physics state when the env recorded it."""

    frames: np.ndarray
    qpos: np.ndarray | None
    qvel: np.ndarray | None
    manifest: dict[str, Any]
    steps: np.ndarray | None = None
    """Each frame's step in its episode (int64), ``-1`` where unknown (frames saved as they are,
    or collected before steps were recorded, or with ``every > 1``)."""

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def name(self) -> str:
        """The domain's name: the manifest's ``name``, else its env id."""
        return str(self.manifest.get("name") or self.manifest.get("env_id", "domain"))

    def stack_ends(self, n: int) -> np.ndarray:
        """Indices ``i`` whose frames ``i-n+1 .. i`` are ``n`` consecutive steps of one episode.

        Example:
            >>> import numpy as np
            >>> data = FrameData(np.zeros((6, 2, 2, 3), np.uint8), None, None, {},
            ...                  steps=np.array([0, 1, 2, 3, 0, 1]))
            >>> data.stack_ends(3).tolist(), data.stack_ends(2).tolist()
            ([2, 3], [1, 2, 3, 5])
        """
        if self.steps is None or n < 1:
            return np.zeros(0, np.int64)
        steps = np.asarray(self.steps)
        ok = steps >= n - 1
        for k in range(1, n):
            ok[k:] &= steps[k:] - steps[:-k] == k
            ok[:k] = False
        return np.flatnonzero(ok)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a dataset folder; :class:`DataError` if it is missing or unreadable."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise DataError(f"{folder}: no {MANIFEST}; expected a folder made by `style-wrap collect`")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: unreadable manifest ({err})") from None
    if manifest.get("format") != FORMAT:
        raise DataError(f"{path}: format {manifest.get('format')!r}; expected {FORMAT!r}")
    return manifest


class _Actor:
    """Chooses actions while collecting.

    ``"random"`` samples the action space; an SB3 ``.zip`` reading images acts from stacked
    frames; a folder holding ``expert.zip`` and ``vecnormalize.pkl`` (a state expert made by
    :func:`style_wrap.policy.train_expert`) acts from the MuJoCo state, sampling its actions so
    that the frames cover the expert's gait with some variety. With ``translator``, a pixel policy
    sees each frame through that generator (its own closed loop across domains) while the stored
    frames stay as the env drew them. With ``deterministic`` both kinds of policy take their mean
    action instead of a sample (the closed loop as the policy is evaluated).
    """

    def __init__(
        self,
        policy: str,
        env: gym.Env,
        key: str | None,
        translator: str | None = None,
        deterministic: bool = False,
    ):
        self.env, self.key, self.model, self.expert = env, key, None, None
        self.deterministic = deterministic
        if deterministic and policy == "random":
            raise DataError("deterministic=True with policy 'random'; expected a policy to act")
        self.translator = None
        if translator is not None and (policy == "random" or Path(policy).is_dir()):
            raise DataError(
                f"translator {translator!r} with policy {policy!r}: expected a pixel policy "
                "(.zip), the only actor that reads frames"
            )
        if policy == "random":
            return
        from style_wrap.policy import FrameStacker, StateExpert, frames_stacked, load_policy

        if Path(policy).is_dir():
            if not hasattr(getattr(env.unwrapped, "data", None), "qpos"):
                raise DataError(f"state expert {policy!r} needs a MuJoCo env; {env} has no state")
            self.expert = StateExpert(policy)
            return
        from style_wrap.demo import resolve_policy

        self.model = load_policy(resolve_policy(policy))  # a path, or a shipped policy's name
        frame = image_space(env.observation_space).shape
        self.stacker = FrameStacker(frames_stacked(self.model, frame[-1]), frame)
        if translator is not None:
            from style_wrap.translator import Translator

            self.translator = Translator(translator, device="cpu")
            self.translator.check_frame_shape(tuple(frame), "the env's frames")

    def _image(self, obs: Any) -> np.ndarray:
        image = obs if self.key is None else obs[self.key]
        return image if self.translator is None else self.translator(image[None])[0]

    def reset(self, obs: Any) -> None:
        if self.model is not None:
            self.stack = self.stacker.reset(self._image(obs))

    def observe(self, obs: Any) -> None:
        if self.model is not None:
            self.stack = self.stacker.push(self._image(obs))

    def act(self) -> np.ndarray:
        if self.expert is not None:
            data = self.env.unwrapped.data
            return self.expert.act(data.qpos, data.qvel, deterministic=self.deterministic)
        if self.model is None:
            return self.env.action_space.sample()
        action, _ = self.model.predict(self.stack, deterministic=self.deterministic)
        return action


def collect(
    env_id: str,
    frames: int,
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    policy: str = "random",
    env_kwargs: Mapping[str, Any] | None = None,
    every: int = 1,
    shard_size: int = 1000,
    name: str | None = None,
    progress: bool = True,
    translator: str | None = None,
    flip_reset: bool = False,
    deterministic: bool = False,
) -> dict[str, Any]:
    """Roll out ``env_id`` and store ``frames`` observations (every ``every``-th step) in ``out``.

    Args:
        env_id: Any gymnasium id whose observation is an HWC uint8 image or a dict with
            ``"pixels"``.
        frames: How many frames to add.
        out: The dataset folder (created, or appended to).
        seed: Seeds the env resets and the action sampling.
        policy: ``"random"``, a stable-baselines3 pixel policy file (or a shipped one's file
            name), or a state-expert folder
            (``expert.zip`` + ``vecnormalize.pkl``, see :func:`style_wrap.policy.train_expert`).
        env_kwargs: Keyword arguments for ``gym.make``.
        every: Keep one frame every ``every`` steps (consecutive frames are near duplicates).
        shard_size: Frames per shard file.
        name: The domain's name in the manifest (default: the env id).
        progress: Show a progress bar.
        translator: A generator file (or shipped name) through which a pixel ``policy`` sees the
            frames: collect along that policy's closed loop in this domain, e.g. the states a
            translator still gets wrong, for the policy-consistency loss of ``style-wrap train``.
        flip_reset: End an episode once the cheetah is upside down (``cos(qpos[2]) < 0``, the
            root's pitch in the cheetah envs), as ``style-wrap distill --flip-reset`` does: a
            policy on its back only yields frames of a state it must never reach.
        deterministic: The policy acts with its mean action instead of sampling one. Sampling
            (the default) varies the frames; a pixel policy distilled by behaviour cloning never
            learnt its action noise, so its sampled loop stumbles where its evaluated loop runs.
            With ``policy="random"`` it is an error (nothing to take the mean of).

    Returns:
        The manifest after this collection.
    """
    for label, value in (("frames", frames), ("every", every), ("shard_size", shard_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DataError(f"{label} = {value!r}; expected a positive integer")
    out = Path(out)
    env_kwargs = dict(env_kwargs or {})
    env = gym.make(env_id, **env_kwargs)
    try:
        key = image_key(env.observation_space)
        shape = list(image_space(env.observation_space).shape)
        manifest = _open_manifest(out, env_id, env_kwargs, shape, name)
        actor = _Actor(policy, env, key, translator, deterministic)
        rng = np.random.default_rng([seed, len(manifest["shards"])])
        env.action_space.seed(int(rng.integers(2**31)))
        physics = getattr(env.unwrapped, "data", None)
        has_state = physics is not None and hasattr(physics, "qpos")
        if manifest["shards"] and manifest["has_state"] != has_state:
            raise DataError(
                f"{out}: existing shards have_state={manifest['has_state']}, new ones "
                f"would have {has_state}; expected the same env"
            )
        manifest["has_state"] = has_state
        if flip_reset and not has_state:
            raise DataError(
                f"flip_reset needs a MuJoCo env with a pitch in qpos; {env_id} has none"
            )

        from tqdm.auto import tqdm

        bar = tqdm(total=frames, desc=f"collect {env_id}", unit="frame", disable=not progress)
        buffer: dict[str, list[np.ndarray]] = {"frames": [], "qpos": [], "qvel": [], "steps": []}
        obs, _ = env.reset(seed=int(rng.integers(2**31)))
        actor.reset(obs)
        added, step, episode_step = 0, 0, 0
        while added < frames:
            if step % every == 0:
                buffer["frames"].append(np.asarray(obs if key is None else obs[key]))
                buffer["steps"].append(np.int64(episode_step if every == 1 else -1))
                if has_state:
                    buffer["qpos"].append(physics.qpos.copy())
                    buffer["qvel"].append(physics.qvel.copy())
                added += 1
                bar.update(1)
                if len(buffer["frames"]) == shard_size or added == frames:
                    _write_shard(out, manifest, buffer, seed)
                    buffer = {k: [] for k in buffer}
            obs, _, terminated, truncated, _ = env.step(actor.act())
            actor.observe(obs)
            step += 1
            episode_step += 1
            flipped = flip_reset and np.cos(physics.qpos[2]) < 0
            if terminated or truncated or flipped:
                obs, _ = env.reset(seed=int(rng.integers(2**31)))
                actor.reset(obs)
                episode_step = 0
        bar.close()
        return manifest
    finally:
        env.close()


def _open_manifest(
    out: Path, env_id: str, env_kwargs: dict[str, Any], shape: list[int], name: str | None
) -> dict[str, Any]:
    if (out / MANIFEST).exists():
        manifest = read_manifest(out)
        if manifest["frame_shape"] != shape:
            raise DataError(
                f"{out}: holds frames of shape {manifest['frame_shape']}; new frames have {shape}. "
                "Expected the same frame size in one dataset folder"
            )
        return manifest
    if out.exists() and any(out.iterdir()):
        raise DataError(
            f"{out}: exists, is not empty and has no {MANIFEST}; expected a new "
            "folder or a dataset folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    return {
        "format": FORMAT,
        "version": 1,
        "name": name or env_id,
        "env_id": env_id,
        "env_kwargs": _jsonable(env_kwargs),
        "frame_shape": shape,
        "has_state": False,
        "shards": [],
    }


def _jsonable(kwargs: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(kwargs, default=repr))


def _write_shard(
    out: Path, manifest: dict[str, Any], buffer: dict[str, list[np.ndarray]], seed: int
) -> None:
    index = len(manifest["shards"])
    file = f"shard-{index:05d}.npz"
    arrays = {"frames": np.stack(buffer["frames"]).astype(np.uint8)}
    if buffer["qpos"]:
        arrays["qpos"] = np.stack(buffer["qpos"])
        arrays["qvel"] = np.stack(buffer["qvel"])
    if buffer.get("steps"):
        arrays["steps"] = np.asarray(buffer["steps"], np.int64)
    with atomic_path(out / file, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    manifest["shards"].append({"file": file, "frames": len(arrays["frames"]), "seed": seed})
    atomic_write_bytes(out / MANIFEST, json.dumps(manifest, indent=1).encode())


def save_frames(
    out: str | os.PathLike[str],
    frames: np.ndarray,
    *,
    name: str,
    qpos: np.ndarray | None = None,
    qvel: np.ndarray | None = None,
    shard_size: int = 1000,
) -> dict[str, Any]:
    """Store frames you already have (uint8, ``(n, H, W, 3)``) as a dataset folder, appending.

    Example:
        >>> import tempfile, numpy as np
        >>> folder = tempfile.mkdtemp()
        >>> _ = save_frames(folder, np.zeros((5, 8, 8, 3), np.uint8), name="black")
        >>> load_frames(folder).name, len(load_frames(folder))
        ('black', 5)
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or not len(frames):
        raise DataError(
            f"frames of dtype {frames.dtype} and shape {frames.shape}; expected "
            "uint8 (n, H, W, 3) with n >= 1"
        )
    if (qpos is None) != (qvel is None):
        raise DataError("qpos and qvel: expected both or neither")
    out = Path(out)
    manifest = _open_manifest(out, "", {}, list(frames.shape[1:]), name)
    has_state = qpos is not None
    if manifest["shards"] and manifest["has_state"] != has_state:
        raise DataError(
            f"{out}: existing shards have_state={manifest['has_state']}; expected the same"
        )
    manifest["has_state"] = has_state
    for start in range(0, len(frames), shard_size):
        part = slice(start, start + shard_size)
        _write_shard(
            out,
            manifest,
            {
                "frames": list(frames[part]),
                "qpos": [] if qpos is None else list(np.asarray(qpos)[part]),
                "qvel": [] if qvel is None else list(np.asarray(qvel)[part]),
            },
            seed=-1,
        )
    return manifest


def load_frames(folder: str | os.PathLike[str]) -> FrameData:
    """Read a dataset folder into memory, checking every shard against the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not manifest["shards"]:
        raise DataError(f"{folder}: the manifest lists no shards; expected at least one frame")
    shape = tuple(manifest["frame_shape"])
    parts: dict[str, list[np.ndarray]] = {"frames": [], "qpos": [], "qvel": [], "steps": []}
    for shard in manifest["shards"]:
        path = folder / shard["file"]
        try:
            with np.load(path) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            raise DataError(f"{path}: corrupt or missing shard ({err})") from None
        frames = arrays.get("frames")
        if frames is None or frames.dtype != np.uint8 or frames.shape[1:] != shape:
            got = None if frames is None else (frames.dtype, frames.shape[1:])
            raise DataError(f"{path}: frames {got}; expected uint8 frames of shape {shape}")
        if len(frames) != shard["frames"]:
            raise DataError(f"{path}: {len(frames)} frames; the manifest says {shard['frames']}")
        parts["frames"].append(frames)
        steps = arrays.get("steps")
        if steps is None or steps.shape != (len(frames),):
            steps = np.full(len(frames), -1, np.int64)  # unknown: never part of a stack
        parts["steps"].append(steps.astype(np.int64))
        if manifest["has_state"]:
            parts["qpos"].append(arrays["qpos"])
            parts["qvel"].append(arrays["qvel"])
    state = manifest["has_state"]
    return FrameData(
        np.concatenate(parts["frames"]),
        np.concatenate(parts["qpos"]) if state else None,
        np.concatenate(parts["qvel"]) if state else None,
        manifest,
        np.concatenate(parts["steps"]),
    )
