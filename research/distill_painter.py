"""A narrower painter for a pose translator, distilled from its own (issue 18, speed).

The renderer's painter (four 3x3 convolutions of 32 channels over 64x64 soft-line maps) is 4 of
the translator's 10 ms per frame at batch 1 on one core, and it is compute-bound (about 64
GFLOP/s already). One of width 16 costs a quarter in its middle layers. It is fitted to
reproduce the wide painter's three layers (``CameraRenderer.layers``: body over sky, plain floor,
checker's share; a frame is linear in them given the floor) on the soft lines of poses the
standard body takes: expert 3 and its stumbles, crouched runs, random actions and scrambled
falls, simulated without rendering (no frame of either look is needed, and no policy of the zoo
is used). Everything else in the file (encoder, pose MLP, floor, sky) is kept as it is.

    PYTHONPATH=research python research/distill_painter.py \
        halfcheetah-restyled-to-standard-policyfree --width 16 --steps 6000 --out runs/paint16

Resumable: the student and Adam's moments are written to ``OUT/state.safetensors`` every 500
steps (each step's batch is drawn from a generator seeded by the step, so a resumed run takes
the same batches); ``OUT/translator.safetensors`` is the translator with the new painter, and
``OUT/log.jsonl`` the held-out frame PSNR against the wide painter's frames.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from safetensors.torch import load_file, save_file

from style_wrap.posenet import painter, segment_maps
from style_wrap.rl.expert import StateExpert
from style_wrap.train.posefit import pose_vector
from style_wrap.weights import load_generator, save_generator

EXPERT = Path(__file__).resolve().parent / "zoo" / "expert3"


def pose_bank(seed: int, per_part: int) -> np.ndarray:
    """qpos rows (``(N, 9)``) of the standard HalfCheetah's physics: expert 3 (plain, noisy,
    under 1.3-2.2x gravity), random actions, and scrambled resets that fall and are driven on."""
    env = gym.make("HalfCheetah-v5")
    sim = env.unwrapped
    expert = StateExpert(EXPERT)
    rng = np.random.default_rng(seed)
    g0 = sim.model.opt.gravity.copy()
    ranges = sim.model.jnt_range[3:].copy()
    rows: list[np.ndarray] = []
    parts = ("expert", "noisy", "gravity", "random", "scrambled")
    for k, part in enumerate(parts):
        got = 0
        while got < per_part:
            env.reset(seed=int(seed * 100 + k * 10 + len(rows)))
            sim.model.opt.gravity[:] = g0 * (rng.uniform(1.3, 2.2) if part == "gravity" else 1.0)
            if part == "scrambled":
                qpos = sim.data.qpos.copy()
                qpos[1] = rng.uniform(0.2, 0.8)
                qpos[2] = rng.uniform(-math.pi, math.pi)
                qpos[3:] = rng.uniform(ranges[:, 0], ranges[:, 1])
                sim.set_state(qpos, rng.normal(0, 2, sim.model.nv))
            noise = {"noisy": rng.uniform(0.2, 0.5), "scrambled": 0.3}.get(part, 0.0)
            for _ in range(int(rng.integers(150, 600))):
                if part == "random":
                    action = env.action_space.sample()
                else:
                    action = expert.act(sim.data.qpos.copy(), sim.data.qvel.copy())
                    action = np.clip(action + rng.normal(0, noise, action.shape), -1, 1)
                env.step(action)
                rows.append(sim.data.qpos.copy())
                got += 1
                if got >= per_part:
                    break
    sim.model.opt.gravity[:] = g0
    env.close()
    return np.asarray(rows, np.float32)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("weights", help="a pose translator file or shipped name")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--body-weight", type=float, default=10.0)
    p.add_argument("--poses", type=int, default=12000, help="poses per part (five parts)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--every", type=int, default=500, help="steps between checkpoints")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    net, spec = load_generator(args.weights)
    ren = net.renderer.requires_grad_(False)
    bank_file = out / "poses.npy"
    if not bank_file.is_file():
        np.save(bank_file, pose_bank(args.seed, args.poses), allow_pickle=False)
    qpos = np.load(bank_file, allow_pickle=False)
    pose = torch.from_numpy(pose_vector(qpos))
    held = torch.arange(0, len(pose), 50)[:400]
    train = torch.tensor(sorted(set(range(len(pose))) - set(held.tolist())))

    torch.manual_seed(args.seed)
    student = painter(3 * net.config.n_geoms, args.width, 9)
    opt = torch.optim.Adam(student.parameters(), lr=args.lr)
    state_file, step = out / "state.safetensors", 0
    if state_file.is_file():
        state = load_file(state_file)
        step = int(state.pop("step").item())
        student.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith("s.")})
        opt.load_state_dict(_adam_state(opt, state, step))

    def inputs(i: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            ends, cam_x, cam_z = ren.geometry(pose[i])
            maps = ren.soft_lines(ends, cam_x, cam_z)
            near = segment_maps(ren.project(ends, cam_x, cam_z), ren.size, 2.5).amax(1, True)
        return maps, 1 + args.body_weight * near

    def loss_of(maps: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            want = ren.layers(ren.paint(maps))
        got = ren.layers(student(maps))
        err = sum((g - w).abs() for g, w in zip(got, want))
        return (err * weight).mean() / weight.mean()

    t0 = time.time()
    while step < args.steps:
        frac = step / args.steps
        warm = min(1.0, frac / 0.1)
        lr = args.lr * (warm if frac < 0.1 else 0.5 * (1 + math.cos(math.pi * frac)))
        for group in opt.param_groups:
            group["lr"] = lr
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        i = train[torch.randint(len(train), (args.batch,), generator=g)]
        loss = loss_of(*inputs(i))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % args.every == 0 or step == args.steps:
            record = {"step": step, "loss": loss.item(), "seconds": round(time.time() - t0, 1)}
            record.update(score(ren, student, pose[held], inputs))
            with open(out / "log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            print(json.dumps(record), flush=True)
            tensors = {f"s.{k}": v.detach().clone() for k, v in student.state_dict().items()}
            tensors.update(_adam_tensors(opt))
            tensors["step"] = torch.tensor(step)
            tmp = state_file.with_suffix(".tmp")
            save_file(tensors, tmp)
            tmp.replace(state_file)
    config = replace(net.config, renderer_width=args.width)
    small = config.build()
    weights = {k: v for k, v in net.state_dict().items() if not k.startswith("renderer.paint.")}
    weights.update({f"renderer.paint.{k}": v for k, v in student.state_dict().items()})
    small.load_state_dict(weights)
    extra = dict(spec.extra or {})
    extra["painter_distilled_from"] = str(args.weights)
    save_generator(
        out / "translator.safetensors",
        small,
        replace(spec, architecture=config, extra=extra),
        dtype=torch.float16,
    )
    print(f"wrote {out / 'translator.safetensors'}")


@torch.no_grad()
def score(ren, student, pose: torch.Tensor, inputs) -> dict[str, float]:
    """Whole-frame and body PSNR of the student's frames against the wide painter's, at each
    held-out pose's own floor (root x from 0 to 40 m across the poses)."""
    root = torch.linspace(0, 40, len(pose))
    maps, weight = inputs(torch.arange(len(pose)))
    ends, cam_x, cam_z = ren.geometry(pose)
    want = ren.over(ren.layers(ren.paint(maps)), root, cam_x, cam_z)
    got = ren.over(ren.layers(student(maps)), root, cam_x, cam_z)
    mse = float(((got - want) ** 2).mean() / 4)
    mask = weight > 1 + 0.1 * (weight.max() - 1)
    body = float((((got - want) ** 2) * mask).sum() / (mask.sum() * 3) / 4)
    return {
        "held_out_psnr_db": -10 * math.log10(max(mse, 1e-12)),
        "held_out_body_psnr_db": -10 * math.log10(max(body, 1e-12)),
    }


def _adam_tensors(opt: torch.optim.Adam) -> dict[str, torch.Tensor]:
    out = {}
    for n, param in enumerate(opt.param_groups[0]["params"]):
        state = opt.state[param]
        out[f"m.{n}"] = state["exp_avg"].clone()
        out[f"v.{n}"] = state["exp_avg_sq"].clone()
    return out


def _adam_state(opt: torch.optim.Adam, tensors: dict[str, torch.Tensor], step: int) -> dict:
    sd = opt.state_dict()
    sd["state"] = {
        n: {
            "step": torch.tensor(float(step)),
            "exp_avg": tensors[f"m.{n}"],
            "exp_avg_sq": tensors[f"v.{n}"],
        }
        for n in range(len(sd["param_groups"][0]["params"]))
    }
    return sd


if __name__ == "__main__":
    main()
