"""DAgger: distil a state expert into an SB3 pixel policy on stacked frames (resumable).

Example:
    >>> DaggerConfig(rounds=2).rounds
    2
    >>> DaggerConfig(batch_size=0)
    Traceback (most recent call last):
    ...
    style_wrap.rl.policies.PolicyError: batch_size = 0; expected >= 1
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from style_wrap import augment
from style_wrap.envs import is_upside_down
from style_wrap.io import atomic_path, atomic_write_bytes
from style_wrap.making import make_env
from style_wrap.rl.episodes import evaluate_pixel_policy
from style_wrap.rl.expert import StateExpert
from style_wrap.rl.policies import FrameStacker, PolicyError, load_policy, save_policy
from style_wrap.settings import check_at_least, check_fields, fields_of, setting

__all__ = ["DaggerConfig", "distill_pixel_policy"]


@dataclass(frozen=True)
class DaggerConfig:
    """Settings of the expert-to-pixels distillation (DAgger).

    Each round rolls out a mix of expert and student (the expert with probability
    ``beta_decay ** round``), labels every visited frame with the expert's action, and fits the
    student on all frames so far for ``steps_per_round`` Adam steps (one optimizer across
    rounds). ``final_steps`` more steps at ``final_lr`` follow the last round. Batches get random
    shifts of up to ``shift`` pixels (0: none; the camera tracks the body, so its place in the
    frame tells its height), with ``blur > 0`` a Gaussian blur of per-sample width in
    ``[0, blur]`` pixels (a translated frame draws thin legs softer than the renderer does), and,
    with ``jitter > 0``, a per-sample colour gain of ``1 +- jitter`` and pixel noise, so that the
    student does not hinge on exact pixel values.
    With ``flip_reset`` a rollout episode ends as soon as the body is upside down (the root's
    pitch ``qpos[2]``, as in MuJoCo's planar walkers, past 90 degrees): a flipped
    cheetah stays on its back, and the expert's labels there only teach the student a state it
    must never reach, while the frames before the flip stay in.
    ``frames_from`` names an earlier distillation whose labelled frames join every fit; with
    ``rounds=0`` and ``init`` that is a refit of an existing student on those frames
    (``final_steps`` at ``final_lr``).
    """

    rounds: int = setting(10, "DAgger rounds after the first (expert-only) one.")
    first_frames: int = setting(10_000, "Frames of round 0 (the expert acting alone).")
    frames_per_round: int = setting(5_000, "Frames added by each later round.")
    n_stack: int = setting(3, "Stacked frames the student reads.")
    size: int = setting(64, "Frame side in pixels.")
    steps_per_round: int = setting(2500, "Adam steps of behaviour cloning after each round.")
    final_steps: int = setting(5000, "Adam steps of the final fit (0: none).")
    batch_size: int = setting(128, "Frames per Adam step.")
    lr: float = setting(3e-4, "Learning rate of the rounds.")
    final_lr: float = setting(1e-4, "Learning rate of the final fit.")
    jitter: float = setting(0.1, "Colour gain 1 +- jitter and pixel noise per sample (0: none).")
    shift: int = setting(4, "Random shifts of up to this many pixels (0: none).")
    blur: float = setting(0.0, "Gaussian blur of per-sample width in [0, blur] pixels.")
    flip_reset: bool = setting(True, "End a rollout episode once the body is upside down.")
    beta_decay: float = setting(0.5, "The expert acts with probability beta_decay ** round.")
    eval_episodes: int = setting(5, "Episodes (seeds 1000+) that score each round's student.")
    seed: int = setting(0, "Seeds rollouts, batches and the student's initialisation.")
    env_id: str = setting("StyleWrap/HalfCheetah-v5", "The pixel env of the student's look.")
    init: str = setting(
        "", "A pixel policy file to start from ('' = fresh; an SB3 .zip only if you trust it)."
    )
    frames_from: str = setting("", "An earlier distillation whose labelled rounds join every fit.")

    def __post_init__(self) -> None:
        check_fields(self, PolicyError, "")
        counts = fields_of(
            self, "rounds", "first_frames", "frames_per_round", "shift", "final_steps"
        )
        check_at_least(counts, 0, PolicyError)
        sizes = fields_of(self, "n_stack", "size", "batch_size", "eval_episodes")
        check_at_least(sizes, 1, PolicyError)
        if not 0 <= self.jitter < 1:
            raise PolicyError(f"jitter = {self.jitter!r}; expected 0 <= jitter < 1")
        check_at_least(fields_of(self, "lr", "final_lr"), 0, PolicyError)
        if not 0 < self.beta_decay < 1:
            raise PolicyError(f"beta_decay = {self.beta_decay!r}; expected 0 < beta_decay < 1")
        if not 0 <= self.blur <= 3:
            raise PolicyError(f"blur = {self.blur!r}; expected 0 <= blur <= 3 (pixels)")


def _student(config: DaggerConfig, device: str) -> BaseAlgorithm:
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    venv = VecFrameStack(
        DummyVecEnv([lambda: make_env(config.env_id, width=config.size, height=config.size)]),
        config.n_stack,
    )
    return PPO("CnnPolicy", venv, seed=config.seed, device=device, verbose=0)


def _rollout(
    env: Any,
    expert: StateExpert,
    student: BaseAlgorithm | None,
    frames: int,
    beta: float,
    config: DaggerConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Visit states with a mix of expert (prob. beta) and student; label all with the expert."""
    stacker = FrameStacker(config.n_stack, env.observation_space.shape)
    obs_list, act_list, returns = [], [], []
    data = env.unwrapped.data
    stack = stacker.reset(env.reset(seed=int(rng.integers(2**31)))[0])
    episode_return = 0.0
    while len(obs_list) < frames:
        label = expert.act(data.qpos, data.qvel)
        obs_list.append(stack)
        act_list.append(label)
        if student is None or rng.random() < beta:
            action = label
        else:
            action, _ = student.predict(stack, deterministic=True)
        frame, reward, terminated, truncated, _ = env.step(action)
        episode_return += float(reward)
        stack = stacker.push(frame)
        flipped = config.flip_reset and is_upside_down(data.qpos[2])
        if terminated or truncated or flipped:
            returns.append(episode_return)
            episode_return = 0.0
            stack = stacker.reset(env.reset(seed=int(rng.integers(2**31)))[0])
    return np.stack(obs_list), np.stack(act_list).astype(np.float32), returns


def _augment(obs: torch.Tensor, config: DaggerConfig, rng: np.random.Generator) -> torch.Tensor:
    """Random shifts per sample, then blur, colour gain and noise (as the config asks)."""
    if config.shift > 0:
        dx, dy = rng.integers(0, 2 * config.shift + 1, (2, obs.shape[0]))
        obs = augment.shift(obs, np.stack([dy, dx]), config.shift)
    if config.blur > 0:
        obs = augment.blur(obs, rng.uniform(0.0, config.blur, obs.shape[0]))
    if config.jitter > 0:
        obs = augment.jitter(obs, config.jitter)
    return obs


def _fit(
    student: BaseAlgorithm,
    optimizer: torch.optim.Optimizer,
    frames: np.ndarray,
    actions: np.ndarray,
    steps: int,
    config: DaggerConfig,
    rng: np.random.Generator,
) -> float:
    """``steps`` Adam steps of behaviour cloning (MSE on the policy's mean action)."""
    policy = student.policy
    policy.set_training_mode(True)
    losses = []
    for _ in range(steps):
        index = rng.integers(0, len(frames), config.batch_size)
        obs = torch.from_numpy(frames[index]).permute(0, 3, 1, 2).float().to(policy.device)
        obs = _augment(obs, config, rng)
        target = torch.from_numpy(actions[index]).to(policy.device)
        mean = policy.get_distribution(obs).distribution.mean
        loss = torch.nn.functional.mse_loss(mean, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    policy.set_training_mode(False)
    return float(np.mean(losses[-100:]))


class _Distillation:
    """One distillation folder: its student, labelled rounds and log, picked up where it ended."""

    def __init__(
        self, expert_dir: str | os.PathLike[str], out: Path, config: DaggerConfig, device: str
    ):
        if config.frames_from and Path(config.frames_from).resolve() == out.resolve():
            raise PolicyError(
                f"frames_from {config.frames_from!r} is the output folder; expected another folder"
            )
        borrowed = _borrowed_rounds(config)  # checked before anything is made or opened
        out.mkdir(parents=True, exist_ok=True)
        self.out, self.config = out, config
        self.expert = StateExpert(expert_dir, device=device)
        self.student = self._load_student(device)
        self.log = _read_log(out / "log.jsonl")
        done = sorted(out.glob("round_*.npz"))[: len([r for r in self.log if r["round"] >= 0])]
        if done and (out / "student.zip").is_file():
            self.student = PPO.load(out / "student.zip", env=self.student.get_env(), device=device)
        self.rounds_done = len(done)
        self.best = max((r["student_mean"] for r in self.log), default=-np.inf)
        self.optimizer = torch.optim.Adam(self.student.policy.parameters(), lr=config.lr)
        self.env = make_env(config.env_id, width=config.size, height=config.size)
        self.frames = [np.load(p)["frames"] for p in [*borrowed, *done]]
        self.actions = [np.load(p)["actions"] for p in [*borrowed, *done]]

    def _load_student(self, device: str) -> BaseAlgorithm:
        config, student = self.config, _student(self.config, device)
        if config.init:
            start = load_policy(config.init, device=device)
            if start.observation_space != student.observation_space:
                raise PolicyError(
                    f"init policy {config.init} reads {start.observation_space}; expected "
                    f"{student.observation_space} (n_stack {config.n_stack}, size {config.size})"
                )
            student.policy.load_state_dict(start.policy.state_dict())
        return student

    def round(self, r: int) -> None:
        """Roll out, label, store the round's frames, fit on all frames so far, log."""
        config = self.config
        rng = np.random.default_rng([config.seed, r])
        beta = config.beta_decay**r if r else 1.0
        n = config.first_frames if r == 0 else config.frames_per_round
        student = None if r == 0 else self.student
        frames, actions, returns = _rollout(self.env, self.expert, student, n, beta, config, rng)
        with atomic_path(self.out / f"round_{r:02d}.npz", suffix=".npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, frames=frames, actions=actions)
        self.frames.append(frames)
        self.actions.append(actions)
        loss = _fit(
            self.student,
            self.optimizer,
            np.concatenate(self.frames),
            np.concatenate(self.actions),
            config.steps_per_round,
            config,
            rng,
        )
        self._finish(r, loss, beta, returns)

    def final_fit(self) -> None:
        """``final_steps`` at ``final_lr`` on every frame, unless done on these frames already."""
        config = self.config
        total = int(sum(len(f) for f in self.frames))
        if not total:
            raise PolicyError(f"rounds={config.rounds} and no frames_from: nothing to fit")
        finished = any(r["round"] < 0 and r["frames"] == total for r in self.log)
        if not config.final_steps or finished:  # done again after more rounds were added
            return
        rng = np.random.default_rng([config.seed, config.rounds])
        for group in self.optimizer.param_groups:
            group["lr"] = config.final_lr
        frames, actions = np.concatenate(self.frames), np.concatenate(self.actions)
        loss = _fit(self.student, self.optimizer, frames, actions, config.final_steps, config, rng)
        self._finish(-1, loss, 0.0, [])

    def _finish(self, label: int, loss: float, beta: float, returns: list[float]) -> None:
        """Save the student (and the round's copy), score it, keep the best, log the round."""
        config = self.config
        save_policy(self.student, self.out / "student.zip")
        if label >= 0:  # each round's student stays, so any round can be picked up later
            save_policy(self.student, self.out / f"round_{label:02d}.zip")
        scores = evaluate_pixel_policy(
            self.student,
            config.env_id,
            config.eval_episodes,
            seed=1000,  # the same episodes every time, so rounds compare fairly
            env_kwargs={"width": config.size, "height": config.size},
        )
        record = {
            "round": label,
            "beta": beta,
            "frames": int(sum(len(f) for f in self.frames)),
            "bc_loss": loss,
            "rollout_returns": returns,
            "student_returns": scores,
            "student_mean": float(np.mean(scores)),
        }
        if record["student_mean"] > self.best:
            self.best = record["student_mean"]
            save_policy(self.student, self.out / "best.zip")
        with open(self.out / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)

    def close(self) -> None:
        self.env.close()


def distill_pixel_policy(
    expert_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: DaggerConfig = DaggerConfig(),
    device: str = "cpu",
) -> Path:
    """DAgger from a state expert into an SB3 CnnPolicy on stacked frames; resumable by round.

    Each round's labelled frames go to ``out/round_NN.npz`` and the student after it to
    ``out/student.zip`` and ``out/round_NN.zip`` (all written atomically), with a line in
    ``out/log.jsonl``; a rerun continues after the last finished round. The student that scored
    best over ``eval_episodes`` fresh episodes (rounds and the final fit) is kept as
    ``out/best.zip``. Rerun with more ``rounds`` to continue a finished distillation: the new
    rounds, then a new final fit. Returns ``out``.
    """
    run = _Distillation(expert_dir, Path(out), config, device)
    try:
        for r in range(run.rounds_done, config.rounds):
            run.round(r)
        run.final_fit()
    finally:
        run.close()
    return Path(out)


def _borrowed_rounds(config: DaggerConfig) -> list[Path]:
    """The labelled rounds of ``config.frames_from``, checked against the student's input."""
    if not config.frames_from:
        return []
    rounds = sorted(Path(config.frames_from).glob("round_*.npz"))
    if not rounds:
        raise PolicyError(
            f"frames_from {config.frames_from!r} holds no round_*.npz; "
            "expected a folder made by `style-wrap distill`"
        )
    expected = (config.size, config.size, 3 * config.n_stack)
    with np.load(rounds[0]) as first:
        shape = first["frames"].shape[1:]
    if shape != expected:
        raise PolicyError(
            f"frames_from {config.frames_from!r} holds frames of shape {shape}; expected "
            f"{expected} (size {config.size}, n_stack {config.n_stack})"
        )
    return rounds


def _read_log(path: Path) -> list[dict[str, Any]]:
    """The records of a distillation log.

    A last line torn by an interruption is dropped (the round it described is redone) and the
    file rewritten without it, atomically, so that later lines append to whole ones.
    """
    if not path.is_file():
        return []
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines[:-1]]
    try:
        records += [json.loads(line) for line in lines[-1:]]
    except json.JSONDecodeError:
        atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in records).encode())
    return records
