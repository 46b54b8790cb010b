"""Loading stable-baselines3 policies from their own zip format.

Example:
    >>> from style_wrap.policy import ALGORITHMS
    >>> sorted(ALGORITHMS)[:3]
    ['A2C', 'DDPG', 'DQN']
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from stable_baselines3 import A2C, DDPG, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm

from style_wrap.errors import StyleWrapError

__all__ = ["ALGORITHMS", "load_policy", "PolicyError"]

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    c.__name__: c for c in (A2C, DDPG, DQN, PPO, SAC, TD3)
}


class PolicyError(StyleWrapError, ValueError):
    """A policy file is missing or not a stable-baselines3 model."""


def _algorithm_of(path: Path) -> str:
    # SB3 records the policy class (e.g. "stable_baselines3.sac.policies.MlpPolicy") in "data".
    with zipfile.ZipFile(path) as z:
        data = json.loads(z.read("data"))
    module = data.get("policy_class", {}).get("__module__", "")
    for name in ALGORITHMS:
        if f".{name.lower()}." in f".{module}.":
            return name
    return "PPO"  # PPO and A2C share ActorCriticPolicy; PPO loads both


def load_policy(path: str | os.PathLike[str], device: str = "cpu") -> BaseAlgorithm:
    """Load an SB3 model file, finding its algorithm from the file itself."""
    p = Path(path)
    if not p.is_file():
        raise PolicyError(f"policy file {str(p)!r} does not exist; expected an SB3 .zip")
    try:
        algorithm = _algorithm_of(p)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise PolicyError(f"{p}: not a stable-baselines3 model file ({err})") from None
    return ALGORITHMS[algorithm].load(p, device=device)
