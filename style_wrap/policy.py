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


#: PPO settings tuned for HalfCheetah (rl-baselines3-zoo's, with VecNormalize).
EXPERT_PPO = dict(
    n_steps=512,
    batch_size=64,
    gamma=0.98,
    learning_rate=2.0633e-05,
    ent_coef=0.000401762,
    clip_range=0.1,
    n_epochs=20,
    gae_lambda=0.92,
    max_grad_norm=0.8,
    vf_coef=0.58096,
)


def train_expert(
    out: str | os.PathLike[str], steps: int = 200_000, seed: int = 0, env_id: str = "HalfCheetah-v5"
) -> Path:
    """Train a state-based PPO expert with observation/reward normalisation.

    Writes ``expert.zip`` (SB3's format) and ``vecnormalize.pkl`` (SB3's normaliser statistics)
    into ``out``; returns ``out``. The expert is a teacher for the pixel policy, not shipped.
    """
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize
    from torch import nn

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    venv = VecNormalize(make_vec_env(lambda: gym.make(env_id), n_envs=1, seed=seed), gamma=0.98)
    policy_kwargs = dict(
        log_std_init=-2,
        ortho_init=False,
        activation_fn=nn.ReLU,
        net_arch=dict(pi=[256, 256], vf=[256, 256]),
    )
    model = PPO("MlpPolicy", venv, seed=seed, policy_kwargs=policy_kwargs, verbose=0, **EXPERT_PPO)
    model.learn(total_timesteps=steps, progress_bar=False)
    model.save(out / "expert.zip")
    venv.save(str(out / "vecnormalize.pkl"))
    return out
