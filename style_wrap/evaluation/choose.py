"""``style-wrap choose``: rank translator files by what a pixel policy scores through them.

Example:
    >>> choose_translator([])
    Traceback (most recent call last):
    ...
    style_wrap.errors.WeightsError: no translator files to choose from; expected one or more
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from style_wrap.errors import WeightsError
from style_wrap.evaluation.demo import (
    CONDITIONS,
    check_inputs,
    episode_columns,
    run_with_progress,
)
from style_wrap.rl.episodes import EpisodeTask, check_episode_args

__all__ = ["choose_translator"]


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
    source_env: str = CONDITIONS["restyled"],
    env_kwargs: dict[str, Any] | None = None,
    pixels: int | None = None,
) -> list[dict[str, Any]]:
    """Rank translators by the pixel policy's return through them on the restyled cheetah.

    GAN quality moves a lot between exports of one run, and paired image metrics do not say
    which export the policy can use (docs/results.md), so choose by the policy itself, on
    episodes (``seed`` on) other than those you report, and many of them: one flip moves a
    mean by a quarter over 4 episodes. ``jobs > 1`` spreads the episodes over that many
    processes, with the same results. Any env (``source_env``, made with ``env_kwargs`` and
    ``pixels``) and pixel policy (a file, or a callable ``"module:function"``) works. Returns one
    record per file, best first: ``weights``, ``returns``, ``mean``, ``speed`` and ``flipped``
    per episode.
    """
    if not weights:
        raise WeightsError("no translator files to choose from; expected one or more")
    check_episode_args(episodes=episodes, seed=seed, max_steps=max_steps, jobs=jobs, device=device)
    for w in weights:  # every file checked before the first episode, not after an hour
        policy_path = check_inputs(policy, w, source_env, env_kwargs, pixels)
    kwargs = None if env_kwargs is None else tuple(sorted(env_kwargs.items()))
    tasks = [
        EpisodeTask(source_env, str(w), seed + i, max_steps, device, False, kwargs, pixels)
        for w in weights
        for i in range(episodes)
    ]
    done = run_with_progress(policy_path, tasks, "choose", jobs=jobs, progress=progress)
    records = []
    for k, w in enumerate(weights):
        column = episode_columns(done[k * episodes : (k + 1) * episodes])
        mean = float(np.mean(column["returns"]))  # keys in the order the JSON files had them
        records.append({"weights": str(w), "returns": column["returns"], "mean": mean, **column})
    return sorted(records, key=lambda r: -r["mean"])
