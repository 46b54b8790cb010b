"""A domain pair nobody here made: gymnasium's InvertedPendulum, seen as pixels, in two looks.

- ``standard``: the env's own rendering, ``size x size`` (a state env rendered to pixels).
- ``recoloured``: the same scene with red and blue swapped and the colours washed out, a look the
  pixel controller below cannot read.
- ``render_state``: one physics state drawn in either look, the paired-render hook of
  ``style-wrap eval --render-pair``.
- ``Controller``: a pixel policy tuned on the standard look (it finds the pole and the cart by
  colour and balances with a PD law); ``style-wrap`` takes it as
  ``examples/new_pair.py:Controller``.

These are env factories and a callable policy, the forms every ``style-wrap`` verb takes
(``--env examples/new_pair.py:recoloured``, ``--policy examples/new_pair.py:Controller``).
docs/training.md ("Your own pair") walks through collecting, training, judging and using a
translator between the two looks. Run this file to see the controller in both looks:

    python examples/new_pair.py
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

SIZE = 64


def standard(size: int = SIZE, **kwargs) -> gym.Env:
    """InvertedPendulum-v5 whose observations are its rendered frames, ``size x size`` RGB."""
    from style_wrap.making import PixelObservation

    env = gym.make(
        "InvertedPendulum-v5", render_mode="rgb_array", width=size, height=size, **kwargs
    )
    return PixelObservation(env, size)


class Recolour(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Red and blue swapped, colours washed towards grey: the same scene, another look."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)

    def observation(self, frame: np.ndarray) -> np.ndarray:
        return (frame[..., ::-1].astype(np.float32) * 0.7 + 60).astype(np.uint8)


def recoloured(size: int = SIZE, **kwargs) -> gym.Env:
    """The standard pixel env in the recoloured look."""
    return Recolour(standard(size, **kwargs))


_DRAWN: dict[tuple[str, int], gym.Env] = {}


def render_state(look: str, qpos: np.ndarray, qvel: np.ndarray, size: int = SIZE) -> np.ndarray:
    """One physics state drawn in ``look`` ("target": standard, "source": recoloured): the
    paired-render hook of ``style-wrap eval --render-pair examples/new_pair.py:render_state``."""
    key = ("standard", size)
    if key not in _DRAWN:
        _DRAWN[key] = standard(size)
        _DRAWN[key].reset(seed=0)
    env = _DRAWN[key]
    env.unwrapped.set_state(np.asarray(qpos, np.float64), np.asarray(qvel, np.float64))
    frame = env.observation(None)
    return Recolour.observation(None, frame) if look == "source" else frame  # type: ignore[arg-type]


def read_scene(frame: np.ndarray) -> tuple[float, float]:
    """The pole's angle (radians, 0 upright) and the cart's x (-1..1) from a standard frame."""
    f = frame.astype(np.int16)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    ys, xs = np.nonzero((g > r + 30) & (b > r + 30))  # the pole: teal
    cart = np.nonzero((r > b + 30) & (g > b + 30))[1]  # the cart: olive
    if len(xs) < 3 or not len(cart):
        return 0.0, 0.0
    top, bottom = ys <= np.percentile(ys, 30), ys >= np.percentile(ys, 70)
    dx, dy = xs[top].mean() - xs[bottom].mean(), ys[bottom].mean() - ys[top].mean()
    half = frame.shape[1] / 2
    return float(np.arctan2(dx, max(dy, 1e-3))), float((cart.mean() - half) / half)


class Controller:
    """A PD balance on what :func:`read_scene` finds; call ``reset()`` at each episode."""

    gains = (10.0, 30.0, -3.0, -8.0)  # angle, its change per step, cart x, its change

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.last: tuple[float, float] | None = None

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        angle, x = read_scene(frame)
        last = self.last or (angle, x)
        self.last = (angle, x)
        k = self.gains
        u = k[0] * angle + k[1] * (angle - last[0]) + k[2] * x + k[3] * (x - last[1])
        return np.clip(np.array([u], np.float32), -3.0, 3.0)


def episode_return(env: gym.Env, seed: int, policy: Controller | None = None) -> float:
    """One episode of the controller (fresh unless given) in ``env``."""
    policy = policy or Controller()
    frame, _ = env.reset(seed=seed)
    policy.reset()
    total, done = 0.0, False
    while not done:
        frame, reward, terminated, truncated, _ = env.step(policy(frame))
        total, done = total + float(reward), terminated or truncated
    return total


if __name__ == "__main__":
    for name, make in (("standard", standard), ("recoloured", recoloured)):
        returns = [episode_return(make(), seed) for seed in range(3)]
        print(f"{name:10s} returns {returns}")
