"""Observation wrappers that translate every frame into the look a policy was trained on.

Three forms share one :class:`~style_wrap.translator.Translator`; each gives exactly the
translator's frames for the same raw frames (a frame alone and inside a batch may differ by one
grey level of float rounding):

* :class:`StyleTransfer`, a ``gymnasium.ObservationWrapper`` for one env;
* :class:`VectorStyleTransfer`, a gymnasium ``VectorObservationWrapper`` (all sub-env frames in
  one pass, final observations of ``SAME_STEP`` autoreset included);
* ``VecStyleTransfer``, its stable-baselines3 twin, lives in :mod:`style_wrap.rl.vec_env` (and is
  importable as ``style_wrap.VecStyleTransfer``), so that a plain gymnasium user never imports
  stable-baselines3.

With a temporal generator each keeps a :class:`~style_wrap.translator.History` (a row per
sub-env): it is forgotten at ``reset`` and, in the vector forms, per sub-env where an episode
ends, so every episode's first frame is translated as a start.

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
from gymnasium.vector import AutoresetMode, VectorEnv, VectorObservationWrapper, VectorWrapper

from style_wrap.spaces import image_key, image_space
from style_wrap.translator import History, Translator

__all__ = [
    "StyleTransfer",
    "VectorStyleTransfer",
    "make_translator",
    "translate_many",
    "translate_obs",
]


def translate_obs(
    translator: Translator, key: str | None, obs: Any, history: History | None = None
) -> Any:
    """Translate an observation: the frame itself, or its ``key`` entry of a dict."""
    if key is None:
        return translator(obs, history)
    return {**obs, key: translator(obs[key], history)}


def translate_many(
    translator: Translator, key: str | None, observations: list[Any], history: History | None = None
) -> list[Any]:
    """Translate separate observations (final or terminal ones) in one batch."""
    frames = translator(np.stack([o if key is None else o[key] for o in observations]), history)
    return [f if key is None else {**o, key: f} for o, f in zip(observations, frames)]


def translate_final(
    translator: Translator,
    key: str | None,
    observations: list[Any],
    rows: list[int],
    history: History,
) -> list[Any]:
    """The last observations of the episodes that ended at ``rows``, translated with those rows'
    history (which is then forgotten: their next frames start episodes)."""
    final = translate_many(translator, key, observations, history.rows(rows))
    history.forget(rows)
    return final


def make_translator(
    space: gym.Space, weights: Any, device: Any, dtype: Any, resize: bool, compile: bool
) -> tuple[Translator, str | None]:
    """The translator for observations of ``space``, checked against its frames, and the key
    of the image inside a dict space (``None`` for an image space)."""
    key = image_key(space)
    translator = Translator(weights, device, dtype, resize=resize, compile=compile)
    translator.check_frame_shape(image_space(space).shape, "observation space frames")
    return translator, key


def _warn_if_other_look(env: gym.Env, translator: Translator) -> None:
    """Warn when the env says which cheetah look it draws and the weights read another."""
    from style_wrap.envs.styles import DOMAINS

    style = getattr(env.unwrapped, "style", None)
    look, source = getattr(style, "name", None), translator.spec.domain_from
    if look in DOMAINS and source in DOMAINS and look != source:
        import warnings

        warnings.warn(
            f"the env draws the {look!r} look, but the weights translate {source!r} -> "
            f"{translator.spec.domain_to!r}; expected weights whose source look is {look!r}",
            stacklevel=3,
        )


class Translating:
    """What the three wrappers share: their :class:`Translator` (``translator``) and the
    history of a temporal one."""

    _translator: Translator
    _key: str | None
    _history: History

    @property
    def translator(self) -> Translator:
        """The generator on its device."""
        return self._translator


class StyleTransfer(Translating, gym.ObservationWrapper, RecordConstructorArgs):
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
        render_translated: bool = False,
    ):
        RecordConstructorArgs.__init__(
            self,
            weights=weights,
            device=str(device),
            dtype=dtype,
            resize=resize,
            compile=compile,
            render_translated=render_translated,
        )
        gym.ObservationWrapper.__init__(self, env)
        self._translator, self._key = make_translator(
            env.observation_space, weights, device, dtype, resize, compile
        )
        self.render_translated = render_translated
        self._history = History()
        _warn_if_other_look(env, self._translator)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._history.forget()  # a temporal translator starts the episode afresh
        return super().reset(**kwargs)

    def observation(self, observation: Any) -> Any:
        return translate_obs(self._translator, self._key, observation, self._history)

    def render(self) -> Any:
        """The env's render; with ``render_translated``, translated as the policy sees it (what
        ``RecordVideo`` then records; a temporal translator reads the observations' history,
        which the render does not change)."""
        frame = self.env.render()
        if self.render_translated and isinstance(frame, np.ndarray) and frame.ndim == 3:
            return self._translator(np.ascontiguousarray(frame[..., :3]), self._history.copy())
        return frame


class VectorStyleTransfer(Translating, VectorObservationWrapper):
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
        >>> envs.observation_space
        Box(0, 255, (3, 32, 32, 3), uint8)
        >>> envs = VectorStyleTransfer(envs, weights=weights, device="cpu")
        >>> envs.observation_space
        Box(0, 255, (3, 32, 32, 3), uint8)
        >>> envs.reset(seed=0)[0].shape
        (3, 32, 32, 3)

    Args:
        env: The vector env.
        weights, device, dtype, resize, compile: As in :class:`StyleTransfer`.

    Change logs:
        * v0.1.0 - Initially added.
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
        # gymnasium's VectorObservationWrapper refuses SAME_STEP autoreset, since it cannot know
        # how to map infos["final_obs"]; this wrapper can (step translates them), so it keeps the
        # parent's reset and step and skips only that check.
        VectorWrapper.__init__(self, env)
        self._translator, self._key = make_translator(
            env.single_observation_space, weights, device, dtype, resize, compile
        )
        self._history = History()
        self._ended = np.zeros(env.num_envs, bool)  # NEXT_STEP: these sub-envs reset this step

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._history.forget()
        self._ended[:] = False
        return super().reset(**kwargs)

    def observations(self, observations: Any) -> Any:
        """Translate a batch of observations (stacked on the first axis)."""
        return translate_obs(self._translator, self._key, observations, self._history)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        ended = np.logical_or(terminations, truncations)
        if "final_obs" in infos:  # SAME_STEP autoreset: the episodes' last frames
            infos = {**infos, "final_obs": self._translate_final(infos)}
        if self._ended.any():  # NEXT_STEP: these observations are the reset ones
            self._history.forget(np.flatnonzero(self._ended))
        next_step = self.env.metadata.get("autoreset_mode") == AutoresetMode.NEXT_STEP
        self._ended = ended if next_step else np.zeros_like(ended)
        return self.observations(observations), rewards, terminations, truncations, infos

    def _translate_final(self, infos: dict[str, Any]) -> np.ndarray:
        final = infos["final_obs"]
        mask = np.asarray(infos.get("_final_obs", [o is not None for o in final]), bool)
        out = final.copy()
        index = np.flatnonzero(mask)
        if len(index):
            rows = index.tolist()
            translated = translate_final(
                self._translator, self._key, list(final[index]), rows, self._history
            )
            for i, obs in zip(index, translated):
                out[i] = obs
        return out
