"""The cheetah domains as pixel environments.

:class:`CheetahPixelEnv` is gymnasium's HalfCheetah-v5 (same physics, reward, termination and
``info``) whose observation is the frame of the tracking camera, HWC uint8. Its look comes from a
:class:`~style_wrap.envs.styles.Style`. :mod:`style_wrap.envs.states` draws any given state in
any domain (the paired ground truth that evaluation uses).

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
    "ENV_IDS",
    "register_envs",
    "set_state",
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

    def _segments(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
        """Per pixel, the id of the geom drawn there and whether a geom is (MuJoCo segmentation)."""
        for attempt in range(2):
            self.render(data)  # opens the context if needed
            assert self._renderer is not None
            self._renderer.enable_segmentation_rendering()
            try:
                self._renderer.update_scene(data, self.camera)
                ids, types = np.moveaxis(self._renderer.render(), -1, 0)
                break
            except IndexError:
                # Software EGL, after many contexts in one process, has been seen to read back a
                # colour frame from the segmentation pass (MuJoCo then indexes its id table with
                # colours). A fresh context draws it right; a second failure is raised.
                if attempt:
                    raise
                self.close()
            finally:
                if self._renderer is not None:
                    self._renderer.disable_segmentation_rendering()
        geom = types == mujoco.mjtObj.mjOBJ_GEOM
        return np.where(geom, ids, 0), geom

    def body_mask(self, data: mujoco.MjData) -> np.ndarray:
        """Boolean ``(height, width)`` mask of the pixels that show a body (not the floor/sky)."""
        ids, geom = self._segments(data)
        return geom & (self.model.geom_bodyid[ids] > 0)

    def floor_mask(self, data: mujoco.MjData) -> np.ndarray:
        """Boolean ``(height, width)`` mask of the pixels that show the floor (world geoms)."""
        ids, geom = self._segments(data)
        return geom & (self.model.geom_bodyid[ids] == 0)

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
        set_state(self.model, data, qpos, qvel)
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


def set_state(model: mujoco.MjModel, data: mujoco.MjData, qpos: Any, qvel: Any) -> None:
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
