"""Everything that imports stable-baselines3: its vec-env wrapper, policy loading, actors and
episodes, the state expert, and DAgger distillation of the expert into a pixel policy.

``import style_wrap`` does not import this wing; ``style_wrap.VecStyleTransfer`` does, on use.
"""

from __future__ import annotations

from style_wrap.rl.policies import FrameStacker, PolicyError, frames_stacked, load_policy
from style_wrap.rl.vec_env import VecStyleTransfer

__all__ = ["FrameStacker", "PolicyError", "VecStyleTransfer", "frames_stacked", "load_policy"]
