"""Small synthetic domains made inside the tests: the same shapes in two colour schemes."""

from __future__ import annotations

import numpy as np

from style_wrap.train.data import save_frames

SCHEMES = {
    "A": ((200, 40, 40), (30, 30, 160)),  # red shapes on blue
    "B": ((40, 200, 40), (230, 220, 60)),  # green shapes on yellow
}


def shapes_and_poses(n: int, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of random rectangles, ``(n, size, size)``, and each one's "qpos"
    ``(0, y, x, h, w)`` (a first entry that, like the cheetah's x, a frame does not show)."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), bool)
    poses = np.zeros((n, 5))
    for m, pose in zip(masks, poses):
        y, x = rng.integers(0, size - 4, 2)
        h, w = rng.integers(3, size // 2, 2)
        m[y : y + h, x : x + w] = True
        pose[1:] = y, x, h, w
    return masks, poses


def shapes(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    """Boolean masks of random rectangles, ``(n, size, size)``."""
    return shapes_and_poses(n, size, seed)[0]


def paint(masks: np.ndarray, scheme: str) -> np.ndarray:
    """Frames (uint8 NHWC) drawing ``masks`` in a domain's colours."""
    fg, bg = (np.array(c, np.uint8) for c in SCHEMES[scheme])
    return np.where(masks[..., None], fg, bg).astype(np.uint8)


def make_domains(root, n: int = 64, size: int = 16, state: bool = False) -> tuple[str, str]:
    """Two unpaired dataset folders (different shapes in each) under ``root``; with ``state``,
    each frame's rectangle is stored as its qpos."""
    a, b = str(root / "A"), str(root / "B")
    for folder, scheme, seed in ((a, "A", 1), (b, "B", 2)):
        masks, poses = shapes_and_poses(n, size, seed)
        extra = {"qpos": poses, "qvel": np.zeros_like(poses)} if state else {}
        save_frames(folder, paint(masks, scheme), name=scheme, **extra)
    return a, b


def pose_weights(path, size: int = 64, seed: int = 0) -> str:
    """A random translator through the pose (7 capsules, narrow nets) looking down at the
    ground like the cheetah's camera, written to ``path``; its encoder's x step is large enough
    that the floor it draws moves from frame to frame."""
    import math

    import torch

    from style_wrap.posenet import PoseConfig
    from style_wrap.weights import GeneratorSpec, save_generator

    config = PoseConfig(n_geoms=7, encoder_width=4, renderer_width=4, size=size)
    torch.manual_seed(seed)
    net = config.build()
    tilt = math.radians(20)  # the camera's axes as columns: right, up, backwards
    axes = torch.tensor(
        [
            [1.0, 0.0, 0.0],
            [0.0, math.sin(tilt), -math.cos(tilt)],
            [0.0, math.cos(tilt), math.sin(tilt)],
        ]
    )
    net.renderer.set_camera(axes, -3.0, size / 1.2, 40.0, 1.0)
    with torch.no_grad():
        net.renderer.kp_mean[1] = 0.7  # the camera's height above the ground
        net.renderer.kp_std[:2] = 0.1
        net.encoder.std[-1] = 3.0  # the x step, so that history shows
    spec = GeneratorSpec(config, size, size, "restyled", "standard")
    save_generator(path, net, spec)
    return str(path)
