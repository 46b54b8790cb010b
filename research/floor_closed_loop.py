"""Does a translator carry the standard checker's phase in closed loop? (issue 18, a probe)

The shipped policy drives the restyled cheetah through each translator (StyleTransfer, so a
temporal one keeps its history) for the first 250 steps of episodes 700 and 701, while the floor
is in view. Every 5th step the translated frame is compared with the true standard render of the
same state: the correlation of the floor pixels' grey levels (MuJoCo's floor segmentation of the
standard look; near 0: no floor or a floor of the wrong phase, 1: the true checker), their PSNR,
and the whole frame's PSNR. "motion corr" is the same correlation against the truth rendered with
the floor moved by one offset along x for the whole episode, the best of 16 over one checker
period: a floor that moves as the source does, whatever its phase, scores as an in-phase one
(a floor whose phase jumps, or none, stays near the offsets' bias, floor1's value).

    python research/floor_closed_loop.py W1.safetensors [W2 ...]
"""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np

import style_wrap
from style_wrap.envs import floor_mask, render_state
from style_wrap.evaluation.metrics import psnr
from style_wrap.rl.policies import FrameStacker, frames_stacked, load_policy

PERIOD = 80 / 60  # the standard checker's period (m)


def _floor_corr(obs: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    a, b = (f.astype(float).mean(-1)[mask] for f in (obs, truth))
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 1 and b.std() > 1 else 0.0


def _shifted_corr(seen: list[tuple[np.ndarray, np.ndarray]], offset: float) -> float:
    """Mean floor correlation of the frames against the truth with its floor moved by
    ``offset`` m (the body's x moves, and the tracking camera with it)."""
    out = []
    for obs, qpos in seen:
        q = qpos.copy()
        q[0] += offset
        truth = render_state("standard", q, width=64, height=64)
        out.append(_floor_corr(obs, truth, floor_mask("standard", q, width=64, height=64)))
    return float(np.mean(out)) if out else 0.0


def probe(weights: str, seeds=(700, 701), steps: int = 250) -> dict[str, float]:
    model = load_policy("halfcheetah-pixel-policy", device="cpu")
    corr, floor, whole, returns, motion = [], [], [], [], []
    for seed in seeds:
        env = style_wrap.StyleTransfer(
            gym.make("StyleWrap/HalfCheetahRestyled-v5"), weights, device="cpu"
        )
        obs, _ = env.reset(seed=seed)
        stacker = FrameStacker(frames_stacked(model, 3), obs.shape)
        stack, total, seen = stacker.reset(obs), 0.0, []
        for t in range(steps):
            qpos = env.unwrapped.data.qpos.copy()
            if t % 5 == 0:
                truth = render_state("standard", qpos, width=64, height=64)
                mask = floor_mask("standard", qpos, width=64, height=64)
                whole.append(psnr(obs, truth))
                if mask.sum() > 50:
                    corr.append(_floor_corr(obs, truth, mask))
                    floor.append(psnr(obs, truth, mask))
                    seen.append((obs.copy(), qpos))
            action, _ = model.predict(stack, deterministic=True)
            obs, reward, _, _, _ = env.step(action)
            total += float(reward)
            stack = stacker.push(obs)
        returns.append(total)
        motion.append(max(_shifted_corr(seen, d) for d in np.arange(16) * PERIOD / 16))
    return {
        "floor_corr": float(np.mean(corr)),
        "motion_corr": float(np.mean(motion)),
        "floor_psnr": float(np.mean(floor)),
        "whole_psnr": float(np.mean(whole)),
        "return_250": float(np.mean(returns)),
        "floor_frames": len(corr),
    }


if __name__ == "__main__":
    for w in sys.argv[1:]:
        r = probe(w)
        print(
            f"{w}: floor corr {r['floor_corr']:.3f}, motion corr {r['motion_corr']:.3f}, "
            f"floor PSNR {r['floor_psnr']:.2f} dB, "
            f"whole PSNR {r['whole_psnr']:.2f} dB, return in 250 steps {r['return_250']:.0f} "
            f"({r['floor_frames']} floor frames)"
        )
