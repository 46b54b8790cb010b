"""``style-wrap demo``: the pixel policy in the standard look, the restyled look, and the
restyled look translated back, with a side-by-side video.

Example:
    >>> from style_wrap.demo import CONDITIONS
    >>> list(CONDITIONS)
    ['standard', 'restyled', 'restyled_translated']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from style_wrap.domains import render_state
from style_wrap.episodes import EpisodeResult, EpisodeTask, gait, run_tasks
from style_wrap.errors import WeightsError
from style_wrap.io import atomic_path, atomic_write_bytes
from style_wrap.weights import resolve_weights

__all__ = [
    "CONDITIONS",
    "FLIP_AWARE_POLICY",
    "DemoResult",
    "choose_translator",
    "gait",
    "run_demo",
    "resolve_policy",
    "shipped_policy",
    "SHIPPED_TRANSLATOR",
    "FLIP_AWARE_TRANSLATOR",
    "ROUND10_POLICY",
    "ROUND10_TRANSLATOR",
    "SHIPPED_POLICY",
]

#: The three conditions: where the policy was trained, the new look raw, and translated.
CONDITIONS = {
    "standard": "StyleWrap/HalfCheetah-v5",
    "restyled": "StyleWrap/HalfCheetahRestyled-v5",
    "restyled_translated": "StyleWrap/HalfCheetahRestyled-v5",
}
#: The demo's translator: trained with policy consistency judged by a panel of three students of
#: the flip-aware distillation (rounds 12, 14, 15); model card.
SHIPPED_TRANSLATOR = "halfcheetah-restyled-to-standard-panel"
#: The demo's pixel policy: round 12 of the flip-aware distillation (0.73 of its expert).
SHIPPED_POLICY = "halfcheetah-pixel-policy-r12.zip"
#: A stronger student (round 15, 0.85 of its expert); model card.
FLIP_AWARE_POLICY = "halfcheetah-pixel-policy-flipaware.zip"
#: The translator trained with policy consistency for :data:`FLIP_AWARE_POLICY` alone.
FLIP_AWARE_TRANSLATOR = "halfcheetah-restyled-to-standard-flipaware"
#: The first shipped pair (DAgger round 10 without the flip reset, 0.46 of its expert, and the
#: three-stage translator chosen with it); the results' earlier sections measure these.
ROUND10_POLICY = "halfcheetah-pixel-policy.zip"
ROUND10_TRANSLATOR = "halfcheetah-restyled-to-standard"


def shipped_policy(name: str | None = None) -> Path:
    """A shipped pixel policy's file (the demo's by default); :class:`WeightsError` if none.

    Example:
        >>> shipped_policy().name, shipped_policy(FLIP_AWARE_POLICY).name
        ('halfcheetah-pixel-policy-r12.zip', 'halfcheetah-pixel-policy-flipaware.zip')
    """
    name = name or SHIPPED_POLICY  # read at call time: the demo's default
    path = Path(str(resources.files("style_wrap.pretrained"))) / name
    if not path.is_file():
        raise WeightsError(
            f"no shipped pixel policy at {path}; expected pretrained/{name} (or pass --policy PATH)"
        )
    return path


def resolve_policy(policy: str | os.PathLike[str] | None = None) -> Path:
    """A pixel policy's file: a path as given, a shipped policy's file name, or the demo's.

    Example:
        >>> resolve_policy(FLIP_AWARE_POLICY) == shipped_policy(FLIP_AWARE_POLICY)
        True
    """
    if policy is None:
        return shipped_policy()
    path = Path(policy)
    if path.is_file() or path.parent != Path("."):
        return path  # a path (load_policy names it if it is missing)
    try:
        return shipped_policy(path.name)
    except WeightsError:
        return path


@dataclass
class DemoResult:
    """Returns per condition and the two ratios against the standard look; with each episode's
    mean forward speed and whether it flipped (see :func:`gait`), which a ratio of returns hides:
    a slow steady gait and a fast one that flips can score alike."""

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
            speed = f"{np.mean(self.speed[c]):5.2f}" if self.speed.get(c) else "    -"
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
    weights: str | os.PathLike[str] = SHIPPED_TRANSLATOR,
    episodes: int = 10,
    max_steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    video: str | os.PathLike[str] | None = "demo.mp4",
    json_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    jobs: int = 1,
) -> DemoResult:
    """Evaluate the pixel policy in the three :data:`CONDITIONS`; write the video and JSON.

    Each condition's episode ``i`` resets with seed ``seed + i``. ``jobs > 1`` runs the episodes
    in that many worker processes (:func:`style_wrap.episodes.run_tasks`), with the same results.
    """
    from tqdm.auto import tqdm

    policy_path = resolve_policy(policy)
    resolve_weights(weights)  # a missing translator fails now, not after two conditions
    size = {"width": 64, "height": 64}
    tasks = [
        EpisodeTask(
            env_id,
            weights=str(weights) if condition == "restyled_translated" else None,
            seed=seed + i,
            max_steps=max_steps,
            device=device,
            local=video is not None and condition == "restyled_translated" and i == 0,
        )
        for condition, env_id in CONDITIONS.items()
        for i in range(episodes)
    ]
    panels: list[np.ndarray] = []

    def on_step(index: int, frame: np.ndarray, env: gym.Env) -> None:
        if tasks[index].local:  # the video's episode: restyled | translated | standard render
            qpos = env.unwrapped.data.qpos  # type: ignore[attr-defined]
            raw = render_state("restyled", qpos, **size)
            panels.append(np.concatenate([raw, frame, render_state("standard", qpos, **size)], 1))

    with tqdm(
        total=len(tasks) * (max_steps or 1000), desc="demo", unit="step", disable=not progress
    ) as bar:
        episodes_run = run_tasks(
            policy_path,
            tasks,
            jobs=jobs,
            on_step=on_step,
            on_done=lambda i, r: bar.update(r.steps),
        )
    result = DemoResult()
    for c, condition in enumerate(CONDITIONS):
        column = _columns(episodes_run[c * episodes : (c + 1) * episodes])
        result.returns[condition] = column["returns"]
        result.speed[condition] = column["speed"]
        result.flipped[condition] = column["flipped"]
    if video is not None and panels:
        import imageio.v3 as iio

        frames = np.stack(panels).repeat(3, axis=1).repeat(3, axis=2)  # 3x: visible on screens
        with atomic_path(video, suffix=".mp4") as tmp:
            iio.imwrite(tmp, frames, fps=20, codec="libx264", macro_block_size=1)
    if json_path is not None:
        atomic_write_bytes(json_path, json.dumps(result.to_dict(), indent=2).encode())
    return result


def _columns(episodes: list[EpisodeResult]) -> dict[str, list[Any]]:
    """Returns, speeds and flips of ``episodes``, a list each (the keys of the JSON files)."""
    return {
        "returns": [e.ret for e in episodes],
        "speed": [e.speed for e in episodes],
        "flipped": [e.flipped for e in episodes],
    }


def choose_translator(
    weights: list[str | os.PathLike[str]],
    *,
    policy: str | os.PathLike[str] | None = None,
    episodes: int = 3,
    seed: int = 100,
    max_steps: int | None = None,
    device: str = "auto",
    progress: bool = True,
    jobs: int = 1,
) -> list[dict[str, Any]]:
    """Rank translators by the pixel policy's return through them on the restyled cheetah.

    GAN quality moves a lot between exports of one run, and paired image metrics do not say
    which export the policy can use (docs/results.md), so choose by the policy itself, on
    episodes (``seed`` on) other than those you report, and many of them: one flip moves a
    mean by a quarter over 4 episodes. ``jobs > 1`` spreads the episodes over that many
    processes, with the same results. Returns one record per file, best first: ``weights``,
    ``returns``, ``mean``, ``speed`` and ``flipped`` per episode.
    """
    from tqdm.auto import tqdm

    if not weights:
        raise WeightsError("no translator files to choose from; expected one or more")
    for w in weights:  # every file checked before the first episode, not after an hour
        resolve_weights(w)
    policy_path = resolve_policy(policy)
    env_id = CONDITIONS["restyled_translated"]
    tasks = [
        EpisodeTask(env_id, str(w), seed + i, max_steps, device)
        for w in weights
        for i in range(episodes)
    ]
    with tqdm(
        total=len(tasks) * (max_steps or 1000), desc="choose", unit="step", disable=not progress
    ) as bar:
        done = run_tasks(policy_path, tasks, jobs=jobs, on_done=lambda i, r: bar.update(r.steps))
    records = []
    for k, w in enumerate(weights):
        column = _columns(done[k * episodes : (k + 1) * episodes])
        mean = float(np.mean(column["returns"]))  # keys in the order the JSON files had them
        records.append({"weights": str(w), "returns": column["returns"], "mean": mean, **column})
    return sorted(records, key=lambda r: -r["mean"])
