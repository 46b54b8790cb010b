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
from style_wrap.evaluation.demo import DemoResult, run_demo
from style_wrap.hub import resolve_policy, resolve_weights
from style_wrap.rl.episodes import check_episode_args
from style_wrap.rl.policies import check_policy_file

__all__ = ["ZooResult", "evaluate_zoo", "zoo_table"]


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
    (``source_env``, ``target_env``, ``env_kwargs``, ``pixels``) go to
    :func:`~style_wrap.evaluation.demo.run_demo`."""
    if not policies:
        raise ConfigError("no policies for the zoo; expected one or more pixel policy files")
    check_episode_args(episodes=episodes, seed=seed, max_steps=max_steps, jobs=jobs, device=device)
    from style_wrap.making import load_object

    paths: list[Any] = []
    for p in policies:  # callables as they are; files loaded once, so a bad one fails now
        if ":" in str(p) and load_object(str(p), "policy") is not None:
            paths.append(str(p))
        else:
            paths.append(resolve_policy(p))
            check_policy_file(paths[-1], None)
    resolve_weights(weights)
    names = _names(paths)
    if len(set(names)) != len(names):
        raise ConfigError(f"zoo policies {names}: the same file twice; expected distinct policies")
    ratios, demos = {}, {}
    for name, path in zip(names, paths):
        demo: DemoResult = run_demo(
            policy=path,
            weights=weights,
            episodes=episodes,
            max_steps=max_steps,
            seed=seed,
            device=device,
            video=None,
            progress=progress,
            jobs=jobs,
            **envs,
        )
        ratios[name] = demo.ratio_translated
        demos[name] = {"file": str(path), **demo.to_dict()}
    return ZooResult(ratios, demos)


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
