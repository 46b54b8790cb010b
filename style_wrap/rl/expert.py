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
from style_wrap.rl.policies import PolicyError, load_policy, save_policy, save_policy_weights

__all__ = ["EXPERT_PPO", "StateExpert", "convert_expert", "train_expert"]

#: The expert folder's pickle-free files: the policy, and VecNormalize's statistics.
EXPERT_FILES = ("expert.safetensors", "vecnormalize.npz")

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

    Writes ``expert.safetensors`` and ``vecnormalize.npz`` (the policy and the normaliser's
    statistics, pickle-free: what :class:`StateExpert` reads) and ``expert.zip`` (SB3's own
    format, to train on) into ``out``; returns ``out``. The expert is a teacher for the pixel
    policy, not shipped.
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
    model.learn(total_timesteps=steps, progress_bar=False, callback=_Progress(steps))
    save_policy(model, out / "expert.zip")
    _write_expert(out, model, venv)
    return out


def _progress_callback() -> type:
    from stable_baselines3.common.callbacks import BaseCallback

    class Progress(BaseCallback):
        """A tqdm bar of environment steps (SB3's own bar needs ``rich``)."""

        def __init__(self, total: int):
            super().__init__()
            self.total = total

        def _on_training_start(self) -> None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc="expert", unit="step")

        def _on_step(self) -> bool:
            self.bar.update(self.training_env.num_envs)
            return True

        def _on_training_end(self) -> None:
            self.bar.close()

    return Progress


def _Progress(total: int) -> object:  # noqa: N802  (a class made on first use: SB3 is heavy)
    return _progress_callback()(total)


def _write_expert(out: Path, model: PPO, normalizer: object) -> None:
    save_policy_weights(model, out / EXPERT_FILES[0])
    rms = normalizer.obs_rms  # type: ignore[attr-defined]
    with atomic_path(out / EXPERT_FILES[1], suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                obs_mean=rms.mean,
                obs_var=rms.var,
                obs_count=np.float64(rms.count),
                clip_obs=np.float64(normalizer.clip_obs),  # type: ignore[attr-defined]
                epsilon=np.float64(normalizer.epsilon),  # type: ignore[attr-defined]
            )


def convert_expert(folder: str | os.PathLike[str]) -> Path:
    """Write the pickle-free files of an expert folder that has only SB3's pickled ones.

    It unpickles ``expert.zip`` and ``vecnormalize.pkl`` (which can run code): run it only on a
    folder you trust (``style-wrap expert --convert FOLDER``). Returns the folder.
    """
    import pickle

    folder = Path(folder)
    for name in ("expert.zip", "vecnormalize.pkl"):
        if not (folder / name).is_file():
            raise PolicyError(f"{folder}: no {name}; expected a folder of SB3's expert files")
    with open(folder / "vecnormalize.pkl", "rb") as f:
        normalizer = pickle.load(f)  # the user named this folder as trusted
    _write_expert(folder, load_policy(folder / "expert.zip"), normalizer)
    return folder


class StateExpert:
    """A state-based SB3 expert with its VecNormalize statistics, acting from a MuJoCo state."""

    def __init__(self, folder: str | os.PathLike[str], device: str = "cpu"):
        folder = Path(folder)
        if not folder.is_dir():
            raise PolicyError(f"expert folder {str(folder)!r} does not exist")
        for name in EXPERT_FILES:
            if (folder / name).is_file():
                continue
            if (folder / "vecnormalize.pkl").is_file():
                raise PolicyError(
                    f"{folder}: no {name}, only SB3's pickled expert.zip and "
                    "vecnormalize.pkl, which are not opened (a pickle can run code); if you "
                    f"trust the folder, convert it once: style-wrap expert --convert {folder}"
                )
            raise PolicyError(f"{folder}: no {name}; expected a folder made by `style-wrap expert`")
        self.model = load_policy(folder / EXPERT_FILES[0], device=device)
        try:
            with np.load(folder / EXPERT_FILES[1], allow_pickle=False) as z:
                mean, var = z["obs_mean"].astype(np.float64), z["obs_var"].astype(np.float64)
                self.clip, self.epsilon = float(z["clip_obs"]), float(z["epsilon"])
        except (OSError, KeyError, ValueError) as err:
            raise PolicyError(
                f"{folder / EXPERT_FILES[1]}: unreadable statistics ({err})"
            ) from None
        size = self.model.observation_space.shape
        if (
            mean.shape != size
            or var.shape != size
            or not (np.isfinite(mean).all() and (var >= 0).all())
        ):
            raise PolicyError(
                f"{folder / EXPERT_FILES[1]}: statistics of shape {mean.shape}, {var.shape}; "
                f"expected finite means and non-negative variances of shape {size}"
            )
        self.mean, self.var = mean, var

    def act(self, qpos: np.ndarray, qvel: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """HalfCheetah-v5's observation (qpos without x, qvel), normalised, to an action."""
        obs = np.concatenate([qpos[1:], qvel])
        obs = np.clip(
            (obs - self.mean) / np.sqrt(self.var + self.epsilon),
            -self.clip,
            self.clip,
        )
        action, _ = self.model.predict(obs.astype(np.float32), deterministic=deterministic)
        return action
