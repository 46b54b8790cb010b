"""Episodes: one loop for every actor, and a pixel policy's episodes spread over processes.

A policy's return through a translator varies a lot from episode to episode (a flip, a stall),
so judging a translator takes tens of episodes, and each one is a thousand rendered, translated
steps on one core. Episodes are independent (episode ``i`` resets with its own seed and the
policy acts deterministically), so :func:`run_tasks` hands them to ``jobs`` processes and gives
the same numbers as running them one after another, only sooner.

Example:
    >>> task = EpisodeTask("StyleWrap/HalfCheetah-v5", seed=3, max_steps=10)
    >>> task.weights is None, task.seed
    (True, 3)
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from style_wrap.envs import is_upside_down
from style_wrap.making import default_kwargs, make_env
from style_wrap.rl.actors import Actor, ExpertActor, PixelActor
from style_wrap.rl.expert import StateExpert
from style_wrap.settings import check_at_least
from style_wrap.wrappers import StyleTransfer

__all__ = [
    "check_episode_args",
    "EpisodeResult",
    "EpisodeTask",
    "evaluate_expert",
    "evaluate_pixel_policy",
    "gait",
    "run_episodes",
    "run_tasks",
]

#: ``on_step(task_index, frame, env)``, called after every step of an episode run in this process.
StepCallback = Callable[[int, np.ndarray, gym.Env], None]


def run_episodes(
    actor: Actor,
    env: gym.Env,
    episodes: int,
    *,
    seed: int = 0,
    max_steps: int | None = None,
    on_step: Callable[[int, np.ndarray], None] | None = None,
) -> list[float]:
    """Returns of ``actor`` over ``episodes`` episodes of ``env``.

    Episode ``i`` resets with seed ``seed + i``; ``max_steps`` cuts episodes short;
    ``on_step(episode, observation)`` is called after every step.
    """
    returns = []
    for episode in range(episodes):
        actor.reset(env.reset(seed=seed + episode)[0])
        done, total, steps = False, 0.0, 0
        while not done:
            frame, reward, terminated, truncated, _ = env.step(actor.act())
            total += float(reward)
            steps += 1
            actor.observe(frame)
            if on_step is not None:
                on_step(episode, frame)
            done = terminated or truncated or (max_steps is not None and steps >= max_steps)
        returns.append(total)
    return returns


def evaluate_pixel_policy(
    model: Any,
    env_id: str,
    episodes: int,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
) -> list[float]:
    """Returns of an SB3 pixel policy (mean actions) on fresh episodes of ``env_id``."""
    env = make_env(env_id, **(env_kwargs or {}))
    try:
        actor = PixelActor(model, env.observation_space.shape)
        return run_episodes(actor, env, episodes, seed=seed)
    finally:
        env.close()


def evaluate_expert(
    folder: str | os.PathLike[str], episodes: int, seed: int = 0, env_id: str = "HalfCheetah-v5"
) -> list[float]:
    """Returns of a state expert (deterministic actions) on episodes seeded ``seed + i``."""
    env = make_env(env_id)
    try:
        return run_episodes(ExpertActor(StateExpert(folder), env), env, episodes, seed=seed)
    finally:
        env.close()


@dataclass(frozen=True)
class EpisodeTask:
    """One episode: the env, the translator it is seen through (if any), its reset seed.

    ``env_id`` is a gymnasium id or an env factory (:func:`style_wrap.making.make_env`), made with
    ``env_kwargs`` (default: 64x64 frames for the ``StyleWrap/`` cheetahs, the size the shipped
    pixel policies read; nothing for other envs) and ``pixels``. ``local`` keeps the episode in
    this process even when others go to workers, for a caller that needs its frames as they come
    (the demo's video).
    """

    env_id: str
    weights: str | None = None
    seed: int = 0
    max_steps: int | None = None
    device: str = "auto"
    local: bool = False
    env_kwargs: tuple[tuple[str, Any], ...] | None = None
    pixels: int | None = None

    def make_kwargs(self) -> dict[str, Any]:
        """The keywords the env is made with."""
        if self.env_kwargs is not None:
            return dict(self.env_kwargs)
        return default_kwargs(self.env_id)


@dataclass(frozen=True)
class EpisodeResult:
    """One episode's return, mean forward speed, whether it flipped, and its length."""

    ret: float
    speed: float | None  # None: not a cheetah, no gait to measure
    flipped: bool
    steps: int


def gait(x: np.ndarray, pitch: np.ndarray, dt: float) -> tuple[float, bool]:
    """Mean forward speed (m/s) of one episode, and whether the cheetah flipped onto its back.

    ``x`` and ``pitch`` are the root's x position and pitch (``qpos[0]``, ``qpos[2]``) after
    every step. Flipped: upside down (:func:`~style_wrap.envs.is_upside_down`) for at least a
    tenth of the steps; a
    cheetah on its back stays there, while a somersault it lands is a few steps.

    Example:
        >>> t = np.arange(100)
        >>> gait(0.2 * t, np.zeros(100), dt=0.05)
        (4.0, False)
        >>> gait(0.2 * t, np.where(t > 50, np.pi, 0.0), dt=0.05)[1]
        True
    """
    x, pitch = np.asarray(x, float), np.asarray(pitch, float)
    speed = float((x[-1] - x[0]) / (dt * max(1, len(x) - 1)))
    return round(speed, 6), bool(np.mean(is_upside_down(pitch)) >= 0.1)


class _Runner:
    """The policy and the envs one process runs episodes with (envs made once, reused)."""

    def __init__(self, policy: str | os.PathLike[str]):
        from style_wrap.rl.actors import load_pixel_policy

        self.model = load_pixel_policy(policy)
        self.envs: dict[tuple[Any, ...], gym.Env] = {}

    def env(self, task: EpisodeTask) -> gym.Env:
        key = (task.env_id, task.weights, task.device, task.env_kwargs, task.pixels)
        if key not in self.envs:
            env = make_env(task.env_id, pixels=task.pixels, **task.make_kwargs())
            if task.weights is not None:
                env = StyleTransfer(env, task.weights, device=task.device)
            self.envs[key] = env
        return self.envs[key]

    def run(self, task: EpisodeTask, on_step: Callable[[np.ndarray], None] | None) -> EpisodeResult:
        env = self.env(task)
        track: list[tuple[float, float]] = []  # (x, pitch) after every step

        from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

        from style_wrap.rl.actors import pixel_actor

        cheetah = isinstance(env.unwrapped, HalfCheetahEnv)  # a gait to measure
        steps = 0

        def record(episode: int, frame: np.ndarray) -> None:
            nonlocal steps
            steps += 1
            if cheetah:
                qpos = env.unwrapped.data.qpos  # type: ignore[attr-defined]
                track.append((float(qpos[0]), float(qpos[2])))
            if on_step is not None:
                on_step(frame)

        actor = pixel_actor(self.model, env.observation_space.shape)
        (ret,) = run_episodes(
            actor, env, 1, seed=task.seed, max_steps=task.max_steps, on_step=record
        )
        if not cheetah:
            return EpisodeResult(ret, None, False, steps)
        speed, flipped = gait(*np.array(track).T, dt=float(env.unwrapped.dt))  # type: ignore[attr-defined]
        return EpisodeResult(ret, speed, flipped, len(track))

    def close(self) -> None:
        for env in self.envs.values():
            env.close()
        self.envs.clear()


_worker: _Runner | None = None  # the runner of a worker process


def _init_worker(policy: str, threads: int) -> None:
    global _worker
    import torch

    import style_wrap  # noqa: F401  (registers the cheetah ids in the fresh process)

    torch.set_num_threads(threads)
    _worker = _Runner(policy)


def _run_in_worker(task: EpisodeTask) -> EpisodeResult:
    assert _worker is not None, "worker not initialised"
    return _worker.run(task, None)


def check_episode_args(
    *,
    episodes: int,
    seed: int,
    max_steps: int | None = None,
    jobs: int = 1,
    device: str = "auto",
    outputs: Sequence[str | os.PathLike[str] | None] = (),
) -> None:
    """Check what an episode-running command was given, before its first episode.

    Example:
        >>> check_episode_args(episodes=0, seed=0)
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: episodes = 0; expected >= 1
    """
    from style_wrap.devices import resolve_device
    from style_wrap.io import check_output_path

    check_at_least({"episodes": episodes, "jobs": jobs}, 1)
    check_at_least({"seed": seed}, 0)
    if max_steps is not None:
        check_at_least({"max_steps": max_steps}, 1)
    resolve_device(device)  # a missing GPU fails now, not after two conditions
    for out in outputs:
        if out is not None:
            check_output_path(out)


def run_tasks(
    policy: str | os.PathLike[str],
    tasks: Sequence[EpisodeTask],
    *,
    jobs: int = 1,
    threads: int = 1,
    on_step: StepCallback | None = None,
    on_done: Callable[[int, EpisodeResult], None] | None = None,
) -> list[EpisodeResult]:
    """Run ``tasks`` with the pixel policy at ``policy``; results in the order of ``tasks``.

    With ``jobs > 1`` the episodes not marked ``local`` go to that many worker processes (each
    with ``threads`` torch threads), while the local ones run here meanwhile. Results do not
    depend on ``jobs``. ``on_step`` sees every step of the episodes run here; ``on_done`` sees
    every episode as it ends, wherever it ran (for progress bars).

    Example:
        >>> run_tasks("p.zip", [], jobs=0)
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: jobs = 0; expected >= 1
    """
    check_at_least({"jobs": jobs}, 1)
    results: dict[int, EpisodeResult] = {}

    def done(i: int, result: EpisodeResult) -> None:
        results[i] = result
        if on_done is not None:
            on_done(i, result)

    remote = [i for i, t in enumerate(tasks) if jobs > 1 and not t.local]
    local = [i for i, t in enumerate(tasks) if jobs == 1 or t.local]
    runner = _Runner(policy)  # here too: a bad policy file fails here, with its own error
    pool = None
    futures: dict[Future[EpisodeResult], int] = {}
    try:
        if remote:
            pool = ProcessPoolExecutor(
                max_workers=min(jobs, len(remote)),
                mp_context=multiprocessing.get_context("spawn"),  # no forked EGL or torch state
                initializer=_init_worker,
                initargs=(str(Path(policy)), threads),
            )
            futures = {pool.submit(_run_in_worker, tasks[i]): i for i in remote}
        for i in local:
            step = None if on_step is None else (lambda f, i=i: on_step(i, f, runner.env(tasks[i])))
            done(i, runner.run(tasks[i], step))
            _collect(futures, done, block=False)
        _collect(futures, done, block=True)
    finally:
        runner.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return [results[i] for i in range(len(tasks))]


def _collect(
    futures: dict[Future[EpisodeResult], int],
    done: Callable[[int, EpisodeResult], None],
    block: bool,
) -> None:
    """Hand on the workers' finished episodes (all of them, waiting, when ``block``)."""
    while futures:
        finished, _ = wait(futures, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        if not finished:
            return
        for future in finished:
            done(futures.pop(future), future.result())
