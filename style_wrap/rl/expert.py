"""The state expert: PPO on HalfCheetah's state, the teacher of the pixel policies.

It is a teacher, never shipped: :mod:`style_wrap.rl.dagger` distils it into a pixel policy,
``style-wrap collect --policy FOLDER`` drives collection with it, and the policy-consistency term
of ``style-wrap train`` reads its labels.

Example:
    >>> from style_wrap.rl.expert import EXPERT_PPO
    >>> EXPERT_PPO["gamma"]
    0.98
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from stable_baselines3 import PPO

from style_wrap.io import atomic_path
from style_wrap.rl.policies import PolicyError, load_policy, save_policy

__all__ = ["EXPERT_PPO", "StateExpert", "train_expert"]

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
    save_policy(model, out / "expert.zip")
    with atomic_path(out / "vecnormalize.pkl", suffix=".pkl") as tmp:
        venv.save(str(tmp))
    return out


class StateExpert:
    """A state-based SB3 expert with its VecNormalize statistics, acting from a MuJoCo state."""

    def __init__(self, folder: str | os.PathLike[str], device: str = "cpu"):
        import pickle

        folder = Path(folder)
        for name in ("expert.zip", "vecnormalize.pkl"):
            if not (folder / name).is_file():
                raise PolicyError(f"{folder}: no {name}; expected a folder made by train_expert")
        self.model = load_policy(folder / "expert.zip", device=device)
        # SB3 stores VecNormalize as a pickle (its own format); only our own training writes it.
        with open(folder / "vecnormalize.pkl", "rb") as f:
            normalizer = pickle.load(f)
        self.obs_rms, self.clip, self.epsilon = (
            normalizer.obs_rms,
            normalizer.clip_obs,
            normalizer.epsilon,
        )

    def act(self, qpos: np.ndarray, qvel: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """HalfCheetah-v5's observation (qpos without x, qvel), normalised, to an action."""
        obs = np.concatenate([qpos[1:], qvel])
        obs = np.clip(
            (obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.epsilon),
            -self.clip,
            self.clip,
        )
        action, _ = self.model.predict(obs.astype(np.float32), deterministic=deterministic)
        return action
