"""Env factories for the pose translator's data (issue 18): the cheetah's looks, reaching states
that an expert's gait never does (flipped, sitting, legs folded, stalled far down the track).

Each look is collected on its own, with its own seeds: no state is ever rendered in both looks.
For `style-wrap collect --env research/pose_envs.py:scrambled --env-kwarg look=...`:

- ``action_noise``: Gaussian noise of this standard deviation added to every action (the actor's
  own, expert or random), clipped to the action space: an expert that stumbles and falls.
- ``scramble``: the chance that a reset throws the cheetah into a random state instead: root x
  uniform in ``x_range``, pitch uniform in [-pi, pi), joints uniform in their ranges, dropped from
  0.2-0.8 m above its resting height with random velocities. Collect with ``--skip-steps`` so
  the fall settles before frames are kept.
- ``action_scale``: each episode's actions are multiplied by a factor drawn uniformly from this
  range: the same expert, slower and with its own variants of the gait, so that the gait does not
  tell the speed (an encoder fitted on one gait reads the x step from it; pc4).
- ``x_jitter``: while the body is on the floor (``|x| < floor_end``), each step first moves the
  root along x by an amount drawn uniformly from this range, then runs the physics, so the step
  between two recorded frames is the gait's plus the move (pc5). The move changes nothing the
  physics or the reward sees (the ground plane is infinite, the observation has no x, the reward
  reads x around the physics); only the floor under the tracking camera moves, so the gait no
  longer tells the step and an encoder must read it from the floor.
- ``gravity``: each episode's gravity is scaled by a factor drawn uniformly from this range, so
  the body runs lower and crouched (as the students of the shipped distillation run in closed
  loop, where the encoder reads their steps 15-20 % low); only the frames and states are kept,
  so the physics need not be the standard one (pc6).
- ``action_drift``: an Ornstein-Uhlenbeck offset of this stationary standard deviation, with a
  time constant of ``drift_steps`` steps, added to every action (per joint, from 0 at each
  reset): the gait bent for many steps at a time, lower or with the feet folded, where white
  noise only shakes it.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import style_wrap  # noqa: F401  (registers the StyleWrap/ ids)

LOOKS = {"standard": "StyleWrap/HalfCheetah-v5", "restyled": "StyleWrap/HalfCheetahRestyled-v5"}


class Scrambled(gym.Wrapper):
    def __init__(
        self,
        env,
        action_noise: float,
        scramble: float,
        x_range: tuple[float, float],
        action_scale: tuple[float, float] = (1.0, 1.0),
        x_jitter: tuple[float, float] | None = None,
        floor_end: float = 38.0,
        gravity: tuple[float, float] = (1.0, 1.0),
        action_drift: float = 0.0,
        drift_steps: float = 10.0,
    ):
        super().__init__(env)
        self.action_drift, self.drift_steps = action_drift, drift_steps
        self.drift = np.zeros(env.action_space.shape)
        self.gravity = gravity
        self.g0 = env.unwrapped.model.opt.gravity.copy()
        self.x_jitter, self.floor_end = x_jitter, floor_end
        self.action_noise, self.scramble, self.x_range = action_noise, scramble, x_range
        self.action_scale, self.scale = action_scale, 1.0
        self.rng = np.random.default_rng()

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        if self.gravity != (1.0, 1.0):
            scale = float(self.rng.uniform(*self.gravity))
            self.env.unwrapped.model.opt.gravity[:] = self.g0 * scale
        obs, info = self.env.reset(seed=seed, options=options)
        self.drift[:] = 0.0
        if self.action_scale != (1.0, 1.0):  # (drawn only then: the older recipes' seeds hold)
            self.scale = float(self.rng.uniform(*self.action_scale))
        if self.rng.random() < self.scramble:
            base = self.env.unwrapped
            model = base.model
            qpos = base.init_qpos.copy()
            qpos[0] = self.rng.uniform(*self.x_range)
            qpos[1] = self.rng.uniform(0.2, 0.8)
            qpos[2] = self.rng.uniform(-np.pi, np.pi)
            low, high = model.jnt_range[3:, 0], model.jnt_range[3:, 1]
            qpos[3:] = self.rng.uniform(low, high)
            qvel = self.rng.normal(0, 1.0, model.nv)
            base.set_state(qpos, qvel)
            obs = base._get_obs()
        return obs, info

    def step(self, action):
        space = self.env.action_space
        action = np.asarray(action) * self.scale
        if self.action_drift > 0:
            keep = 1.0 - 1.0 / self.drift_steps
            kick = self.action_drift * np.sqrt(1.0 - keep**2)
            self.drift = keep * self.drift + kick * self.rng.normal(size=self.drift.shape)
            action = action + self.drift
        if self.action_noise > 0:
            action = np.clip(
                action + self.rng.normal(0, self.action_noise, space.shape), space.low, space.high
            )
        base = self.env.unwrapped
        if self.x_jitter is not None and abs(float(base.data.qpos[0])) < self.floor_end:
            base.data.qpos[0] += float(self.rng.uniform(*self.x_jitter))
        return self.env.step(np.clip(action, space.low, space.high).astype(space.dtype))


def scrambled(
    look: str = "standard",
    width: int = 64,
    height: int = 64,
    action_noise: float = 0.0,
    scramble: float = 0.0,
    x_range: tuple[float, float] = (-5.0, 60.0),
    action_scale: tuple[float, float] = (1.0, 1.0),
    x_jitter: tuple[float, float] | None = None,
    gravity: tuple[float, float] = (1.0, 1.0),
    action_drift: float = 0.0,
    drift_steps: float = 10.0,
) -> gym.Env:
    if look not in LOOKS:
        raise ValueError(f"look {look!r}; expected one of {sorted(LOOKS)}")
    env = gym.make(LOOKS[look], width=width, height=height)
    jitter = None if x_jitter is None else tuple(float(v) for v in x_jitter)
    return Scrambled(
        env,
        float(action_noise),
        float(scramble),
        tuple(x_range),
        tuple(action_scale),
        jitter,
        gravity=tuple(float(v) for v in gravity),
        action_drift=float(action_drift),
        drift_steps=float(drift_steps),
    )
