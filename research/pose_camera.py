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

    PYTHONPATH=research python research/pose_camera.py --b DIR... --out D [--init D0]
    # then copy an encoder.safetensors into D and probe it:
    PYTHONPATH=research python research/pose_translator.py probe D --oracle
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
import torch
from pose_translator import load, pose9, save_module, to_model
from safetensors.torch import load_file

import style_wrap  # noqa: F401
from style_wrap.posenet import CameraRenderer, segment_maps


def camera_geometry(env_id: str, qpos: np.ndarray, size: int = 64):
    """From one look's own model: the camera's fixed frame (its y, axes, focal length in pixels,
    the floor's half extent) and, per state, the camera's x offset from the root's x, its height,
    and the capsules' 3-D ends with x relative to the root's x, (N, G, 2, 3)."""
    env = gym.make(env_id, width=size, height=size)
    model, data = env.unwrapped.model, env.unwrapped.data
    cam = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "track")
    geoms = [
        g
        for g in range(model.ngeom)
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE and model.geom_bodyid[g] > 0
    ]
    plane = next(g for g in range(model.ngeom) if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE)
    f = (size / 2) / np.tan(np.deg2rad(model.cam_fovy[cam]) / 2)
    cam_x = np.empty(len(qpos), np.float32)
    cam_z = np.empty(len(qpos), np.float32)
    ends = np.empty((len(qpos), len(geoms), 2, 3), np.float32)
    for i, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_forward(model, data)
        cam_x[i] = data.cam_xpos[cam][0] - q[0]
        cam_z[i] = data.cam_xpos[cam][2]
        for j, g in enumerate(geoms):
            half = data.geom_xmat[g].reshape(3, 3)[:, 2] * model.geom_size[g][1]
            ends[i, j, 0] = data.geom_xpos[g] - half
            ends[i, j, 1] = data.geom_xpos[g] + half
        ends[i, :, :, 0] -= q[0]
    frame = {
        "cam_y": float(data.cam_xpos[cam][1]),
        "axes": data.cam_xmat[cam].reshape(3, 3).astype(np.float32).copy(),
        "focal": float(f),
        "extent": float(model.geom_size[plane][0]),
    }
    env.close()
    return frame, cam_x, cam_z, ends


def load_renderer(state: dict[str, torch.Tensor]) -> CameraRenderer:
    """A fitted renderer from its state; the sizes are read off the tensors (the first fits
    also stored them, and a kind marker, as buffers, which are dropped)."""
    state = {k: v.float() for k, v in state.items() if k not in ("kind_camera", "width", "n_geoms")}
    n_geoms = (len(state["kp_mean"]) - 2) // 6
    ren = CameraRenderer(n_geoms, state["paint.0.weight"].shape[0], len(state["gains"]))
    ren.load_state_dict(state)
    return ren


def fit(args) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frames, qpos, _ = load(args.b)
    x = to_model(frames)
    pose = torch.from_numpy(pose9(qpos))
    frame, cam_x, cam_z, ends = camera_geometry(args.b_env, qpos)
    cam_x, cam_z, ends = map(torch.from_numpy, (cam_x, cam_z, ends))
    root = torch.from_numpy(qpos[:, 0].astype(np.float32))
    target = torch.cat([cam_x[:, None], cam_z[:, None], ends.flatten(1)], 1)
    ren = CameraRenderer(ends.shape[1], args.width)
    axes = torch.from_numpy(frame["axes"])
    ren.set_camera(axes, frame["cam_y"], frame["focal"], frame["extent"], args.period)
    if args.init:
        ren = load_renderer(load_file(str(Path(args.init) / "renderer.safetensors")))
    else:
        ren.mean.copy_(pose.mean(0))
        ren.std.copy_(pose.std(0).clamp_min(1e-3))
        ren.kp_mean.copy_(target.mean(0))
        ren.kp_std.copy_(target.std(0).clamp_min(1e-3))
    held = torch.arange(len(x)) % 20 == 0
    train_i = torch.nonzero(~held).flatten()
    opt = torch.optim.Adam(ren.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.steps)
    t0 = time.time()
    for step in range(args.steps):
        i = train_i[torch.randint(len(train_i), (args.batch,))]
        # The painter learns from the true geometry, the pose's geometry from the model's.
        drawn = ren.draw(ends[i], root[i], cam_x[i], cam_z[i])
        near = segment_maps(ren.project(ends[i], cam_x[i], cam_z[i]), ren.size, 2.5)
        weight = 1 + args.body_weight * near.amax(1, keepdim=True)
        loss = ((drawn - x[i]).abs() * weight).mean() / weight.mean()
        got = ren.kp((pose[i] - ren.mean) / ren.std)
        loss = loss + ((got - (target[i] - ren.kp_mean) / ren.kp_std) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 500 == 0 or step == args.steps - 1:
            with torch.no_grad():
                j = torch.nonzero(held).flatten()[:200]
                e, cx, cz = ren.geometry(pose[j])
                y = ren.draw(e, root[j], cx, cz)
                mse = ((y - x[j]) ** 2).mean() / 4
                px = ren.project(ends[j], cam_x[j], cam_z[j])
                m = segment_maps(px, ren.size, 2.5).amax(1, keepdim=True) > 0.1
                body = (((y - x[j]) ** 2) * m).sum() / (m.sum() * 3) / 4
                kp_err = (ren.project(e, cx, cz) - px).norm(dim=-1).mean()
            print(
                f"cam {step} loss {loss.item():.4f} held psnr {-10 * torch.log10(mse):.2f} "
                f"body {-10 * torch.log10(body):.2f} kp err {kp_err:.2f}px "
                f"cam z err {(cz - cam_z[j]).abs().mean():.3f} blur "
                f"{torch.nn.functional.softplus(ren.blur).item():.2f} {time.time() - t0:.0f}s",
                flush=True,
            )
            save_module(ren, out / "renderer.safetensors")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--b", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--period", type=float, default=80 / 60)
    p.add_argument("--b-env", default="StyleWrap/HalfCheetah-v5")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--body-weight", type=float, default=10.0)
    p.add_argument("--init", default="", help="a fitted folder to warm start from")
    fit(p.parse_args())


if __name__ == "__main__":
    main()
