"""The cheetah domains as pixel environments, and rendering of a given physics state.

:class:`CheetahPixelEnv` is gymnasium's HalfCheetah-v5 (same physics, reward, termination and
``info``) whose observation is the frame of the tracking camera, HWC uint8. Its look comes from a
:class:`~style_wrap.envs.styles.Style`. :func:`render_state` draws any (qpos, qvel) in any
domain: the paired ground truth that evaluation uses.

Example:
    >>> import gymnasium as gym
    >>> import style_wrap  # registers the ids
    >>> env = gym.make("StyleWrap/HalfCheetahRestyled-v5")
    >>> env.observation_space
    Box(0, 255, (64, 64, 3), uint8)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, obs.dtype, sorted(info)
    ((64, 64, 3), dtype('uint8'), ['x_position'])
    >>> env.close()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv
from gymnasium.spaces import Box

from style_wrap.envs.headless import render_backend_error
from style_wrap.envs.mjcf import compile_model
from style_wrap.envs.styles import Style, resolve_style
from style_wrap.errors import StyleError

__all__ = [
    "CheetahPixelEnv",
    "FrameRenderer",
    "render_state",
    "body_mask",
    "is_upside_down",
    "ENV_IDS",
    "register_envs",
]

#: The registered ids and the domain each draws.
ENV_IDS = {
    "StyleWrap/HalfCheetah-v5": "standard",
    "StyleWrap/HalfCheetahRestyled-v5": "restyled",
    "StyleWrap/HalfCheetahRandomized-v5": "randomized",
}


def _check_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise StyleError(f"{name} = {value!r}; expected a positive integer number of pixels")
    return int(value)


class FrameRenderer:
    """Draws frames of one MuJoCo model from one camera at a fixed size.

    The GL context opens on the first frame, so building one is cheap and needs no display.

    Example:
        >>> import mujoco
        >>> from style_wrap.envs.mjcf import compile_model
        >>> from style_wrap.envs.styles import get_style
        >>> model = compile_model(get_style("standard"))
        >>> data = mujoco.MjData(model)
        >>> mujoco.mj_forward(model, data)
        >>> FrameRenderer(model, 32, 48).render(data).shape
        (48, 32, 3)
    """

    def __init__(self, model: mujoco.MjModel, width: int, height: int, camera: str = "track"):
        self.width = _check_size("width", width)
        self.height = _check_size("height", height)
        if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            raise StyleError(f"camera {camera!r} is not in the model")
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        self.model = model
        self.camera = camera
        self._renderer: mujoco.Renderer | None = None

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """The camera's frame of ``data`` (positions must be current: run ``mj_forward``)."""
        if self._renderer is None:
            try:
                self._renderer = mujoco.Renderer(self.model, self.height, self.width)
            except Exception as err:  # MuJoCo raises several types for a missing GL backend
                raise render_backend_error(err) from err
        self._renderer.update_scene(data, self.camera)
        return self._renderer.render()

    def body_mask(self, data: mujoco.MjData) -> np.ndarray:
        """Boolean ``(height, width)`` mask of the pixels that show a body (not the floor/sky)."""
        self.render(data)  # opens the context if needed
        assert self._renderer is not None
        self._renderer.enable_segmentation_rendering()
        try:
            self._renderer.update_scene(data, self.camera)
            ids, types = np.moveaxis(self._renderer.render(), -1, 0)
        finally:
            self._renderer.disable_segmentation_rendering()
        geom = types == mujoco.mjtObj.mjOBJ_GEOM
        return geom & (self.model.geom_bodyid[np.where(geom, ids, 0)] > 0)

    def close(self) -> None:
        """Release the GL context."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


class CheetahPixelEnv(HalfCheetahEnv):
    """HalfCheetah-v5 seen through the tracking camera, drawn in a chosen visual domain.

    Reward, termination and ``info`` are HalfCheetah-v5's; only the observation differs: an
    ``(height, width, 3)`` uint8 frame. Registered as ``StyleWrap/HalfCheetah-v5``,
    ``StyleWrap/HalfCheetahRestyled-v5`` and ``StyleWrap/HalfCheetahRandomized-v5``.

    Example:
        >>> env = CheetahPixelEnv("randomized", style_seed=7, width=84, height=84)
        >>> env.style.name, env.observation_space.shape
        ('randomized-7', (84, 84, 3))
        >>> env.close()

    Args:
        style: A domain name (``standard``, ``restyled``, ``randomized``), a ``Style``, or a dict
            of style fields over the standard style.
        style_seed: The seed of a ``randomized`` style (default 0).
        physical_geometry: Make the style's thickness and proportions physical too (a dynamics
            gap on top of the visual one). Off by default: physics then equals the standard's.
        width: Frame width in pixels.
        height: Frame height in pixels.
        render_profile: ``fast`` (default: shadow map 1024, no multisampling) or ``stock``.
        camera_name: The camera that makes the observation.
        render_mode: ``None`` or ``rgb_array`` (the camera's frame at the observation size).
        **kwargs: Passed on to ``HalfCheetahEnv`` (``reset_noise_scale``, ``ctrl_cost_weight``...).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(
        self,
        style: str | Style | Mapping[str, Any] = "standard",
        style_seed: int | None = None,
        physical_geometry: bool = False,
        width: int = 64,
        height: int = 64,
        render_profile: str = "fast",
        camera_name: str = "track",
        render_mode: str | None = None,
        **kwargs: Any,
    ):
        self.style = resolve_style(style, style_seed)
        self.physical_geometry = bool(physical_geometry)
        self.render_profile = render_profile
        width, height = _check_size("width", width), _check_size("height", height)
        if render_mode not in (None, "rgb_array"):
            raise StyleError(f"render_mode = {render_mode!r}; expected None or 'rgb_array'")
        if "xml_file" in kwargs:
            raise StyleError("xml_file is set by the style; expected no xml_file argument")
        self._frames: FrameRenderer | None = None
        self._camera_name = camera_name
        super().__init__(width=width, height=height, **kwargs)
        utils.EzPickle.__init__(
            self,
            style,
            style_seed,
            physical_geometry,
            width,
            height,
            render_profile,
            camera_name,
            render_mode,
            **kwargs,
        )
        # HalfCheetahEnv overwrites the class metadata with modes this env does not offer.
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": int(np.round(1.0 / self.dt))}
        self.render_mode = render_mode
        self._frames = FrameRenderer(self.model, width, height, camera_name)
        self.observation_space = Box(0, 255, (height, width, 3), np.uint8)

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        model = compile_model(
            self.style, physical=self.physical_geometry, profile=self.render_profile
        )
        return model, mujoco.MjData(model)

    def _get_obs(self) -> np.ndarray:
        if self._frames is None:  # HalfCheetahEnv's own constructor asks before we are ready
            return super()._get_obs()
        _sync_positions(self.model, self.data)
        return self._frames.render(self.data)

    def render(self) -> np.ndarray | None:  # type: ignore[override]
        """The camera's current frame when ``render_mode="rgb_array"``, else ``None``."""
        if self.render_mode != "rgb_array":
            return None
        assert self._frames is not None
        _sync_positions(self.model, self.data)
        return self._frames.render(self.data)

    def render_state(self, qpos: np.ndarray, qvel: np.ndarray | None = None) -> np.ndarray:
        """Draw a physics state in this env's look without disturbing the running episode."""
        data = mujoco.MjData(self.model)
        _set_state(self.model, data, qpos, qvel)
        assert self._frames is not None
        return self._frames.render(data)

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()
        super().close()


def _sync_positions(model: mujoco.MjModel, data: mujoco.MjData) -> None:
    # mj_step leaves body and camera poses at the start of its last substep; recompute them
    # for the current qpos so a frame shows the state the step reached (and equals render_state).
    # Only position-derived quantities change, which the next mj_step recomputes anyway.
    mujoco.mj_kinematics(model, data)
    mujoco.mj_comPos(model, data)
    mujoco.mj_camlight(model, data)


def _set_state(model: mujoco.MjModel, data: mujoco.MjData, qpos: Any, qvel: Any) -> None:
    qpos = np.asarray(qpos, dtype=np.float64)
    qvel = np.zeros(model.nv) if qvel is None else np.asarray(qvel, dtype=np.float64)
    if qpos.shape != (model.nq,) or qvel.shape != (model.nv,):
        raise StyleError(
            f"state shapes qpos {qpos.shape}, qvel {qvel.shape}; "
            f"expected ({model.nq},) and ({model.nv},)"
        )
    data.qpos[:] = qpos
    data.qvel[:] = qvel
    mujoco.mj_forward(model, data)


class _StateRenderer:
    def __init__(self, style: Style, width: int, height: int, profile: str, physical: bool):
        self.model = compile_model(style, physical=physical, profile=profile)
        self.data = mujoco.MjData(self.model)
        self.frames = FrameRenderer(self.model, width, height)


_state_renderers: dict[tuple[Any, ...], _StateRenderer] = {}


def _state_renderer(
    style: Any, seed: int | None, width: int, height: int, profile: str, physical: bool
) -> _StateRenderer:
    resolved = resolve_style(style, seed)
    key = (
        resolved,
        _check_size("width", width),
        _check_size("height", height),
        profile,
        bool(physical),
    )
    renderer = _state_renderers.get(key)
    if renderer is None:
        renderer = _state_renderers[key] = _StateRenderer(
            resolved, width, height, profile, physical
        )
    return renderer


def render_state(
    style: str | Style | Mapping[str, Any],
    qpos: Any,
    qvel: Any = None,
    *,
    style_seed: int | None = None,
    width: int = 64,
    height: int = 64,
    render_profile: str = "fast",
    physical_geometry: bool = False,
) -> np.ndarray:
    """Draw one physics state of the cheetah in any domain, as its pixel env would.

    The model and GL context of each (style, size, profile) are built once and reused.

    Example:
        >>> import numpy as np
        >>> qpos = np.zeros(9)
        >>> a, b = render_state("standard", qpos), render_state("restyled", qpos)
        >>> a.shape, bool(np.abs(a.astype(int) - b).mean() > 10)
        ((64, 64, 3), True)

    Args:
        style: A domain name, a ``Style``, or a dict of style fields.
        qpos: Joint positions, shape ``(9,)`` (rootx first).
        qvel: Joint velocities, shape ``(9,)``; zeros when omitted (they do not change the frame).
        style_seed: The seed of a ``randomized`` style.
        width: Frame width.
        height: Frame height.
        render_profile: ``fast`` or ``stock``.
        physical_geometry: As in :class:`CheetahPixelEnv`.

    Returns:
        An ``(height, width, 3)`` uint8 frame.
    """
    renderer = _state_renderer(style, style_seed, width, height, render_profile, physical_geometry)
    _set_state(renderer.model, renderer.data, qpos, qvel)
    return renderer.frames.render(renderer.data)


def body_mask(
    style: str | Style | Mapping[str, Any],
    qpos: Any,
    *,
    style_seed: int | None = None,
    width: int = 64,
    height: int = 64,
    dilate: int = 1,
) -> np.ndarray:
    """Pixels of the cheetah's body in a frame of ``qpos``, from MuJoCo's segmentation rendering.

    Example:
        >>> import numpy as np
        >>> mask = body_mask("standard", np.zeros(9))
        >>> mask.shape, mask.dtype, bool(0.005 < mask.mean() < 0.3)
        ((64, 64), dtype('bool'), True)

    Args:
        style: A domain name, a ``Style``, or a dict of style fields.
        qpos: Joint positions, shape ``(9,)``.
        style_seed: The seed of a ``randomized`` style.
        width: Frame width.
        height: Frame height.
        dilate: Grow the mask by this many pixels (a square neighbourhood), so it covers the
            anti-aliased edge of the body as well.
    """
    renderer = _state_renderer(style, style_seed, width, height, "fast", False)
    _set_state(renderer.model, renderer.data, qpos, None)
    mask = renderer.frames.body_mask(renderer.data)
    for _ in range(dilate):
        grown = mask.copy()
        grown[1:] |= mask[:-1]
        grown[:-1] |= mask[1:]
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
        mask = grown
    return mask


def is_upside_down(pitch: Any) -> Any:
    """Whether the cheetah lies on its back, from the root's pitch (``qpos[2]``, as in MuJoCo's
    planar walkers): past 90 degrees. Elementwise for an array of pitches.

    Example:
        >>> bool(is_upside_down(3.0)), is_upside_down(np.array([0.0, -2.0])).tolist()
        (True, [False, True])
    """
    return np.cos(pitch) < 0


def rollout_states(
    n_sequences: int, length: int, *, seed: int = 0, warmup: int = 0, every: int = 1
) -> np.ndarray:
    """``(n_sequences, length, 9)`` qpos from seeded random-action rollouts of the cheetah.

    Sequence ``i`` resets with seed ``seed + i``, skips ``warmup`` steps, then keeps the state
    after every ``every``-th step.

    Example:
        >>> rollout_states(2, 3, seed=1, every=5).shape
        (2, 3, 9)
    """
    env = CheetahPixelEnv("standard", width=8, height=8)
    env.action_space.seed(seed)
    out = np.zeros((n_sequences, length, env.model.nq))
    for i in range(n_sequences):
        env.reset(seed=seed + i)
        for _ in range(warmup):
            env.step(env.action_space.sample())
        for t in range(length):
            for _ in range(every):
                env.step(env.action_space.sample())
            out[i, t] = env.data.qpos
    env.close()
    return out


def register_envs() -> None:
    """Register the pixel cheetah ids with gymnasium (done on ``import style_wrap``)."""
    for env_id, domain in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            env_id,
            entry_point="style_wrap.envs.cheetah:CheetahPixelEnv",
            kwargs={"style": domain},
            max_episode_steps=1000,
            reward_threshold=4800.0,
        )
