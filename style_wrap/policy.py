"""Loading stable-baselines3 policies from their own zip format.

Example:
    >>> from style_wrap.policy import ALGORITHMS
    >>> sorted(ALGORITHMS)[:3]
    ['A2C', 'DDPG', 'DQN']
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3 import A2C, DDPG, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm

from style_wrap.errors import StyleWrapError
from style_wrap.io import atomic_path

__all__ = ["ALGORITHMS", "load_policy", "PolicyError"]

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    c.__name__: c for c in (A2C, DDPG, DQN, PPO, SAC, TD3)
}


class PolicyError(StyleWrapError, ValueError):
    """A policy file is missing or not a stable-baselines3 model."""


def _algorithm_of(path: Path) -> str:
    # SB3 records the policy class (e.g. "stable_baselines3.sac.policies.MlpPolicy") in "data".
    with zipfile.ZipFile(path) as z:
        data = json.loads(z.read("data"))
    module = data.get("policy_class", {}).get("__module__", "")
    for name in ALGORITHMS:
        if f".{name.lower()}." in f".{module}.":
            return name
    return "PPO"  # PPO and A2C share ActorCriticPolicy; PPO loads both


def load_policy(path: str | os.PathLike[str], device: str = "cpu") -> BaseAlgorithm:
    """Load an SB3 model file, finding its algorithm from the file itself."""
    p = Path(path)
    if not p.is_file():
        raise PolicyError(f"policy file {str(p)!r} does not exist; expected an SB3 .zip")
    try:
        algorithm = _algorithm_of(p)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise PolicyError(f"{p}: not a stable-baselines3 model file ({err})") from None
    return ALGORITHMS[algorithm].load(p, device=device)


#: PPO settings tuned for HalfCheetah (rl-baselines3-zoo's, with VecNormalize).
EXPERT_PPO = dict(
    n_steps=512,
    batch_size=64,
    gamma=0.98,
    learning_rate=2.0633e-05,
    ent_coef=0.000401762,
    clip_range=0.1,
    n_epochs=20,
    gae_lambda=0.92,
    max_grad_norm=0.8,
    vf_coef=0.58096,
)


def train_expert(
    out: str | os.PathLike[str], steps: int = 200_000, seed: int = 0, env_id: str = "HalfCheetah-v5"
) -> Path:
    """Train a state-based PPO expert with observation/reward normalisation.

    Writes ``expert.zip`` (SB3's format) and ``vecnormalize.pkl`` (SB3's normaliser statistics)
    into ``out``; returns ``out``. The expert is a teacher for the pixel policy, not shipped.
    """
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize
    from torch import nn

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    venv = VecNormalize(make_vec_env(lambda: gym.make(env_id), n_envs=1, seed=seed), gamma=0.98)
    policy_kwargs = dict(
        log_std_init=-2,
        ortho_init=False,
        activation_fn=nn.ReLU,
        net_arch=dict(pi=[256, 256], vf=[256, 256]),
    )
    model = PPO("MlpPolicy", venv, seed=seed, policy_kwargs=policy_kwargs, verbose=0, **EXPERT_PPO)
    model.learn(total_timesteps=steps, progress_bar=False)
    model.save(out / "expert.zip")
    venv.save(str(out / "vecnormalize.pkl"))
    return out


def frames_stacked(model: BaseAlgorithm, channels: int = 3) -> int:
    """How many frames a pixel policy reads at once (channel-first or channel-last space)."""
    shape = model.observation_space.shape or ()
    if len(shape) != 3:
        raise PolicyError(f"policy observation space {model.observation_space}; expected images")
    stacked = min(shape[0], shape[-1])  # the channel axis is the short one
    if stacked % channels:
        raise PolicyError(f"policy reads {stacked} channels; expected a multiple of {channels}")
    return stacked // channels


class FrameStacker:
    """Stacks the last ``n`` HWC frames on the channel axis exactly as SB3's ``VecFrameStack``.

    Zeros fill the stack after a reset, newest frame last.

    Example:
        >>> import numpy as np
        >>> s = FrameStacker(2, (1, 1, 3))
        >>> s.reset(np.ones((1, 1, 3), np.uint8))[0, 0].tolist()
        [0, 0, 0, 1, 1, 1]
        >>> s.push(np.full((1, 1, 3), 2, np.uint8))[0, 0].tolist()
        [1, 1, 1, 2, 2, 2]
    """

    def __init__(self, n: int, frame_shape: tuple[int, ...]):
        self.n, self.channels = n, frame_shape[-1]
        self.stack = np.zeros((*frame_shape[:-1], n * self.channels), np.uint8)

    def reset(self, frame: np.ndarray) -> np.ndarray:
        self.stack[...] = 0
        return self.push(frame)

    def push(self, frame: np.ndarray) -> np.ndarray:
        self.stack = np.roll(self.stack, -self.channels, axis=-1)
        self.stack[..., -self.channels :] = frame
        return self.stack.copy()


class StateExpert:
    """A state-based SB3 expert with its VecNormalize statistics, acting from a MuJoCo state."""

    def __init__(self, folder: str | os.PathLike[str], device: str = "cpu"):
        import pickle

        folder = Path(folder)
        for name in ("expert.zip", "vecnormalize.pkl"):
            if not (folder / name).is_file():
                raise PolicyError(f"{folder}: no {name}; expected a folder made by train_expert")
        self.model = load_policy(folder / "expert.zip", device=device)
        # SB3 stores VecNormalize as a pickle (its own format); only our own training writes it.
        with open(folder / "vecnormalize.pkl", "rb") as f:
            normalizer = pickle.load(f)
        self.obs_rms, self.clip, self.epsilon = (
            normalizer.obs_rms,
            normalizer.clip_obs,
            normalizer.epsilon,
        )

    def act(self, qpos: np.ndarray, qvel: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """HalfCheetah-v5's observation (qpos without x, qvel), normalised, to an action."""
        obs = np.concatenate([qpos[1:], qvel])
        obs = np.clip(
            (obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.epsilon),
            -self.clip,
            self.clip,
        )
        action, _ = self.model.predict(obs.astype(np.float32), deterministic=deterministic)
        return action


def evaluate_expert(
    folder: str | os.PathLike[str], episodes: int, seed: int = 0, env_id: str = "HalfCheetah-v5"
) -> list[float]:
    """Returns of a state expert (deterministic actions) on episodes seeded ``seed + i``."""
    import gymnasium as gym

    expert = StateExpert(folder)
    env = gym.make(env_id)
    data = env.unwrapped.data  # type: ignore[attr-defined]
    returns = []
    try:
        for i in range(episodes):
            env.reset(seed=seed + i)
            done, total = False, 0.0
            while not done:
                _, reward, terminated, truncated, _ = env.step(expert.act(data.qpos, data.qvel))
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return returns


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

    rounds: int = 10
    first_frames: int = 10_000
    frames_per_round: int = 5_000
    n_stack: int = 3
    size: int = 64
    steps_per_round: int = 2500
    final_steps: int = 5000
    batch_size: int = 128
    lr: float = 3e-4
    final_lr: float = 1e-4
    jitter: float = 0.1
    shift: int = 4
    blur: float = 0.0
    flip_reset: bool = True
    beta_decay: float = 0.5
    eval_episodes: int = 5
    seed: int = 0
    env_id: str = "StyleWrap/HalfCheetah-v5"
    init: str = ""  # an SB3 pixel policy .zip to start from (e.g. the shipped one); "" = fresh
    frames_from: str = ""  # an earlier distillation folder whose labelled rounds join every fit

    def __post_init__(self) -> None:
        for name in ("rounds", "first_frames", "frames_per_round", "shift", "final_steps"):
            if getattr(self, name) < 0:
                raise PolicyError(f"{name} = {getattr(self, name)!r}; expected >= 0")
        for name in ("n_stack", "size", "batch_size", "eval_episodes"):
            if getattr(self, name) < 1:
                raise PolicyError(f"{name} = {getattr(self, name)!r}; expected >= 1")
        if not 0 <= self.jitter < 1:
            raise PolicyError(f"jitter = {self.jitter!r}; expected 0 <= jitter < 1")
        if not 0 <= self.blur <= 3:
            raise PolicyError(f"blur = {self.blur!r}; expected 0 <= blur <= 3 (pixels)")


def _student(config: DaggerConfig, device: str) -> BaseAlgorithm:
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    venv = VecFrameStack(
        DummyVecEnv([lambda: gym.make(config.env_id, width=config.size, height=config.size)]),
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
        flipped = config.flip_reset and np.cos(data.qpos[2]) < 0
        if terminated or truncated or flipped:
            returns.append(episode_return)
            episode_return = 0.0
            stack = stacker.reset(env.reset(seed=int(rng.integers(2**31)))[0])
    return np.stack(obs_list), np.stack(act_list).astype(np.float32), returns


def _blur(obs: Any, sigma: np.ndarray) -> Any:
    """Gaussian blur of each sample ``i`` of an ``(N, C, H, W)`` batch with width ``sigma[i]``.

    Example:
        >>> import numpy as np, torch
        >>> obs = torch.zeros(2, 3, 9, 9); obs[:, :, 4, 4] = 1.0
        >>> out = _blur(obs, np.array([0.0, 1.0]))
        >>> bool(torch.equal(out[0], obs[0])), round(float(out[1].sum()), 3)
        (True, 3.0)
        >>> float(out[1, 0, 4, 4]) < 1  # the peak spreads to its neighbours
        True
    """
    import torch

    n, c, h, w = obs.shape
    x = torch.arange(-2, 3, dtype=obs.dtype, device=obs.device)
    width = torch.as_tensor(np.maximum(sigma, 1e-3), dtype=obs.dtype, device=obs.device)
    kernel = torch.exp(-0.5 * (x[None] / width[:, None]) ** 2)
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (n*c, 5)
    flat = torch.nn.functional.pad(obs.reshape(1, n * c, h, w), (2, 2, 2, 2), mode="replicate")
    flat = torch.nn.functional.conv2d(flat, kernel[:, None, None, :], groups=n * c)
    flat = torch.nn.functional.conv2d(flat, kernel[:, None, :, None], groups=n * c)
    return flat.reshape(n, c, h, w)


def _augment(obs: Any, config: DaggerConfig, rng: np.random.Generator) -> Any:
    """Random shifts (replicate-pad ``shift``, crop back) per sample, blur, colour gain, noise."""
    import torch

    n, size, pad = obs.shape[0], config.size, config.shift
    if pad > 0:
        padded = torch.nn.functional.pad(obs, (pad, pad, pad, pad), mode="replicate")
        dx, dy = rng.integers(0, 2 * pad + 1, (2, n))
        obs = torch.stack(
            [padded[i, :, dy[i] : dy[i] + size, dx[i] : dx[i] + size] for i in range(n)]
        )
    if config.blur > 0:
        obs = _blur(obs, rng.uniform(0.0, config.blur, n))
    if config.jitter > 0:
        channels = obs.shape[1]
        gain = 1 + config.jitter * (2 * torch.rand(n, 3, 1, 1) - 1)
        gain = gain.repeat(1, channels // 3, 1, 1)  # the same gain for every stacked frame
        noise = torch.randn_like(obs) * (255 * config.jitter / 10)
        obs = (obs * gain.to(obs.device) + noise).clamp(0, 255)
    return obs


def _fit(
    student: BaseAlgorithm,
    optimizer: Any,
    frames: np.ndarray,
    actions: np.ndarray,
    steps: int,
    config: DaggerConfig,
    rng: np.random.Generator,
) -> float:
    """``steps`` Adam steps of behaviour cloning (MSE on the policy's mean action)."""
    import torch

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


def run_episodes(
    model: BaseAlgorithm,
    env: Any,
    episodes: int,
    *,
    seed: int = 0,
    n_stack: int = 3,
    max_steps: int | None = None,
    on_step: Any = None,
) -> list[float]:
    """Returns of ``model`` acting (deterministically) from stacked frames of ``env``.

    Episode ``i`` resets with seed ``seed + i``; ``max_steps`` cuts episodes short;
    ``on_step(episode, observation)`` is called after every step.
    """
    stacker = FrameStacker(n_stack, env.observation_space.shape)
    returns = []
    for episode in range(episodes):
        stack = stacker.reset(env.reset(seed=seed + episode)[0])
        done, total, steps = False, 0.0, 0
        while not done:
            action, _ = model.predict(stack, deterministic=True)
            frame, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            steps += 1
            stack = stacker.push(frame)
            if on_step is not None:
                on_step(episode, frame)
            done = terminated or truncated or (max_steps is not None and steps >= max_steps)
        returns.append(total)
    return returns


def evaluate_pixel_policy(
    model: BaseAlgorithm,
    env_id: str,
    episodes: int,
    seed: int = 0,
    n_stack: int = 3,
    env_kwargs: dict | None = None,
) -> list[float]:
    """Returns of ``model`` on fresh episodes of ``env_id`` (see :func:`run_episodes`)."""
    import gymnasium as gym

    env = gym.make(env_id, **(env_kwargs or {}))
    try:
        return run_episodes(model, env, episodes, seed=seed, n_stack=n_stack)
    finally:
        env.close()


def distill_pixel_policy(
    expert_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    config: DaggerConfig = DaggerConfig(),
    device: str = "cpu",
) -> Path:
    """DAgger from a state expert into an SB3 CnnPolicy on stacked frames; resumable by round.

    Each round's labelled frames go to ``out/round_NN.npz`` and the student after it to
    ``out/student.zip`` and ``out/round_NN.zip`` (all written atomically), with a line in
    ``out/log.jsonl``; a rerun
    continues after the last finished round. The student that scored best over
    ``eval_episodes`` fresh episodes (rounds and the final fit) is kept as ``out/best.zip``.
    Rerun with more ``rounds`` to continue a finished distillation: the new rounds, then a new
    final fit. Returns ``out``.
    """
    import gymnasium as gym
    import torch

    out = Path(out)
    if config.frames_from and Path(config.frames_from).resolve() == out.resolve():
        raise PolicyError(
            f"frames_from {config.frames_from!r} is the output folder; expected another folder"
        )
    borrowed = _borrowed_rounds(config)  # checked before anything is made or opened
    out.mkdir(parents=True, exist_ok=True)
    expert = StateExpert(expert_dir, device=device)
    student = _student(config, device)
    log = _read_log(out / "log.jsonl")
    done = sorted(out.glob("round_*.npz"))[: len([r for r in log if r["round"] >= 0])]
    if done and (out / "student.zip").is_file():
        student = PPO.load(out / "student.zip", env=student.get_env(), device=device)
    elif config.init:
        start = load_policy(config.init, device=device)
        if start.observation_space != student.observation_space:
            raise PolicyError(
                f"init policy {config.init} reads {start.observation_space}; expected "
                f"{student.observation_space} (n_stack {config.n_stack}, size {config.size})"
            )
        student.policy.load_state_dict(start.policy.state_dict())
    best = max((r["student_mean"] for r in log), default=-np.inf)
    optimizer = torch.optim.Adam(student.policy.parameters(), lr=config.lr)
    env = gym.make(config.env_id, width=config.size, height=config.size)
    frames = [np.load(p)["frames"] for p in [*borrowed, *done]]
    actions = [np.load(p)["actions"] for p in [*borrowed, *done]]

    def finish(label: int, loss: float, beta: float, returns: list[float]) -> None:
        nonlocal best
        _save(student, out / "student.zip")
        if label >= 0:  # each round's student stays, so any round can be picked up later
            _save(student, out / f"round_{label:02d}.zip")
        scores = evaluate_pixel_policy(
            student,
            config.env_id,
            config.eval_episodes,
            seed=1000,  # the same episodes every time, so rounds compare fairly
            n_stack=config.n_stack,
            env_kwargs={"width": config.size, "height": config.size},
        )
        record = {
            "round": label,
            "beta": beta,
            "frames": int(sum(len(f) for f in frames)),
            "bc_loss": loss,
            "rollout_returns": returns,
            "student_returns": scores,
            "student_mean": float(np.mean(scores)),
        }
        if record["student_mean"] > best:
            best = record["student_mean"]
            _save(student, out / "best.zip")
        with open(out / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)

    try:
        for r in range(len(done), config.rounds):
            rng = np.random.default_rng([config.seed, r])
            beta = config.beta_decay**r if r else 1.0
            n = config.first_frames if r == 0 else config.frames_per_round
            new_frames, new_actions, returns = _rollout(
                env, expert, None if r == 0 else student, n, beta, config, rng
            )
            with atomic_path(out / f"round_{r:02d}.npz", suffix=".npz") as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, frames=new_frames, actions=new_actions)
            frames.append(new_frames)
            actions.append(new_actions)
            all_frames, all_actions = np.concatenate(frames), np.concatenate(actions)
            loss = _fit(
                student, optimizer, all_frames, all_actions, config.steps_per_round, config, rng
            )
            finish(r, loss, beta, returns)
        total = int(sum(len(f) for f in frames))
        if not total:
            raise PolicyError(f"rounds={config.rounds} and no frames_from: nothing to fit")
        finished = any(r["round"] < 0 and r["frames"] == total for r in log)
        if config.final_steps and not finished:  # again after more rounds were added
            rng = np.random.default_rng([config.seed, config.rounds])
            for group in optimizer.param_groups:
                group["lr"] = config.final_lr
            loss = _fit(
                student,
                optimizer,
                np.concatenate(frames),
                np.concatenate(actions),
                config.final_steps,
                config,
                rng,
            )
            finish(-1, loss, 0.0, [])
    finally:
        env.close()
    return out


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
        from style_wrap.io import atomic_write_bytes

        atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in records).encode())
    return records


def _save(model: BaseAlgorithm, path: Path) -> None:
    with atomic_path(path, suffix=".zip") as tmp:
        model.save(tmp)
