"""Collect unpaired frames of one domain from any gymnasium pixel env into a dataset folder.

The actor (chance, a state expert, or a pixel policy, maybe seeing its frames through a
translator) comes from :func:`style_wrap.rl.actors.make_actor`; the folder's format is
:mod:`style_wrap.train.data`'s.

Example:
    >>> import tempfile
    >>> import style_wrap
    >>> from style_wrap.train.data import load_frames
    >>> folder = tempfile.mkdtemp()
    >>> _ = collect("StyleWrap/HalfCheetah-v5", 6, folder, env_kwargs={"width": 32, "height": 32},
    ...             progress=False)
    >>> data = load_frames(folder)
    >>> data.frames.shape, data.qpos.shape
    ((6, 32, 32, 3), (6, 9))
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from style_wrap.envs import is_upside_down
from style_wrap.errors import DataError
from style_wrap.making import make_env
from style_wrap.rl.actors import make_actor
from style_wrap.settings import check_at_least
from style_wrap.spaces import image_key, image_space
from style_wrap.train.data import open_manifest, write_shard

__all__ = ["collect"]


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
    total: bool = False,
    pixels: int | None = None,
    skip_steps: int = 0,
    max_episode_steps: int | None = None,
) -> dict[str, Any]:
    """Roll out ``env_id`` and store ``frames`` observations (every ``every``-th step) in ``out``.

    Args:
        env_id: Any gymnasium id, or an env factory ``"module:function"`` /
            ``"file.py:function"`` (see :func:`style_wrap.making.make_env`), whose observation
            is an HWC uint8 image or a dict with ``"pixels"`` (or any env, with ``pixels``).
        frames: How many frames to add (with ``total``: how many the folder should hold).
        out: The dataset folder (created, or appended to).
        seed: Seeds the env resets and the action sampling.
        policy: ``"random"``, an SB3 pixel policy (a file or a shipped name), or a state-expert
            folder (see :func:`style_wrap.rl.actors.make_actor`).
        env_kwargs: Keyword arguments for ``gym.make``.
        every: Keep one frame every ``every`` steps (consecutive frames are near duplicates).
        shard_size: Frames per shard file.
        name: The domain's name in the manifest (default: the env id).
        progress: Show a progress bar.
        translator: A generator (file or shipped name) a pixel ``policy`` sees the frames
            through: its closed loop in this domain (the states a translator gets wrong).
        flip_reset: End an episode once the cheetah is upside down (a policy on its back only
            yields frames of a state it must never reach).
        deterministic: The policy takes its mean action instead of a sample (the loop it is
            evaluated in; a behaviour-cloned student's sampled loop stumbles). An error with
            ``policy="random"``.
        total: ``frames`` is the folder's total: only what is missing is added, so rerunning an
            interrupted collection with the same command completes it.
        pixels: Record the env's rendered frames resized to ``pixels x pixels`` (for an env
            whose observations are states).
        skip_steps: Record nothing in the first ``skip_steps`` steps of every episode (an
            opening camera zoom, a countdown).
        max_episode_steps: Cut every episode at this many steps (gymnasium's ``TimeLimit``).

    Returns:
        The manifest after this collection.
    """
    check_at_least({"frames": frames, "every": every, "shard_size": shard_size}, 1, DataError)
    check_at_least({"skip_steps": skip_steps}, 0, DataError)
    if max_episode_steps is not None:
        check_at_least({"max_episode_steps": max_episode_steps}, 1, DataError)
        if skip_steps >= max_episode_steps:
            raise DataError(
                f"skip_steps = {skip_steps} with max_episode_steps = {max_episode_steps}; "
                "expected fewer steps skipped than an episode has"
            )
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: is a file; expected a dataset folder (new or made by collect)")
    env_kwargs = dict(env_kwargs or {})
    env = make_env(env_id, pixels=pixels, **env_kwargs)
    if max_episode_steps is not None:
        env = gym.wrappers.TimeLimit(env, max_episode_steps)
    try:
        key = image_key(env.observation_space)
        shape = image_space(env.observation_space).shape
        manifest = open_manifest(out, env_id, env_kwargs, list(shape), name)
        manifest["collection"] = {
            "pixels": pixels,
            "skip_steps": skip_steps,
            "max_episode_steps": max_episode_steps,
            "every": every,
        }
        if total:
            frames -= sum(s["frames"] for s in manifest["shards"])
            if frames <= 0:
                return manifest
        actor = make_actor(policy, env, shape, translator=translator, deterministic=deterministic)
        _check_state(env, env_id, out, manifest, flip_reset)
        rng = np.random.default_rng([seed, len(manifest["shards"])])
        env.action_space.seed(int(rng.integers(2**31)))
        _Recorder(env, key, actor, rng, out, manifest, seed, shard_size).run(
            frames, every, flip_reset, progress, f"collect {env_id}", skip_steps
        )
        return manifest
    finally:
        env.close()


def _check_state(
    env: gym.Env, env_id: str, out: Path, manifest: dict[str, Any], flip_reset: bool
) -> None:
    """Record whether the frames come with a physics state; it must match earlier shards."""
    physics = getattr(env.unwrapped, "data", None)
    has_state = physics is not None and hasattr(physics, "qpos")
    if manifest["shards"] and manifest["has_state"] != has_state:
        raise DataError(
            f"{out}: existing shards have_state={manifest['has_state']}, new ones "
            f"would have {has_state}; expected the same env"
        )
    manifest["has_state"] = has_state
    if flip_reset and not has_state:
        raise DataError(f"flip_reset needs a MuJoCo env with a pitch in qpos; {env_id} has none")


class _Recorder:
    """The collection loop: the actor steps the env, every ``every``-th frame goes to a shard."""

    def __init__(
        self,
        env: gym.Env,
        key: str | None,
        actor: Any,
        rng: np.random.Generator,
        out: Path,
        manifest: dict[str, Any],
        seed: int,
        shard_size: int,
    ):
        self.env, self.key, self.actor, self.rng = env, key, actor, rng
        self.out, self.manifest, self.seed, self.shard_size = out, manifest, seed, shard_size
        self.physics = env.unwrapped.data if manifest["has_state"] else None  # type: ignore[attr-defined]
        self.buffer: dict[str, list[np.ndarray]] = {
            k: [] for k in ("frames", "qpos", "qvel", "steps")
        }

    def _image(self, obs: Any) -> np.ndarray:
        return np.asarray(obs if self.key is None else obs[self.key])

    def _reset(self) -> Any:
        obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        self.actor.reset(self._image(obs))
        return obs

    def _keep(self, obs: Any, episode_step: int) -> None:
        self.buffer["frames"].append(self._image(obs))
        self.buffer["steps"].append(np.int64(episode_step))
        if self.physics is not None:
            self.buffer["qpos"].append(self.physics.qpos.copy())
            self.buffer["qvel"].append(self.physics.qvel.copy())

    def _flush(self) -> None:
        write_shard(self.out, self.manifest, self.buffer, self.seed)
        self.buffer = {k: [] for k in self.buffer}

    def run(
        self, frames: int, every: int, flip_reset: bool, progress: bool, desc: str, skip: int = 0
    ) -> None:
        from tqdm.auto import tqdm

        bar = tqdm(total=frames, desc=desc, unit="frame", disable=not progress)
        obs = self._reset()
        added, step, episode_step = 0, 0, 0
        while added < frames:
            if episode_step >= skip and step % every == 0:
                self._keep(obs, episode_step)
                added += 1
                bar.update(1)
                if len(self.buffer["frames"]) == self.shard_size or added == frames:
                    self._flush()
            obs, _, terminated, truncated, _ = self.env.step(self.actor.act())
            self.actor.observe(self._image(obs))
            step += 1
            episode_step += 1
            flipped = flip_reset and is_upside_down(self.physics.qpos[2])
            if terminated or truncated or flipped:
                obs = self._reset()
                episode_step = 0
        bar.close()
