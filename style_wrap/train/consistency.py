"""Policy consistency: the target domain's pixel policy judges the translation by its actions.

RL-CycleGAN (Rao et al., 2020) makes a translator keep what the task needs by asking that a
policy's outputs on translated images agree with its outputs on the source. Here the judge is
sharper and needs no paired images: the simulator recorded each domain-A frame's state, a state
expert labels that state with its action, and the frozen domain-B pixel policy, shown G_AB's
translation of the last ``n`` consecutive domain-A frames (stacked as the policy saw them in
training), must take that action. The loss reaches G_AB only; the policy and expert stay fixed.

Example:
    >>> import torch
    >>> head = PolicyHead.__new__(PolicyHead)  # the stacking rule, without a policy
    >>> head.n_stack = 3
    >>> frames = torch.arange(2 * 3 * 3 * 2 * 2.0).reshape(6, 3, 2, 2)  # 2 stacks of 3 frames
    >>> stacked = head.stack(frames)
    >>> stacked.shape, bool((stacked[1, 6:] == frames[5]).all())  # newest frame last
    (torch.Size([2, 9, 2, 2]), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from style_wrap.augment import shift
from style_wrap.errors import ConfigError
from style_wrap.hub import resolve_policy
from style_wrap.rl.expert import StateExpert
from style_wrap.rl.policies import PolicyError, frames_stacked, load_policy
from style_wrap.train.data import FrameData

__all__ = ["PolicyHead", "PolicyPanel", "expert_labels", "policy_panel", "resolve_policy_path"]


def resolve_policy_path(name: str) -> Path:
    """A pixel-policy path: a file as given, else a shipped policy's file name.

    Example:
        >>> resolve_policy_path("halfcheetah-pixel-policy").name
        'halfcheetah-pixel-policy.safetensors'
    """
    path = resolve_policy(name)
    if not path.is_file():
        raise ConfigError(
            f"setting policy = {name!r}: no such file and no shipped policy of that name; "
            "expected a pixel policy file (.safetensors, or an SB3 .zip you trust) for domain B"
        )
    return path


def expert_labels(expert_folder: str, data: FrameData, index: np.ndarray) -> np.ndarray:
    """The state expert's deterministic action at the recorded state of each frame in ``index``."""
    if data.qpos is None or data.qvel is None:
        raise ConfigError(
            "lambda_policy > 0 needs domain-A frames with their physics state; expected frames "
            "collected from a MuJoCo env"
        )
    try:
        expert = StateExpert(expert_folder)
    except PolicyError as err:
        raise ConfigError(f"setting policy_expert = {expert_folder!r}: {err}") from None
    return np.stack([expert.act(data.qpos[i], data.qvel[i]) for i in index]).astype(np.float32)


class PolicyHead:
    """A frozen SB3 pixel policy as a differentiable function of translated frames.

    Args:
        policy: Path of an SB3 model that reads ``n`` stacked RGB frames (channel-first, as SB3
            stores image policies).
        frame_size: ``(height, width)`` of the training frames.
        device: Where the policy runs (the training device).
        shift: :meth:`loss` moves each stack by a random offset of up to this many pixels
            (edges replicated) before the policy reads it; 0 leaves the frames as they are.
    """

    def __init__(
        self,
        policy: str | Path,
        frame_size: tuple[int, int],
        device: torch.device,
        shift: int = 0,
    ):
        try:
            model = load_policy(policy, device=str(device))
            self.n_stack = frames_stacked(model, 3)
        except PolicyError as err:
            raise ConfigError(f"setting policy = {str(policy)!r}: {err}") from None
        expected = (3 * self.n_stack, *frame_size)
        if tuple(model.observation_space.shape) != expected:
            raise ConfigError(
                f"setting policy = {str(policy)!r}: it reads observations of shape "
                f"{model.observation_space.shape}; expected {expected} ({self.n_stack} stacked "
                f"frames of the training frames' size)"
            )
        if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
            raise ConfigError(f"setting policy_shift = {shift!r}; expected an integer >= 0")
        self.shift = shift
        self.policy: Any = model.policy
        self.policy.set_training_mode(False)
        self.policy.requires_grad_(False)

    def stack(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B * n, 3, H, W)`` frames, oldest first in each run of ``n``, to ``(B, 3n, H, W)``."""
        b = frames.shape[0] // self.n_stack
        return frames.reshape(b, self.n_stack * frames.shape[1], *frames.shape[2:])

    def _mean(self, stacks: torch.Tensor) -> torch.Tensor:
        pixels = (stacks.float() + 1.0) * 127.5  # the policy scales 0..255 itself
        return self.policy.get_distribution(pixels).distribution.mean

    def shifted(self, stacks: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` stacks, each moved by its own random offset of up to ``shift`` pixels.

        Every frame of a stack moves together (the motion between them stays what it was); the
        uncovered border repeats the edge pixels. Gradients flow through (it is an index).

        Example:
            >>> head = PolicyHead.__new__(PolicyHead)
            >>> head.shift = 1
            >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
            >>> y = head.shifted(x)
            >>> y.shape, bool(((y - x).abs().amax() <= 5).item())  # at most one row and column
            (torch.Size([1, 1, 4, 4]), True)
        """
        if self.shift == 0:
            return stacks
        k, b = self.shift, stacks.shape[0]
        return shift(stacks, torch.randint(0, 2 * k + 1, (2, b, 1), device=stacks.device), k)

    def loss(self, frames: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean squared error between the policy's actions and the expert's labels.

        With ``shift``, the policy reads each stack at a random offset (see :meth:`shifted`).
        """
        return F.mse_loss(self._mean(self.shifted(self.stack(frames))).float(), labels)


class PolicyPanel:
    """Several frozen pixel policies that judge a translation together.

    A translator fitted to one policy's actions learns what that policy reads and nothing else:
    it becomes an adapter for that policy. Asking several policies of the same domain B at once
    (each must take the expert's action; the loss is the mean of their losses) leaves it less room
    to please one of them through details the others do not read.

    Args:
        heads: One :class:`PolicyHead` per policy; all must read the same number of frames.

    Example:
        >>> a, b = PolicyHead.__new__(PolicyHead), PolicyHead.__new__(PolicyHead)
        >>> a.n_stack, b.n_stack = 3, 4
        >>> PolicyPanel([a, b])
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: setting policy: they read 3, 4 stacked frames; expected one
    """

    def __init__(self, heads: Sequence[PolicyHead]):
        if not heads:
            raise ConfigError("setting policy: no policy given; expected at least one")
        stacks = sorted({h.n_stack for h in heads})
        if len(stacks) > 1:
            raise ConfigError(
                f"setting policy: they read {', '.join(map(str, stacks))} stacked frames; "
                "expected one"
            )
        self.heads = list(heads)
        self.n_stack = stacks[0]

    def __len__(self) -> int:
        return len(self.heads)

    def loss(self, frames: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The mean over the policies of :meth:`PolicyHead.loss`."""
        return torch.stack([h.loss(frames, labels) for h in self.heads]).mean()


def policy_panel(
    policies: str, frame_size: tuple[int, int], device: torch.device, shift: int = 0
) -> PolicyPanel:
    """The panel of the comma-separated ``policies`` (files, or shipped policy file names).

    Example:
        >>> policy_panel(" , ", (64, 64), torch.device("cpu"))
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: setting policy = ' , '; expected comma-separated policy files
    """
    names = [n.strip() for n in policies.split(",") if n.strip()]
    if not names:
        raise ConfigError(f"setting policy = {policies!r}; expected comma-separated policy files")
    return PolicyPanel(
        [PolicyHead(resolve_policy_path(n), frame_size, device, shift) for n in names]
    )
