"""A translator judged by a zoo of pixel policies it never saw: each policy's demo, and the zoo's
mean and minimum ratio.

A translator fitted with one policy in its loss can serve that policy and no other (an adapter).
What a user needs is a translator that serves *their* policy, which it never saw; the honest
estimate is the ratio ``(c)/(a)`` (translated over standard return) of several policies that
were not in its loss, each over many episodes. ``zoo_ratio_min`` is the number to watch.

Example:
    >>> result = ZooResult({"a": 0.9, "b": 0.5}, {})
    >>> result.zoo_ratio_mean, result.zoo_ratio_min
    (0.7, 0.5)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from style_wrap.errors import ConfigError
from style_wrap.evaluation.demo import (
    CONDITIONS,
    DemoResult,
    check_inputs,
    condition_tasks,
    episode_columns,
    run_with_progress,
)
from style_wrap.hub import resolve_policy, resolve_weights
from style_wrap.rl.episodes import check_episode_args
from style_wrap.rl.policies import check_policy_file

__all__ = ["ZooResult", "evaluate_zoo", "evaluate_zoos", "zoo_table"]


@dataclass
class ZooResult:
    """Per policy its ratio (c)/(a) and its whole demo record; the zoo's mean and minimum."""

    ratios: dict[str, float]
    demos: dict[str, dict[str, Any]]

    @property
    def zoo_ratio_mean(self) -> float:
        return float(np.mean(list(self.ratios.values())))

    @property
    def zoo_ratio_min(self) -> float:
        return float(min(self.ratios.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "policies": self.demos,
            "ratios": self.ratios,
            "zoo_ratio_mean": self.zoo_ratio_mean,
            "zoo_ratio_min": self.zoo_ratio_min,
        }


def _names(policies: list[str | os.PathLike[str]]) -> list[str]:
    """A short unique name per policy: its file stem, with its folder when stems repeat."""
    stems = [Path(p).stem for p in policies]
    return [
        f"{Path(p).parent.name}/{s}" if stems.count(s) > 1 else s for p, s in zip(policies, stems)
    ]


def evaluate_zoo(
    policies: list[str | os.PathLike[str]],
    weights: str | os.PathLike[str],
    *,
    episodes: int = 20,
    seed: int = 700,
    max_steps: int | None = None,
    device: str = "auto",
    jobs: int = 1,
    progress: bool = True,
    **envs: Any,
) -> ZooResult:
    """Each policy's demo (standard, restyled raw, restyled through ``weights``) on episodes
    ``seed .. seed + episodes - 1``; every file is checked before the first episode. ``envs``
    (``source_env``, ``target_env``, ``env_kwargs``, ``pixels``) are those of
    :func:`~style_wrap.evaluation.demo.run_demo`."""
    return evaluate_zoos(
        policies,
        [weights],
        episodes=episodes,
        seed=seed,
        max_steps=max_steps,
        device=device,
        jobs=jobs,
        progress=progress,
        **envs,
    )[0]


def evaluate_zoos(
    policies: list[str | os.PathLike[str]],
    translators: list[str | os.PathLike[str]],
    *,
    episodes: int = 20,
    seed: int = 700,
    max_steps: int | None = None,
    device: str = "auto",
    jobs: int = 1,
    progress: bool = True,
    source_env: str = CONDITIONS["restyled"],
    target_env: str = CONDITIONS["standard"],
    env_kwargs: dict[str, Any] | None = None,
    pixels: int | None = None,
) -> list[ZooResult]:
    """Several translators judged by one zoo, a :class:`ZooResult` each, in their order.

    Each policy's standard and raw episodes do not depend on the translator, so they run once
    and every translator's result shares them: judging ``k`` translators costs ``k + 2``
    conditions per policy, not ``3 k``. The results are those :func:`evaluate_zoo` gives each
    translator alone (the same episodes).
    """
    if not policies:
        raise ConfigError("no policies for the zoo; expected one or more pixel policy files")
    if not translators:
        raise ConfigError("no translators for the zoo; expected one or more weights files")
    check_episode_args(episodes=episodes, seed=seed, max_steps=max_steps, jobs=jobs, device=device)
    from style_wrap.making import load_object

    for w in translators:
        resolve_weights(w)
    paths: list[Any] = []
    for p in policies:  # callables as they are; files loaded once, so a bad one fails now
        if ":" in str(p) and load_object(str(p), "policy") is not None:
            paths.append(str(p))
        else:
            paths.append(resolve_policy(p))
            check_policy_file(paths[-1], None)
    names = _names(paths)
    if len(set(names)) != len(names):
        raise ConfigError(f"zoo policies {names}: the same file twice; expected distinct policies")
    for path in paths:  # the frames each policy and translator read, before any episode
        for w in translators:
            check_inputs(path, w, source_env, env_kwargs, pixels)
    setup = dict(
        episodes=episodes,
        seed=seed,
        max_steps=max_steps,
        device=device,
        env_kwargs=env_kwargs,
        pixels=pixels,
    )
    ratios: list[dict[str, float]] = [{} for _ in translators]
    demos: list[dict[str, dict[str, Any]]] = [{} for _ in translators]
    for name, path in zip(names, paths):
        runs = [(target_env, None), (source_env, None), *((source_env, w) for w in translators)]
        tasks = [t for env_id, w in runs for t in condition_tasks(env_id, w, **setup)]
        done = run_with_progress(path, tasks, f"zoo {name}", jobs=jobs, progress=progress)
        columns = [episode_columns(done[i : i + episodes]) for i in range(0, len(done), episodes)]
        for k in range(len(translators)):
            demo = DemoResult()
            for condition, column in zip(CONDITIONS, (columns[0], columns[1], columns[2 + k])):
                demo.returns[condition] = column["returns"]
                demo.speed[condition] = column["speed"]
                demo.flipped[condition] = column["flipped"]
            ratios[k][name] = demo.ratio_translated
            demos[k][name] = {"file": str(path), **demo.to_dict()}
    return [ZooResult(r, d) for r, d in zip(ratios, demos)]


def zoo_table(result: ZooResult) -> str:
    """Per policy its mean returns and ratios, then the zoo's mean and minimum, as markdown."""
    rows = [
        "| policy | standard | restyled raw | translated | (c)/(a) | flipped (a) / (c) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, d in result.demos.items():
        mean, flipped = d["mean"], d["flipped"]
        flips = f"{sum(flipped['standard'])} / {sum(flipped['restyled_translated'])}"
        rows.append(
            f"| {name} | {mean['standard']:.1f} | {mean['restyled']:.1f} | "
            f"{mean['restyled_translated']:.1f} | {d['ratio_translated']:.3f} | {flips} |"
        )
    rows.append(
        f"| **zoo mean / min** | | | | **{result.zoo_ratio_mean:.3f}** / "
        f"**{result.zoo_ratio_min:.3f}** | |"
    )
    return "\n".join(rows) + "\n"
