"""A translator through the pose (issue 18, a prototype): restyled frame -> pose -> standard frame.

Two networks, each fitted on ONE look's own frames and recorded states, never on a pair of the
same state in both looks, and no policy anywhere:
- an encoder reads, from two consecutive restyled frames, the later one's pose (height, pitch,
  six joints) and the root's x step between them;
- a renderer draws a standard frame from a pose and the root's x: the standard model's capsules
  (their ends in the image, regressed from the pose, supervised by the standard look's own model
  projected through its camera) drawn as soft lines and painted by a small conv net, over a
  background whose floor is a texture on the ground plane (harmonics of the floor's period, per
  image row), slid to the camera's position (the root's x plus the pose's centre-of-mass
  offset), so its checker keeps its phase and moves with the camera and ends where the floor
  ends.
At run time the root's x is the sum of the encoder's steps, from 0 at each reset.

    PYTHONPATH=research python research/pose_translator.py probe D [--members ...] [--seeds ...]

D is a folder of an encoder.safetensors (and renderer.safetensors; --renderer takes it from
another) or a translator file. Both fits are `style-wrap fit-pose` now (style_wrap.train.posefit);
the research folders pt2 ... pc3 came from the earlier `fit` subcommand of this script, the same
losses and schedule.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file

import style_wrap  # noqa: F401
from style_wrap.posenet import PoseEncoder as Encoder
from style_wrap.posenet import floor_lock, painter, pose_mlp, segment_maps
from style_wrap.train.data import load_frames
from style_wrap.train.posefit import pose_vector as pose9


def look_geometry(env_id: str, qpos: np.ndarray, size: int = 64):
    """From one look's own model, for each state: the camera's x offset from the root's x (the
    tracking camera follows the centre of mass, which the pose moves), and both ends of every
    capsule of the body projected into the camera's image, in pixels, (N, G, 2, 2)."""
    env = gym.make(env_id, width=size, height=size)
    model, data = env.unwrapped.model, env.unwrapped.data
    cam = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "track")
    geoms = [
        g
        for g in range(model.ngeom)
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE and model.geom_bodyid[g] > 0
    ]
    f = (size / 2) / np.tan(np.deg2rad(model.cam_fovy[cam]) / 2)
    data.qpos[:] = model.qpos0
    mujoco.mj_forward(model, data)
    rest = float(data.cam_xpos[cam][0])
    offset = np.empty(len(qpos), np.float32)
    ends = np.empty((len(qpos), len(geoms), 2, 2), np.float32)
    for i, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_forward(model, data)
        offset[i] = data.cam_xpos[cam][0] - rest - q[0]
        axes = data.cam_xmat[cam].reshape(3, 3)
        for j, g in enumerate(geoms):
            half = data.geom_xmat[g].reshape(3, 3)[:, 2] * model.geom_size[g][1]
            for e, point in enumerate((data.geom_xpos[g] - half, data.geom_xpos[g] + half)):
                rel = (point - data.cam_xpos[cam]) @ axes
                ends[i, j, e] = (size / 2 + f * rel[0] / -rel[2], size / 2 - f * rel[1] / -rel[2])
    env.close()
    return offset, ends


def load(folders: list[str]):
    parts = [load_frames(f) for f in folders]
    frames = np.concatenate([p.frames for p in parts])
    qpos = np.concatenate([p.qpos for p in parts])
    steps = np.concatenate([p.steps for p in parts])
    return frames, qpos, steps


def to_model(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1


class Renderer(nn.Module):
    """A pose and the root's x to a frame of the look it was fitted on: the body's capsules
    (their projected ends, from the pose) drawn as soft lines and painted by a small conv net
    (colour and cover) over a background whose floor is a texture on the ground plane, slid to
    the camera's position (the root's x plus the pose's centre-of-mass offset)."""

    def __init__(
        self,
        slopes: torch.Tensor,
        period: float,
        n_geoms: int,
        width: int = 32,
        harmonics: int = 8,
        extent: float = 40.0,
        size: int = 64,
    ):
        super().__init__()
        w = width
        self.register_buffer("slopes", slopes.float())
        self.register_buffer("period", torch.tensor(float(period)))
        self.register_buffer("extent", torch.tensor(float(extent)))
        self.register_buffer("width", torch.tensor(width))
        self.register_buffer("n_geoms", torch.tensor(n_geoms))
        self.register_buffer("mean", torch.zeros(9))
        self.register_buffer("std", torch.ones(9))
        self.register_buffer("kp_mean", torch.zeros(4 * n_geoms + 1))
        self.register_buffer("kp_std", torch.ones(4 * n_geoms + 1))
        self.harmonics, self.size = harmonics, size
        self.kp = pose_mlp(4 * n_geoms + 1)
        self.paint = painter(n_geoms, w, 4)
        h = size
        self.static = nn.Parameter(torch.zeros(3, h, size))
        self.floor = nn.Parameter(torch.zeros(h, 3, 2 * harmonics))
        self.beyond = nn.Parameter(torch.zeros(h, 3))

    def geometry(self, pose):
        """The pose's capsule ends (N, G, 2, 2) and the camera's offset from the root's x."""
        out = self.kp((pose - self.mean) / self.std) * self.kp_std + self.kp_mean
        return out[:, 1:].view(len(pose), -1, 2, 2), out[:, 0]

    def background(self, position: torch.Tensor) -> torch.Tensor:
        h, w = self.static.shape[1:]
        cols = torch.arange(w, device=position.device, dtype=torch.float32) - (w - 1) / 2
        s = self.slopes.view(1, h, 1)
        safe = torch.where(s.abs() > 1e-6, s, torch.ones_like(s))
        u = position.float().view(-1, 1, 1) - cols.view(1, 1, w) / safe  # (N, H, W)
        ground = (s.abs() > 1e-6).float()
        k = torch.arange(1, self.harmonics + 1, device=u.device, dtype=torch.float32)
        phase = u.unsqueeze(1) * (2 * torch.pi / self.period) * k.view(1, -1, 1, 1)
        waves = torch.cat([phase.sin(), phase.cos()], 1)  # (N, 2K, H, W)
        tex = torch.einsum("nkhw,hck->nchw", waves, self.floor)
        on = torch.sigmoid((self.extent - u) / 0.05).unsqueeze(1) * ground.unsqueeze(1)
        beyond = self.beyond.T.view(1, 3, h, 1) * ground.unsqueeze(1)
        return self.static.unsqueeze(0) + on * tex + (1 - on) * beyond

    def draw(self, ends: torch.Tensor, camera_x: torch.Tensor) -> torch.Tensor:
        body = self.paint(segment_maps(ends, self.size))
        cover = torch.sigmoid(body[:, 3:])
        return (cover * torch.tanh(body[:, :3]) + (1 - cover) * self.background(camera_x)).clamp(
            -1, 1
        )

    def forward(self, pose: torch.Tensor, root_x: torch.Tensor) -> torch.Tensor:
        ends, offset = self.geometry(pose)
        return self.draw(ends, root_x + offset)


def consecutive(steps: np.ndarray) -> np.ndarray:
    """Indices i >= 1 whose frame follows frame i - 1 in one episode."""
    i = np.arange(1, len(steps))
    return i[steps[1:] == steps[:-1] + 1]


def folder_renderer(folder: Path) -> nn.Module:
    """A research folder's renderer: drawn through the camera (pc1 on) or per row (pt2, pt3)."""
    rs = load_file(str(folder / "renderer.safetensors"))
    if "kind_camera" in rs:  # drawn through the camera (pose_camera.py)
        from pose_camera import load_renderer

        return load_renderer(rs)
    ren = Renderer(rs["slopes"], float(rs["period"]), int(rs["n_geoms"]), int(rs["width"]))
    ren.load_state_dict(rs)
    return ren


# Columns of the encoder's pose (height, sin and cos of the pitch, six joints) by name.
TRUE_PARTS = {"z": slice(0, 1), "pitch": slice(1, 3), "joints": slice(3, 9)}


class PoseTranslator:
    """Restyled frames in, standard frames out, one episode at a time."""

    def __init__(
        self,
        folder: str,
        true_position: bool = False,
        oracle: bool = False,
        sim: bool = False,
        renderer: str = "",
        lock: str = "",
        true: tuple[str, ...] = (),
        joint_noise: float = 0.0,
        step_from: str = "",
    ):
        d = Path(folder)
        if d.suffix == ".safetensors":  # a translator file (style-wrap fit-pose, or exported)
            from style_wrap.weights import load_generator

            net, _ = load_generator(d)
            self.enc, self.ren = net.encoder, net.renderer
        else:
            self.enc = Encoder()
            self.enc.load_state_dict(load_file(str(d / "encoder.safetensors")))
        if renderer or d.suffix != ".safetensors":
            self.ren = folder_renderer(Path(renderer or folder))
        self.enc.eval()
        self.ren.eval()
        self.true_position, self.oracle, self.sim = true_position, oracle, sim
        self.true = tuple(true)  # parts of the pose taken from the truth: z, pitch, joints
        self.joint_noise = joint_noise  # Gaussian noise (rad) added to the joints drawn
        self.joint_errors: list[float] = []  # the encoder's mean absolute joint error per frame
        self.trace: list[np.ndarray] | None = None  # a list (probe --trace): per frame the
        # true qpos, then the encoder's pose and step
        self.step_enc = None  # another file's encoder, whose x step replaces this one's
        if step_from:
            from style_wrap.weights import load_generator

            self.step_enc = load_generator(step_from)[0].encoder.float().eval()
        self.lock = None
        if lock:  # a renderer of the SOURCE look (fit-pose with the source env as target)
            from style_wrap.weights import load_generator

            self.lock = load_generator(lock)[0].renderer.eval()
        self.reset()

    def reset(self):
        self.prev, self.root_x = None, 0.0
        self.noise = torch.Generator().manual_seed(0)

    @torch.no_grad()
    def __call__(self, frame: np.ndarray, truth_x: float | None = None, qpos=None) -> np.ndarray:
        if self.oracle:  # the renderer alone, drawing the true state
            y = self.ren(torch.from_numpy(pose9(qpos[None])), torch.tensor([float(qpos[0])]))
            return ((y[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
        x = to_model(frame[None])
        got = self.enc(x if self.prev is None else self.prev, x)
        if self.step_enc is not None:
            got = got.clone()
            got[:, 9] = self.step_enc(x if self.prev is None else self.prev, x)[:, 9]
        if self.prev is not None:
            self.root_x += float(got[0, 9])
        if self.lock is not None and abs(self.root_x) < 38:
            self.root_x = float(
                floor_lock(self.lock, got[:, :9], x, torch.tensor([self.root_x]))[0]
            )
        self.prev = x
        if qpos is not None:
            truth = torch.from_numpy(pose9(qpos[None]))
            self.joint_errors.append(float((got[0, 3:9] - truth[0, 3:9]).abs().mean()))
            if self.trace is not None:
                self.trace.append(np.concatenate([qpos, got[0].numpy()]))
        if self.true and qpos is not None:  # parts of the estimate replaced by the truth
            got = got.clone()
            for part in self.true:
                cols = TRUE_PARTS[part]
                got[:, cols] = truth[:, cols]
        if self.joint_noise:
            got = got.clone()
            got[:, 3:9] += self.joint_noise * torch.randn(got[:, 3:9].shape, generator=self.noise)
        root = truth_x if (self.true_position and truth_x is not None) else self.root_x
        if self.sim:  # the encoder alone: the standard look's simulator draws its estimate
            from style_wrap.envs import render_state

            g = got[0].numpy()
            q = np.concatenate([[root, g[0], np.arctan2(g[1], g[2])], g[3:9]])
            return render_state("standard", q, width=64, height=64)
        y = self.ren(got[:, :9], torch.tensor([root]))
        return ((y[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()


def export(args) -> None:
    """An encoder and a renderer as one style_wrap generator file (fp16), for StyleTransfer."""
    from pose_camera import load_renderer

    from style_wrap.posenet import PoseConfig
    from style_wrap.weights import GeneratorSpec, save_generator

    enc = load_file(str(Path(args.folder) / "encoder.safetensors"))
    ren = load_renderer(load_file(str(Path(args.renderer or args.folder) / "renderer.safetensors")))
    config = PoseConfig(
        n_geoms=(len(ren.kp_mean) - 2) // 6,
        encoder_width=enc["features.0.weight"].shape[0],
        renderer_width=ren.paint[0].weight.shape[0],
        harmonics=len(ren.gains),
    )
    net = config.build()
    net.encoder.load_state_dict({k: v.float() for k, v in enc.items()})
    net.renderer.load_state_dict(ren.state_dict())
    extra = {
        "env_from": "StyleWrap/HalfCheetahRestyled-v5",
        "env_to": "StyleWrap/HalfCheetah-v5",
        "encoder": args.folder,
        "renderer": args.renderer or args.folder,
        "policy_in_loss": "none",
    }
    spec = GeneratorSpec(config, config.size, config.size, "restyled", "standard", 0, extra)
    save_generator(args.out, net, spec, dtype=torch.float16)
    print("wrote", args.out, flush=True)


def add_lock(args) -> None:
    """A translator file with a floor lock added: ``base``'s encoder and renderer, and as the
    lock the renderer of ``lock`` (a `style-wrap fit-pose` run whose target was the SOURCE look,
    e.g. ``--target-env StyleWrap/HalfCheetahRestyled-v5``), written as one fp16 file."""
    from dataclasses import replace

    from style_wrap.weights import load_generator, read_spec, save_generator

    base, spec = load_generator(args.base)
    lock, _ = load_generator(args.lock)
    config = replace(base.config, lock_geoms=lock.config.n_geoms)
    net = config.build()
    net.encoder.load_state_dict(base.encoder.state_dict())
    net.renderer.load_state_dict(base.renderer.state_dict())
    net.lock.load_state_dict(lock.renderer.state_dict())
    lock_spec = read_spec(args.lock).extra
    extra = {**spec.extra, "lock": f"{Path(args.lock).parent.name}/{Path(args.lock).name}"}
    extra["lock_target"] = lock_spec.get("target", "")
    spec = replace(spec, architecture=config, extra=extra)
    save_generator(args.out, net, spec, dtype=torch.float16)
    print("wrote", args.out, flush=True)


def probe(args) -> None:
    from floor_need_probe import MEMBERS

    from style_wrap.envs import render_state
    from style_wrap.rl.policies import FrameStacker, frames_stacked, load_policy

    torch.set_num_threads(1)
    tr = PoseTranslator(
        args.folder,
        args.true_position,
        args.oracle,
        args.sim,
        args.renderer,
        args.lock,
        args.true,
        args.joint_noise,
        args.step_from,
    )
    if args.trace:
        tr.trace = []
    env_id = "StyleWrap/HalfCheetah-v5" if args.oracle else "StyleWrap/HalfCheetahRestyled-v5"
    with open(args.clean) as f:
        clean = json.load(f)
    results = {}
    for name in args.members or MEMBERS:
        policy = load_policy(name, device="cpu")
        got, ratios, joint_errors = [], [], []
        for seed in args.seeds:
            env = gym.make(env_id, width=64, height=64)
            obs, _ = env.reset(seed=seed)
            tr.reset()

            # The encoder's x steps against the true ones while the body is on the floor.
            sums = {"est": 0.0, "true": 0.0, "last": 0.0}

            def seen(frame, env=env, sums=sums):
                q = env.unwrapped.data.qpos
                before, started = tr.root_x, tr.prev is not None
                out = tr(frame, float(q[0]), q.copy())
                if abs(sums["last"]) < 38 and started:
                    sums["est"] += tr.root_x - before
                    sums["true"] += float(q[0]) - sums["last"]
                sums["last"] = float(q[0])
                return out

            tr.joint_errors.clear()
            stacker = FrameStacker(frames_stacked(policy, 3), obs.shape)
            stack, total, done, t = stacker.reset(seen(obs)), 0.0, False, 0
            errs = []
            while not done:
                action, _ = policy.predict(stack, deterministic=True)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
                out = seen(obs)
                if args.psnr and t % 10 == 0:
                    truth = render_state("standard", env.unwrapped.data.qpos, width=64, height=64)
                    mse = ((out.astype(np.float32) - truth) ** 2).mean()
                    errs.append(10 * np.log10(255**2 / max(mse, 1e-6)))
                stack = stacker.push(out)
                t += 1
            env.close()
            got.append(total)
            joint_errors.append(float(np.mean(tr.joint_errors)) if tr.joint_errors else np.nan)
            ratios.append(sums["est"] / sums["true"] if sums["true"] > 1 else float("nan"))
            print(
                name,
                seed,
                round(total, 1),
                f"psnr {np.mean(errs):.2f}" if errs else "",
                f"x {env.unwrapped.data.qpos[0]:.1f} track {tr.root_x:.1f}",
                f"step on the floor {ratios[-1]:.3f}",
                f"joint error {joint_errors[-1]:.4f}",
                flush=True,
            )
        c = clean["members"][name]  # floor_need_probe's or tolerance_probe's (--damage none)
        base = float(np.mean(c["none"]["got"] if "none" in c else c["clean"]))
        results[name] = {"clean": base, "got": got, "ratio": float(np.mean(got) / base)}
        results[name]["floor_step_ratio"] = ratios  # the encoder's summed x steps / the truth's
        results[name]["joint_error"] = joint_errors  # its mean absolute joint error (rad)
        print(name, "ratio", round(results[name]["ratio"], 3), flush=True)
    if args.trace:  # every member's frames in order: 9 qpos columns, then the encoder's 10
        np.save(args.trace, np.stack(tr.trace).astype(np.float32))
    ratios = [r["ratio"] for r in results.values()]
    print(f"mean {np.mean(ratios):.3f} min {np.min(ratios):.3f}", flush=True)
    if args.out:
        Path(args.out).write_text(
            json.dumps({"folder": args.folder, "seeds": args.seeds, "members": results}, indent=1)
        )


def graft(args) -> None:
    """A translator file with ``encoder``'s encoder and ``renderer``'s renderer (and lock): an
    encoder fitted from scratch (`fit-pose --renderer-steps 1`) judged with a kept renderer."""
    from dataclasses import replace

    from style_wrap.weights import load_generator, save_generator

    enc, enc_spec = load_generator(args.encoder)
    ren, spec = load_generator(args.renderer)
    config = replace(ren.config, encoder_width=enc.config.encoder_width)
    net = config.build()
    net.encoder.load_state_dict(enc.encoder.state_dict())
    net.renderer.load_state_dict(ren.renderer.state_dict())
    if config.lock_geoms:
        net.lock.load_state_dict(ren.lock.state_dict())
    extra = {**spec.extra, "encoder": args.encoder, "renderer": args.renderer}
    extra["source"] = enc_spec.extra.get("source", "")
    spec = replace(spec, architecture=config, extra=extra)
    save_generator(args.out, net, spec, dtype=torch.float16)
    print("wrote", args.out, flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("probe")
    q.add_argument("folder")
    q.add_argument("--members", nargs="+", default=None)
    q.add_argument("--seeds", type=int, nargs="+", default=[700, 701, 702])
    q.add_argument("--clean", default="research/zoo/eval/floor-need.json")
    q.add_argument("--true-position", action="store_true")
    q.add_argument("--renderer", default="", help="a folder to take the renderer from instead")
    q.add_argument("--psnr", action="store_true")
    q.add_argument(
        "--lock",
        default="",
        help="a translator file whose renderer draws the source look: the root's x is locked "
        "to the floor it sees (floor_lock)",
    )
    q.add_argument(
        "--oracle",
        action="store_true",
        help="the renderer alone: it draws the standard env's true state",
    )
    q.add_argument(
        "--sim",
        action="store_true",
        help="the encoder alone: the standard look's simulator draws the encoder's estimate",
    )
    q.add_argument(
        "--true",
        nargs="+",
        default=(),
        choices=sorted(TRUE_PARTS),
        help="parts of the encoder's pose replaced by the true state's (with --true-position "
        "and all three, --sim draws the true standard frame: the clean baseline)",
    )
    q.add_argument(
        "--joint-noise",
        type=float,
        default=0.0,
        help="Gaussian noise (rad) added to the six joints before drawing (a seeded stream)",
    )
    q.add_argument(
        "--step-from",
        default="",
        help="a pose translator file whose encoder's x step replaces the encoder's own",
    )
    q.add_argument(
        "--trace", default="", help="a .npy of every frame's true qpos and the encoder's read"
    )
    q.add_argument("--out", default="")
    e = sub.add_parser("export", help="encoder and renderer as one StyleTransfer weights file")
    e.add_argument("folder", help="the encoder's folder")
    e.add_argument("--renderer", default="", help="a folder to take the renderer from instead")
    e.add_argument("--out", required=True, help="the .safetensors file to write")
    k = sub.add_parser("add-lock", help="a translator file with a floor lock added")
    k.add_argument("base", help="a pose translator file (or shipped name)")
    k.add_argument("--lock", required=True, help="a fit-pose translator file of the source look")
    k.add_argument("--out", required=True)
    g = sub.add_parser("graft", help="one file's encoder with another's renderer")
    g.add_argument("encoder", help="the pose translator file (or shipped name) to read with")
    g.add_argument("renderer", help="the pose translator file (or shipped name) to draw with")
    g.add_argument("--out", required=True)
    args = p.parse_args()
    {"probe": probe, "export": export, "add-lock": add_lock, "graft": graft}[args.cmd](args)


if __name__ == "__main__":
    main()
