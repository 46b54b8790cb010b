"""The pose translator's renderer, drawn through the camera (issue 18, a prototype).

The first renderer (pose_translator.Renderer) drew the floor as a per-row texture fixed for one
camera height. The standard camera tracks the centre of mass in x AND z (``trackcom``), so a body
that crouches or falls lowers the camera and changes the floor's perspective; and the standard
floor reflects (reflectance 0.5) and takes the body's shadow. This renderer draws each of those
from geometry, with the look's own model for supervision (never a frame of another look):
- a small MLP maps the pose to the 3-D ends of every capsule (relative to the root's x) and the
  camera's x offset and height;
- capsules are projected through the camera's fixed orientation and field of view three times:
  as they are, mirrored in the ground plane (the reflection) and dropped onto it (the shadow;
  the light points straight down), each drawn as soft lines;
- every floor pixel's ray meets the ground plane at (X, Y); the checker is the product of two
  square waves of the floor's period in X and Y, each harmonic damped by the pixel's footprint
  on the ground (the mip-mapping of the texture), coloured by per-pixel maps (the lighting and
  the sky's reflection depend on the view ray only, which the fixed orientation fixes per
  pixel); beyond the floor's edge, the sky's per-pixel map;
- a conv painter colours the body and paints the reflection and the shadow onto the floor.

Its fit (and the encoder's) is `style-wrap fit-pose` now (style_wrap.train.posefit, with the
camera read by `look_camera`); research/pose/pc1 and pc3 came from this script's earlier fit, the
same losses. What is left here reads those folders' renderers.
"""

from __future__ import annotations

import torch

import style_wrap  # noqa: F401
from style_wrap.posenet import CameraRenderer


def load_renderer(state: dict[str, torch.Tensor]) -> CameraRenderer:
    """A fitted renderer from its state; the sizes are read off the tensors (the first fits
    also stored them, and a kind marker, as buffers, which are dropped)."""
    state = {k: v.float() for k, v in state.items() if k not in ("kind_camera", "width", "n_geoms")}
    n_geoms = (len(state["kp_mean"]) - 2) // 6
    ren = CameraRenderer(n_geoms, state["paint.0.weight"].shape[0], len(state["gains"]))
    ren.load_state_dict(state)
    return ren
