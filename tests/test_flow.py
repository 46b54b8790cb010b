"""The pixel-level temporal term: the floor's motion in pixels fitted from a tracking camera's
frames, the term that asks a translation to follow it, and the pose-conditioned discriminators;
both train a temporal generator and their settings and data are checked."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from test_temporal import TINY, _episode_domains, _episodes

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap import ConfigError
from style_wrap.envs import render_state
from style_wrap.nets import to_model_input
from style_wrap.train.config import TrainConfig
from style_wrap.train.data import save_frames
from style_wrap.train.flow import fit_row_motion, flow_loss, warp_rows
from style_wrap.train.loop import CHECKPOINT, train


def _cheetah_pairs(n: int, seed: int):
    """Pairs of 64x64 standard-look frames of one random pose, the second with the body moved
    along x by a random 0.1-0.35 m (as one step of a run moves it), as model input, and the
    moves."""
    rng = np.random.default_rng(seed)
    env = gym.make("StyleWrap/HalfCheetah-v5", width=64, height=64)
    env.reset(seed=seed)
    q0 = env.unwrapped.data.qpos.copy()
    env.close()
    frames, dx = [], rng.uniform(0.1, 0.35, n)
    for step in dx:
        q = q0.copy()
        q[0] = rng.uniform(-20, 20)
        q[2:] = rng.uniform(-0.4, 0.4, len(q) - 2)
        second = q.copy()
        second[0] += step
        frames += [render_state("standard", p, width=64, height=64) for p in (q, second)]
    x = to_model_input(torch.from_numpy(np.stack(frames)))
    return x.reshape(n, 2, *x.shape[1:]), torch.tensor(dx, dtype=torch.float32)


def _row_errors(pairs, dx, slopes):
    moved, valid = warp_rows(pairs[:, 0], slopes.view(1, -1) * dx.view(-1, 1))
    err = (moved - pairs[:, 1]).abs().mean(1) * valid[:, 0]
    return err.sum((0, 2)) / valid[:, 0].sum((0, 2))


def test_the_row_motion_fitted_on_the_cheetahs_camera_predicts_unseen_frames():
    pairs, dx = _cheetah_pairs(48, seed=0)
    slopes = fit_row_motion(pairs, dx)
    h = pairs.shape[-2]
    # The sky (top rows) stands still; the floor slides against the run, most at the bottom.
    assert (slopes[: h // 3] == 0).all()
    assert slopes[-1] < slopes[h * 3 // 4] < 0
    # On other frames the fitted move explains the floor rows far better than standing still.
    test_pairs, test_dx = _cheetah_pairs(24, seed=1)
    still = _row_errors(test_pairs, test_dx, torch.zeros(h))[-12:]
    fitted = _row_errors(test_pairs, test_dx, slopes)[-12:]
    assert float(fitted.mean()) < 0.4 * float(still.mean())


def _sliding(columns, shift):
    """A frame whose lower half is a column pattern moved right by ``shift`` pixels."""
    frame = torch.zeros(3, 8, 16)
    frame[:, 4:] = torch.roll(columns, shift).view(1, 1, 16)
    return frame


def test_the_flow_term_scores_a_floor_that_moves_with_the_source_and_skips_the_body():
    g = torch.Generator().manual_seed(0)
    src_cols, out_cols = (torch.rand(16, generator=g) * 2 - 1 for _ in range(2))
    shifts = torch.tensor([[0.0] * 4 + [2.0] * 4])  # the lower rows move 2 px per step
    started = torch.tensor([True])
    source, previous_source = _sliding(src_cols, 2)[None], _sliding(src_cols, 0)[None]
    previous = _sliding(out_cols, 0)[None]
    follows = _sliding(out_cols, 2)[None]
    assert float(flow_loss(follows, previous, source, previous_source, shifts, started)) < 1e-5
    # A floor that stands still, or is drawn anew with another pattern, is scored.
    assert float(flow_loss(previous, previous, source, previous_source, shifts, started)) > 0.1
    redrawn = _sliding(-out_cols, 2)[None]
    assert float(flow_loss(redrawn, previous, source, previous_source, shifts, started)) > 0.1
    # Where the source itself does not follow the move (a body over the floor), nothing is asked.
    body_source, body_output = source.clone(), follows.clone()
    body_source[..., 5:7, 6:9] = 1.0
    body_output[..., 5:7, 6:9] = -1.0
    loss = flow_loss(body_output, previous, body_source, previous_source, shifts, started)
    assert float(loss) < 1e-5
    # Rows with no history ask nothing, and the previous output gets no gradient.
    assert float(flow_loss(redrawn, previous, source, previous_source, shifts, ~started)) == 0
    anchor = previous.clone().requires_grad_(True)
    out = redrawn.clone().requires_grad_(True)
    flow_loss(out, anchor, source, previous_source, shifts, started).backward()
    assert anchor.grad is None and out.grad.abs().sum() > 0


def test_the_flow_term_and_conditioned_discriminators_train_and_resume(tmp_path):
    a, b = _episode_domains(tmp_path, n_episodes=4, length=8)
    base = dict(domain_a=a, domain_b=b, out=str(tmp_path), temporal=True, pool_size=0, **TINY)
    base.update(decay_start=1.0, lambda_flow=5.0, d_condition="pose", floor_extent=100.0)
    run = train(TrainConfig(name="f", iters=4, **base))
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    flows = [r["flow"] for r in records if "D_A" in r]
    assert len(flows) == 4 and all(np.isfinite(flows))
    state = torch.load(run / CHECKPOINT, weights_only=True)["model"]
    # The bars of the test domains slide right in a still frame: the fit finds no camera motion
    # or a move of their rows; either way it is one slope per row of each look, kept for resume.
    assert state["row_motion"].shape == (2, 16)
    # Each discriminator reads the frame and the state: 3 + (qpos but x) + over-the-floor.
    assert state["d_b"]["model.0.weight"].shape[1] == 3 + 1 + 1
    resumed = train(TrainConfig(name="f", iters=6, resume=True, **base), given={"iters"})
    again = torch.load(resumed / CHECKPOINT, weights_only=True)["model"]
    assert again["step"] == 6 and torch.equal(again["row_motion"], state["row_motion"])
    # With floor only, the discriminators read the frame and whether it is over the floor.
    floor = train(TrainConfig(name="g", iters=1, **{**base, "d_condition": "floor"}))
    d_b = torch.load(floor / CHECKPOINT, weights_only=True)["model"]["d_b"]
    assert d_b["model.0.weight"].shape[1] == 3 + 1


def test_flow_and_condition_settings_and_data_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="lambda_flow = 2.0 compares a temporal G_AB's output"):
        TrainConfig(lambda_flow=2.0)
    with pytest.raises(ConfigError, match="lambda_flow"):
        TrainConfig(temporal=True, lambda_flow=-1.0)
    with pytest.raises(ConfigError, match="d_condition"):
        TrainConfig(d_condition="posture")
    a, b = _episode_domains(tmp_path)
    frames, _, steps = _episodes("A", 2, 5)
    save_frames(tmp_path / "noqpos", frames, name="A", steps=steps)  # no physics state
    cfg = TrainConfig(
        domain_a=str(tmp_path / "noqpos"), domain_b=b, out=str(tmp_path / "r"), iters=2, **TINY
    )
    with pytest.raises(ConfigError, match="d_condition = 'pose' needs recorded poses"):
        train(cfg.replace(d_condition="pose"))
    with pytest.raises(ConfigError, match="lambda_flow = 1.0 needs recorded x positions"):
        train(cfg.replace(temporal=True, lambda_flow=1.0))
    assert not (tmp_path / "r").exists()
