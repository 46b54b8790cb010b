"""Observation wrappers that translate every frame into the look a policy was trained on.

Three forms share one :class:`~style_wrap.translator.Translator`; each gives exactly the
translator's frames for the same raw frames (a frame alone and inside a batch may differ by one
grey level of float rounding):

* :class:`StyleTransfer`, a ``gymnasium.ObservationWrapper`` for one env;
* :class:`VectorStyleTransfer`, a gymnasium vector wrapper (all sub-env frames in one pass,
  final observations of ``SAME_STEP`` autoreset included);
* :class:`VecStyleTransfer`, a stable-baselines3 ``VecEnvWrapper`` (``infos[i]
  ["terminal_observation"]`` included).

They go *first*, right on the env, before any frame stacking (``VecFrameStack``,
``FrameStackObservation``) and before ``VecTransposeImage``: the generator reads single HWC frames.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.utils import RecordConstructorArgs
from gymnasium.vector import VectorEnv, VectorWrapper
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from style_wrap.spaces import image_key, image_space
from style_wrap.translator import Translator

__all__ = ["StyleTransfer", "VectorStyleTransfer", "VecStyleTransfer"]


def _translate_obs(translator: Translator, key: str | None, obs: Any) -> Any:
    if key is None:
        return translator(obs)
    return {**obs, key: translator(obs[key])}


def _translate_many(translator: Translator, key: str | None, observations: list[Any]) -> list[Any]:
    """Translate separate observations (final or terminal ones) in one batch."""
    frames = translator(np.stack([o if key is None else o[key] for o in observations]))
    return [f if key is None else {**o, key: f} for o, f in zip(observations, frames)]


def _make_translator(
    space: gym.Space, weights: Any, device: Any, dtype: Any, resize: bool, compile: bool
) -> tuple[Translator, str | None]:
    key = image_key(space)
    translator = Translator(weights, device, dtype, resize=resize, compile=compile)
    translator.check_frame_shape(image_space(space).shape, "observation space frames")
    return translator, key


class StyleTransfer(gym.ObservationWrapper, RecordConstructorArgs):
    """Translate each observation with a CycleGAN generator; the observation space is unchanged.

    The frame (an HWC uint8 image, or the ``"pixels"`` entry of a dict observation) goes through
    the generator on ``device`` and comes back as an HWC uint8 frame of the same shape.
    A vector version exists: :class:`VectorStyleTransfer` (and :class:`VecStyleTransfer` for
    stable-baselines3).

    Example:
        >>> import gymnasium as gym, tempfile
        >>> import style_wrap
        >>> from style_wrap.nets import GeneratorConfig
        >>> from style_wrap.weights import GeneratorSpec, save_generator
        >>> spec = GeneratorSpec(GeneratorConfig(ngf=4, n_blocks=1), 64, 64, "restyled", "standard")
        >>> weights = tempfile.mkdtemp() + "/g.safetensors"
        >>> save_generator(weights, spec.architecture.build(), spec)
        >>> env = gym.make("StyleWrap/HalfCheetahRestyled-v5")
        >>> env.observation_space
        Box(0, 255, (64, 64, 3), uint8)
        >>> wrapped = StyleTransfer(env, weights=weights, device="cpu")
        >>> wrapped.observation_space
        Box(0, 255, (64, 64, 3), uint8)
        >>> obs, _ = wrapped.reset(seed=0)
        >>> obs in wrapped.observation_space
        True

    Args:
        env: The env whose frames to translate.
        weights: A ``.safetensors`` generator or a shipped model name (``list_pretrained()``).
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``.
        dtype: Compute dtype; ``None``: float16 on CUDA, float32 on CPU.
        resize: Allow frames of another size than trained on (resized in and out).
        compile: Use ``torch.compile`` on the generator.

    Change logs:
        * v0.1.0 - Initially added.
    """

    def __init__(
        self,
        env: gym.Env,
        weights: str | os.PathLike[str],
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        resize: bool = False,
        compile: bool = False,
    ):
        RecordConstructorArgs.__init__(
            self, weights=weights, device=str(device), dtype=dtype, resize=resize, compile=compile
        )
        gym.ObservationWrapper.__init__(self, env)
        self._translator, self._key = _make_translator(
            env.observation_space, weights, device, dtype, resize, compile
        )

    @property
    def translator(self) -> Translator:
        """The generator on its device."""
        return self._translator

    def observation(self, observation: Any) -> Any:
        return _translate_obs(self._translator, self._key, observation)


class VectorStyleTransfer(VectorWrapper):
    """Translate all sub-env frames of a gymnasium vector env in one forward pass.

    With ``autoreset_mode=SAME_STEP`` the final observations in ``infos["final_obs"]`` are
    translated too (with ``NEXT_STEP``, the default, they are ordinary observations).

    Example:
        >>> import gymnasium as gym, tempfile
        >>> import style_wrap
        >>> from style_wrap.nets import GeneratorConfig
        >>> from style_wrap.weights import GeneratorSpec, save_generator
        >>> spec = GeneratorSpec(GeneratorConfig(ngf=4, n_blocks=1), 32, 32, "restyled", "standard")
        >>> weights = tempfile.mkdtemp() + "/g.safetensors"
        >>> save_generator(weights, spec.architecture.build(), spec)
        >>> envs = gym.make_vec("StyleWrap/HalfCheetahRestyled-v5", 3, width=32, height=32)
        >>> envs = VectorStyleTransfer(envs, weights=weights, device="cpu")
        >>> envs.observation_space
        Box(0, 255, (3, 32, 32, 3), uint8)
        >>> envs.reset(seed=0)[0].shape
        (3, 32, 32, 3)

    Args:
        env: The vector env.
        weights, device, dtype, resize, compile: As in :class:`StyleTransfer`.
    """

    def __init__(
        self,
        env: VectorEnv,
        weights: str | os.PathLike[str],
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        resize: bool = False,
        compile: bool = False,
    ):
        super().__init__(env)
        self._translator, self._key = _make_translator(
            env.single_observation_space, weights, device, dtype, resize, compile
        )

    @property
    def translator(self) -> Translator:
        return self._translator

    def observations(self, observations: Any) -> Any:
        """Translate a batch of observations (stacked on the first axis)."""
        return _translate_obs(self._translator, self._key, observations)

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        observations, infos = self.env.reset(seed=seed, options=options)
        return self.observations(observations), infos

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        if "final_obs" in infos:
            infos = {**infos, "final_obs": self._translate_final(infos)}
        return self.observations(observations), rewards, terminations, truncations, infos

    def _translate_final(self, infos: dict[str, Any]) -> np.ndarray:
        final = infos["final_obs"]
        mask = np.asarray(infos.get("_final_obs", [o is not None for o in final]), bool)
        out = final.copy()
        index = np.flatnonzero(mask)
        if len(index):
            for i, obs in zip(
                index, _translate_many(self._translator, self._key, list(final[index]))
            ):
                out[i] = obs
        return out


class VecStyleTransfer(VecEnvWrapper):
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
        self._translator, self._key = _make_translator(
            venv.observation_space, weights, device, dtype, resize, compile
        )

    @property
    def translator(self) -> Translator:
        return self._translator

    def reset(self) -> Any:
        return _translate_obs(self._translator, self._key, self.venv.reset())

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        ends = [i for i, info in enumerate(infos) if "terminal_observation" in info]
        if ends:
            terminal = [infos[i]["terminal_observation"] for i in ends]
            for i, obs in zip(ends, _translate_many(self._translator, self._key, terminal)):
                infos[i]["terminal_observation"] = obs
        return _translate_obs(self._translator, self._key, observations), rewards, dones, infos
