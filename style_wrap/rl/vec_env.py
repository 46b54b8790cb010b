"""``VecStyleTransfer``: the stable-baselines3 form of :class:`~style_wrap.wrappers.StyleTransfer`.

Kept apart from :mod:`style_wrap.wrappers` so that a plain gymnasium user never imports
stable-baselines3; ``style_wrap.VecStyleTransfer`` imports this module on first use.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from style_wrap.translator import History
from style_wrap.wrappers import Translating, make_translator, translate_final, translate_obs

__all__ = ["VecStyleTransfer"]


class VecStyleTransfer(Translating, VecEnvWrapper):
    """Translate all frames of a stable-baselines3 ``VecEnv`` in one forward pass.

    Also translates ``infos[i]["terminal_observation"]``, which SB3 uses to bootstrap values at
    truncation. Put it directly on the ``VecEnv``, before ``VecFrameStack`` and
    ``VecTransposeImage``.

    Example:
        >>> import gymnasium as gym, tempfile
        >>> import style_wrap
        >>> from stable_baselines3.common.env_util import make_vec_env
        >>> from stable_baselines3.common.vec_env import VecFrameStack
        >>> from style_wrap.nets import GeneratorConfig
        >>> from style_wrap.weights import GeneratorSpec, save_generator
        >>> spec = GeneratorSpec(GeneratorConfig(ngf=4, n_blocks=1), 32, 32, "restyled", "standard")
        >>> weights = tempfile.mkdtemp() + "/g.safetensors"
        >>> save_generator(weights, spec.architecture.build(), spec)
        >>> venv = make_vec_env("StyleWrap/HalfCheetahRestyled-v5", 2, env_kwargs={"width": 32, "height": 32})
        >>> venv = VecFrameStack(VecStyleTransfer(venv, weights=weights, device="cpu"), 3)
        >>> venv.observation_space
        Box(0, 255, (32, 32, 9), uint8)

    Args:
        venv: The SB3 vec env.
        weights, device, dtype, resize, compile: As in :class:`StyleTransfer`.
    """

    def __init__(
        self,
        venv: VecEnv,
        weights: str | os.PathLike[str],
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        resize: bool = False,
        compile: bool = False,
    ):
        super().__init__(venv)
        self._translator, self._key = make_translator(
            venv.observation_space, weights, device, dtype, resize, compile
        )
        self._history = History()

    def reset(self) -> Any:
        self._history.forget()
        return translate_obs(self._translator, self._key, self.venv.reset(), self._history)

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        ends = [i for i, info in enumerate(infos) if "terminal_observation" in info]
        if ends:
            terminal = [infos[i]["terminal_observation"] for i in ends]
            translated = translate_final(self._translator, self._key, terminal, ends, self._history)
            for i, obs in zip(ends, translated):
                infos[i]["terminal_observation"] = obs
        done_rows = [i for i, d in enumerate(dones) if d and i not in ends]
        if done_rows:  # an episode ended without a terminal observation: still a new start
            self._history.forget(done_rows)
        observations = translate_obs(self._translator, self._key, observations, self._history)
        return observations, rewards, dones, infos
