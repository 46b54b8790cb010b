"""Loading stable-baselines3 policies from their own zip format, and reading their frames.

Example:
    >>> from style_wrap.rl.policies import ALGORITHMS
    >>> sorted(ALGORITHMS)[:3]
    ['A2C', 'DDPG', 'DQN']
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
from stable_baselines3 import A2C, DDPG, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm

from style_wrap.errors import StyleWrapError
from style_wrap.io import atomic_path

__all__ = [
    "ALGORITHMS",
    "FrameStacker",
    "PolicyError",
    "frames_stacked",
    "load_policy",
    "save_policy",
]

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


def frames_stacked(model: BaseAlgorithm, channels: int = 3) -> int:
    """How many frames a pixel policy reads at once (channel-first or channel-last space)."""
    shape = model.observation_space.shape or ()
    if len(shape) != 3:
        raise PolicyError(f"policy observation space {model.observation_space}; expected images")
    stacked = min(shape[0], shape[-1])  # the channel axis is the short one
    if stacked % channels:
        raise PolicyError(f"policy reads {stacked} channels; expected a multiple of {channels}")
    return stacked // channels


class FrameStacker:
    """Stacks the last ``n`` HWC frames on the channel axis exactly as SB3's ``VecFrameStack``.

    Zeros fill the stack after a reset, newest frame last.

    Example:
        >>> import numpy as np
        >>> s = FrameStacker(2, (1, 1, 3))
        >>> s.reset(np.ones((1, 1, 3), np.uint8))[0, 0].tolist()
        [0, 0, 0, 1, 1, 1]
        >>> s.push(np.full((1, 1, 3), 2, np.uint8))[0, 0].tolist()
        [1, 1, 1, 2, 2, 2]
    """

    def __init__(self, n: int, frame_shape: tuple[int, ...]):
        self.n, self.channels = n, frame_shape[-1]
        self.stack = np.zeros((*frame_shape[:-1], n * self.channels), np.uint8)

    def reset(self, frame: np.ndarray) -> np.ndarray:
        self.stack[...] = 0
        return self.push(frame)

    def push(self, frame: np.ndarray) -> np.ndarray:
        self.stack = np.roll(self.stack, -self.channels, axis=-1)
        self.stack[..., -self.channels :] = frame
        return self.stack.copy()


def save_policy(model: BaseAlgorithm, path: str | os.PathLike[str]) -> None:
    """Write an SB3 model file atomically (SB3's own ``save`` writes in place)."""
    with atomic_path(path, suffix=".zip") as tmp:
        model.save(tmp)
