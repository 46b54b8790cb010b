"""``style-wrap demo``: the pixel policy in the standard look, the restyled look, and the
restyled look translated back, with a side-by-side video.

Example:
    >>> from style_wrap.evaluation.demo import CONDITIONS
    >>> list(CONDITIONS)
    ['standard', 'restyled', 'restyled_translated']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from style_wrap.envs import render_state
from style_wrap.hub import DEFAULT_TRANSLATOR, resolve_policy, resolve_weights
from style_wrap.io import atomic_path, atomic_write_bytes
from style_wrap.rl.episodes import EpisodeResult, EpisodeTask, check_episode_args, run_tasks
from style_wrap.rl.policies import check_policy_file
from style_wrap.spaces import image_space

__all__ = [
    "CONDITIONS",
    "DemoResult",
    "condition_tasks",
    "episode_columns",
    "run_demo",
    "run_with_progress",
]

#: The three conditions: where the policy was trained, the new look raw, and translated.
CONDITIONS = {
    "standard": "StyleWrap/HalfCheetah-v5",
    "restyled": "StyleWrap/HalfCheetahRestyled-v5",
    "restyled_translated": "StyleWrap/HalfCheetahRestyled-v5",
}


@dataclass
class DemoResult:
    """Returns per condition and the two ratios against the standard look; with each episode's
    mean forward speed and whether it flipped (see :func:`style_wrap.rl.episodes.gait`), which a
    ratio of returns hides: a slow steady gait and a fast one that flips can score alike."""

    returns: dict[str, list[float]] = field(default_factory=dict)
    speed: dict[str, list[float]] = field(default_factory=dict)
    flipped: dict[str, list[bool]] = field(default_factory=dict)

    def mean(self, condition: str) -> float:
        return float(np.mean(self.returns[condition]))

    @property
    def ratio_raw(self) -> float:
        return self.mean("restyled") / self.mean("standard")

    @property
    def ratio_translated(self) -> float:
        return self.mean("restyled_translated") / self.mean("standard")

    def to_dict(self) -> dict[str, Any]:
        return {
            "returns": self.returns,
            "mean": {c: self.mean(c) for c in self.returns},
            "std": {c: float(np.std(r)) for c, r in self.returns.items()},
            "ratio_raw": self.ratio_raw,
            "ratio_translated": self.ratio_translated,
            "speed": self.speed,
            "flipped": self.flipped,
        }

    def table(self) -> str:
        rows = ["condition            mean return +- std    speed m/s  flipped"]
        for c, r in self.returns.items():
            measured = [v for v in self.speed.get(c, []) if v is not None]
            speed = f"{np.mean(measured):5.2f}" if measured else "    -"
            flips = f"{sum(self.flipped[c])}/{len(r)}" if c in self.flipped else "-"
            rows.append(
                f"{c:20s} {np.mean(r):9.1f} +- {np.std(r):7.1f}    {speed}     {flips:5s}"
                f"  ({len(r)} episodes)"
            )
        rows.append(f"(b)/(a) restyled raw / standard:        {self.ratio_raw:6.3f}")
        rows.append(f"(c)/(a) restyled translated / standard: {self.ratio_translated:6.3f}")
        return "\n".join(rows)


def run_demo(
    *,
    policy: str | os.PathLike[str] | None = None,
    weights: str | os.PathLike[str] = DEFAULT_TRANSLATOR,
    episodes: int = 10,
    max_steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    video: str | os.PathLike[str] | None = "demo.mp4",
    json_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    jobs: int = 1,
    source_env: str = CONDITIONS["restyled"],
    target_env: str = CONDITIONS["standard"],
    env_kwargs: dict[str, Any] | None = None,
    pixels: int | None = None,
) -> DemoResult:
    """Evaluate the pixel policy in the three :data:`CONDITIONS`; write the video and JSON.

    Each condition's episode ``i`` resets with seed ``seed + i``. ``jobs > 1`` runs the episodes
    in that many worker processes (:func:`style_wrap.rl.episodes.run_tasks`), with the same
    results. Any env pair works: ``target_env`` (the look the policy knows: "standard") and
    ``source_env`` (the new look: "restyled", raw and translated), gymnasium ids or env
    factories made with ``env_kwargs`` and ``pixels``; the policy may be a callable
    (``"module:function"``). The video draws cheetah states, so only the cheetah pair has one.
    """
    check_episode_args(
        episodes=episodes,
        seed=seed,
        max_steps=max_steps,
        jobs=jobs,
        device=device,
        outputs=(video, json_path),
    )
    envs = {"standard": target_env, "restyled": source_env, "restyled_translated": source_env}
    cheetahs = envs == CONDITIONS and env_kwargs is None and pixels is None
    policy_path = check_inputs(policy, weights, source_env, env_kwargs, pixels)
    video = video if cheetahs else None
    size = {"width": 64, "height": 64}
    tasks = [
        task
        for condition, env_id in envs.items()
        for task in condition_tasks(
            env_id,
            weights if condition == "restyled_translated" else None,
            episodes=episodes,
            seed=seed,
            max_steps=max_steps,
            device=device,
            env_kwargs=env_kwargs,
            pixels=pixels,
            local_first=video is not None and condition == "restyled_translated",
        )
    ]
    panels: list[np.ndarray] = []

    def on_step(index: int, frame: np.ndarray, env: gym.Env) -> None:
        if tasks[index].local:  # the video's episode: restyled | translated | standard render
            qpos = env.unwrapped.data.qpos  # type: ignore[attr-defined]
            raw = render_state("restyled", qpos, **size)
            panels.append(np.concatenate([raw, frame, render_state("standard", qpos, **size)], 1))

    episodes_run = run_with_progress(
        policy_path, tasks, "demo", jobs=jobs, progress=progress, on_step=on_step
    )
    result = DemoResult()
    for c, condition in enumerate(CONDITIONS):
        column = episode_columns(episodes_run[c * episodes : (c + 1) * episodes])
        result.returns[condition] = column["returns"]
        result.speed[condition] = column["speed"]
        result.flipped[condition] = column["flipped"]
    if video is not None and panels:
        _write_video(video, panels)
    if json_path is not None:
        atomic_write_bytes(json_path, json.dumps(result.to_dict(), indent=2).encode())
    return result


def condition_tasks(
    env_id: str,
    weights: str | os.PathLike[str] | None,
    *,
    episodes: int,
    seed: int,
    max_steps: int | None,
    device: str,
    env_kwargs: dict[str, Any] | None,
    pixels: int | None,
    local_first: bool = False,
) -> list[EpisodeTask]:
    """One condition's episodes: ``env_id`` seeded ``seed + i``, translated through ``weights``
    (none: raw). ``local_first`` keeps the first episode in this process (a video's)."""
    kwargs = None if env_kwargs is None else tuple(sorted(env_kwargs.items()))
    return [
        EpisodeTask(
            env_id,
            weights=None if weights is None else str(weights),
            seed=seed + i,
            max_steps=max_steps,
            device=device,
            local=local_first and i == 0,
            env_kwargs=kwargs,
            pixels=pixels,
        )
        for i in range(episodes)
    ]


def check_inputs(
    policy: str | os.PathLike[str] | None,
    weights: str | os.PathLike[str],
    env: str,
    env_kwargs: dict[str, Any] | None,
    pixels: int | None,
) -> str:
    """Check the policy, translator and env of an evaluation before its first episode: the
    translator reads the env's frames, and a policy file reads them too. Returns the policy as
    the episode runner takes it (a path, or a ``"module:function"`` callable)."""
    from style_wrap.making import default_kwargs, load_object, make_env
    from style_wrap.translator import Translator

    resolve_weights(weights)  # a missing translator fails now, not after two conditions
    kwargs = env_kwargs if env_kwargs is not None else default_kwargs(env)
    probe = make_env(env, pixels=pixels, **kwargs)
    try:
        shape = image_space(probe.observation_space).shape
    finally:
        probe.close()
    Translator(weights, device="cpu").check_frame_shape(tuple(shape), f"frames of {env}")
    if policy is not None and ":" in str(policy) and load_object(str(policy), "policy"):
        return str(policy)
    path = resolve_policy(policy)
    check_policy_file(path, tuple(shape[:2]))
    return str(path)


def run_with_progress(
    policy: os.PathLike[str],
    tasks: list[EpisodeTask],
    desc: str,
    *,
    jobs: int = 1,
    progress: bool = True,
    on_step: Any = None,
) -> list[EpisodeResult]:
    """:func:`~style_wrap.rl.episodes.run_tasks` under a progress bar counted in env steps."""
    from tqdm.auto import tqdm

    total = sum(t.max_steps or 1000 for t in tasks)
    with tqdm(total=total, desc=desc, unit="step", disable=not progress) as bar:
        return run_tasks(
            policy, tasks, jobs=jobs, on_step=on_step, on_done=lambda i, r: bar.update(r.steps)
        )


def _write_video(video: str | os.PathLike[str], panels: list[np.ndarray]) -> None:
    import imageio.v3 as iio

    frames = np.stack(panels).repeat(3, axis=1).repeat(3, axis=2)  # 3x: visible on screens
    with atomic_path(video, suffix=".mp4") as tmp:
        iio.imwrite(tmp, frames, fps=20, codec="libx264", macro_block_size=1)


def episode_columns(episodes: list[EpisodeResult]) -> dict[str, list[Any]]:
    """Returns, speeds and flips of ``episodes``, a list each (the keys of the JSON files)."""
    return {
        "returns": [e.ret for e in episodes],
        "speed": [e.speed for e in episodes],
        "flipped": [e.flipped for e in episodes],
    }
