"""Who acts in an episode: a pixel policy from stacked frames, a state expert, or chance.

Every episode loop of the package (evaluation, collection) drives an actor through the same three
calls: :meth:`reset` with the first frame of an episode, :meth:`act` for the next action, and
:meth:`observe` with each new frame. A pixel policy may see its frames through a translator
(its closed loop across domains) while the env and whoever stores its frames see them raw.

Example:
    >>> import gymnasium as gym
    >>> env = gym.make("HalfCheetah-v5")
    >>> actor = make_actor("random", env)
    >>> actor.act() in env.action_space
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm

from style_wrap.errors import DataError
from style_wrap.hub import resolve_policy
from style_wrap.rl.expert import StateExpert
from style_wrap.rl.policies import FrameStacker, check_policy_file, frames_stacked
from style_wrap.translator import History

__all__ = [
    "Actor",
    "CallableActor",
    "ExpertActor",
    "PixelActor",
    "RandomActor",
    "load_pixel_policy",
    "make_actor",
    "pixel_actor",
]


class Actor:
    """Chooses actions from what it has seen; ``reset``/``observe`` take HWC uint8 frames."""

    def reset(self, frame: np.ndarray) -> None:
        """The first frame of a new episode."""

    def observe(self, frame: np.ndarray) -> None:
        """The frame after the last action."""

    def act(self) -> np.ndarray:
        raise NotImplementedError


class RandomActor(Actor):
    """Samples the env's action space (seed it through ``env.action_space.seed``)."""

    def __init__(self, env: gym.Env):
        self.space = env.action_space

    def act(self) -> np.ndarray:
        return self.space.sample()


class ExpertActor(Actor):
    """A state expert, acting from the MuJoCo state of ``env`` (frames are not read)."""

    def __init__(self, expert: StateExpert, env: gym.Env, deterministic: bool = True):
        self.expert, self.data, self.deterministic = expert, env.unwrapped.data, deterministic

    def act(self) -> np.ndarray:
        return self.expert.act(self.data.qpos, self.data.qvel, deterministic=self.deterministic)


class _Seeing(Actor):
    """An actor that sees frames through an optional translator, one episode's history at a
    time (a temporal translator starts afresh at every episode's first frame)."""

    translator: Any = None
    _history: History | None = None

    def _seen(self, frame: np.ndarray, start: bool = False) -> np.ndarray:
        if self.translator is None:
            return frame
        if self._history is None or start:
            self._history = History()
        return self.translator(frame[None], self._history)[0]


class PixelActor(_Seeing):
    """A pixel policy reading its last ``n`` frames stacked as SB3's ``VecFrameStack`` does.

    Args:
        model: The SB3 model.
        frame_shape: ``(H, W, 3)`` of the env's frames.
        translator: A :class:`~style_wrap.translator.Translator` the policy sees frames through.
        deterministic: Take the mean action (as the policy is evaluated) instead of a sample.
    """

    def __init__(
        self,
        model: BaseAlgorithm,
        frame_shape: tuple[int, ...],
        translator: Any = None,
        deterministic: bool = True,
    ):
        self.model, self.translator, self.deterministic = model, translator, deterministic
        self.stacker = FrameStacker(frames_stacked(model, frame_shape[-1]), frame_shape)
        if translator is not None:
            translator.check_frame_shape(tuple(frame_shape), "the env's frames")

    def reset(self, frame: np.ndarray) -> None:
        self.stack = self.stacker.reset(self._seen(frame, start=True))

    def observe(self, frame: np.ndarray) -> None:
        self.stack = self.stacker.push(self._seen(frame))

    def act(self) -> np.ndarray:
        action, _ = self.model.predict(self.stack, deterministic=self.deterministic)
        return action


class CallableActor(_Seeing):
    """Any pixel policy as a Python callable: ``policy(frame) -> action`` on each HWC uint8
    frame (through ``translator`` when given). An object with a ``reset()`` method has it called
    at every episode's first frame (a controller that keeps state between frames)."""

    def __init__(self, policy: Callable[[np.ndarray], Any], translator: Any = None):
        self.policy, self.translator = policy, translator

    def reset(self, frame: np.ndarray) -> None:
        if callable(getattr(self.policy, "reset", None)):
            self.policy.reset()  # type: ignore[attr-defined]
        self.frame = self._seen(frame, start=True)

    def observe(self, frame: np.ndarray) -> None:
        self.frame = self._seen(frame)

    def act(self) -> np.ndarray:
        return np.asarray(self.policy(self.frame))


def load_pixel_policy(
    policy: str | os.PathLike[str], frame_size: tuple[int, int] | None = None
) -> BaseAlgorithm | Callable[[np.ndarray], Any]:
    """A pixel policy argument, loaded: ``"module:function"`` / ``"file.py:function"`` (a callable
    taking a frame; a class there is instantiated once), else a policy file or shipped name
    (SB3), checked to read frames of ``frame_size``."""
    from style_wrap.making import load_object

    obj = load_object(str(policy), "policy") if ":" in str(policy) else None
    if obj is not None:
        obj = obj() if isinstance(obj, type) else obj
        if not callable(obj):
            raise DataError(f"policy {str(policy)!r} is {type(obj).__name__}; expected a callable")
        return obj
    return check_policy_file(resolve_policy(policy), frame_size)


def pixel_actor(
    policy: BaseAlgorithm | Callable[[np.ndarray], Any],
    frame_shape: tuple[int, ...],
    translator: Any = None,
    deterministic: bool = True,
) -> Actor:
    """The actor of a loaded pixel policy (:func:`load_pixel_policy`)."""
    if isinstance(policy, BaseAlgorithm):
        return PixelActor(policy, frame_shape, translator, deterministic)
    if translator is not None:
        translator.check_frame_shape(tuple(frame_shape), "the env's frames")
    return CallableActor(policy, translator)


def make_actor(
    policy: str | os.PathLike[str],
    env: gym.Env,
    frame_shape: tuple[int, ...] | None = None,
    *,
    translator: str | os.PathLike[str] | None = None,
    deterministic: bool = False,
) -> Actor:
    """The actor a policy argument names: ``"random"``, a state-expert folder (see
    :func:`style_wrap.rl.expert.train_expert`), or a pixel policy (a shipped policy's name, a
    ``.safetensors`` policy, an SB3 ``.zip``, or a callable ``"module:function"``).
    ``translator`` (pixel policies only) is a generator file or shipped name the policy sees each
    frame through. ``frame_shape`` defaults to the env's observation space.
    """
    policy = str(policy)
    if deterministic and policy == "random":
        raise DataError("deterministic=True with policy 'random'; expected a policy to act")
    if translator is not None and (policy == "random" or Path(policy).is_dir()):
        raise DataError(
            f"translator {str(translator)!r} with policy {policy!r}: expected a pixel policy "
            "file, the only actor that reads frames"
        )
    if policy == "random":
        return RandomActor(env)
    if Path(policy).is_dir():
        if not hasattr(getattr(env.unwrapped, "data", None), "qpos"):
            raise DataError(f"state expert {policy!r} needs a MuJoCo env; {env} has no state")
        return ExpertActor(StateExpert(policy), env, deterministic)
    shape = tuple(frame_shape or env.observation_space.shape or ())
    model = load_pixel_policy(policy, shape[:2] if len(shape) == 3 else None)
    seen = None
    if translator is not None:
        from style_wrap.translator import Translator

        seen = Translator(translator, device="cpu")
    return pixel_actor(model, shape, seen, deterministic)
