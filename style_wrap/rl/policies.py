"""Loading stable-baselines3 policies, and reading their frames.

Two file formats:

- **safetensors** (``.safetensors``, :func:`save_policy_weights`): the policy network's tensors
  with its algorithm, policy class, spaces and ``policy_kwargs`` as JSON in the header. Loading it
  unpickles nothing: the policy is rebuilt from the header and the tensors are checked against
  it. The shipped policy is this format.
- **SB3's own zip** (``.zip``): its ``data`` entries are cloudpickled, so loading one can run
  code. Load only zips you trust; the package opens a zip only when you name it.

Example:
    >>> from style_wrap.rl.policies import ALGORITHMS
    >>> sorted(ALGORITHMS)[:3]
    ['A2C', 'DDPG', 'DQN']
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from safetensors.torch import save as save_tensors
from stable_baselines3 import A2C, DDPG, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from torch import nn

from style_wrap.errors import StyleWrapError
from style_wrap.io import atomic_write_bytes, read_safetensors_header

__all__ = [
    "ALGORITHMS",
    "FrameStacker",
    "check_policy_file",
    "PolicyError",
    "frames_stacked",
    "load_policy",
    "save_policy",
    "save_policy_weights",
]

POLICY_FORMAT = "style_wrap.policy"
POLICY_FORMAT_VERSION = 1
#: Algorithms whose policies the safetensors format rebuilds (on-policy: no replay buffer).
REBUILDABLE = ("PPO", "A2C")
#: ``policy_kwargs`` the safetensors format records (classes by their ``torch.nn`` name).
_KWARGS = (
    "net_arch",
    "activation_fn",
    "ortho_init",
    "log_std_init",
    "normalize_images",
    "share_features_extractor",
    "features_extractor_kwargs",
    "full_std",
    "squash_output",
)

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
    """Load a policy: a shipped policy's name, a ``.safetensors`` policy (no unpickling) or an
    SB3 ``.zip``.

    An SB3 zip is SB3's own format, whose entries are cloudpickled: loading one can run code, so
    name only zips you trust (:func:`save_policy_weights` turns one into the safe format).
    """
    from style_wrap.hub import resolve_policy

    p = resolve_policy(path)
    if not p.is_file():
        raise PolicyError(
            f"policy file {str(p)!r} does not exist; expected a .safetensors policy or an SB3 .zip"
        )
    if p.suffix == ".safetensors":
        return _load_policy_weights(p, device)
    try:
        algorithm = _algorithm_of(p)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise PolicyError(f"{p}: not a stable-baselines3 model file ({err})") from None
    try:
        return ALGORITHMS[algorithm].load(p, device=device)
    except (KeyError, ValueError, RuntimeError, EOFError, zipfile.BadZipFile) as err:
        raise PolicyError(f"{p}: a damaged stable-baselines3 model file ({err!r})") from None


def _space_json(space: spaces.Space, what: str) -> dict[str, Any]:
    if not isinstance(space, spaces.Box):
        raise PolicyError(f"{what} {space}; expected a gymnasium Box (the format records Boxes)")
    low, high = space.low.reshape(-1), space.high.reshape(-1)
    same = bool((low == low[0]).all() and (high == high[0]).all())
    return {
        "shape": list(space.shape),
        "dtype": str(space.dtype),
        "low": low[0].item() if same else low.tolist(),
        "high": high[0].item() if same else high.tolist(),
    }


def _space_from_json(value: Any, source: str, what: str) -> spaces.Box:
    try:
        shape = tuple(int(n) for n in value["shape"])
        dtype = np.dtype(value["dtype"])
        low, high = (np.asarray(value[k], dtype) for k in ("low", "high"))
        if not shape or min(shape) < 1 or math.prod(shape) > 2**24 or dtype.kind not in "uif":
            raise ValueError(f"shape {shape}, dtype {dtype}")
        return spaces.Box(np.broadcast_to(low, shape), np.broadcast_to(high, shape), shape, dtype)
    except (KeyError, TypeError, ValueError) as err:
        raise PolicyError(
            f"{source}: bad {what} in the header ({err!s}); expected shape, dtype, low, high"
        ) from None


def _kwargs_json(kwargs: dict[str, Any], source: str) -> dict[str, Any]:
    out = {}
    for key, value in kwargs.items():
        if key not in _KWARGS:
            raise PolicyError(
                f"{source}: policy_kwargs {key!r} cannot be recorded; expected only {_KWARGS}"
            )
        if key == "activation_fn":
            value = value.__name__
        out[key] = value
    return out


def _kwargs_from_json(kwargs: Any, source: str) -> dict[str, Any]:
    if not isinstance(kwargs, dict) or set(kwargs) - set(_KWARGS):
        raise PolicyError(f"{source}: policy_kwargs {kwargs!r}; expected keys among {_KWARGS}")
    kwargs = dict(kwargs)
    if "activation_fn" in kwargs:
        name = kwargs["activation_fn"]
        layer = getattr(nn, name, None) if isinstance(name, str) else None
        if not (isinstance(layer, type) and issubclass(layer, nn.Module)):
            raise PolicyError(f"{source}: activation_fn {name!r}; expected a torch.nn layer name")
        kwargs["activation_fn"] = layer
    return kwargs


def save_policy_weights(model: BaseAlgorithm, path: str | os.PathLike[str]) -> None:
    """Write ``model``'s policy as a pickle-free ``.safetensors`` file, atomically.

    The header records the algorithm, the policy class, both spaces and ``policy_kwargs``; the
    tensors are the policy's ``state_dict`` (float32, so actions are those of the zip).
    :func:`load_policy` rebuilds the policy for inference (no optimizer state, a small rollout
    buffer).

    Example:
        >>> import tempfile
        >>> from style_wrap.hub import shipped_file
        >>> model = load_policy(shipped_file("halfcheetah-pixel-policy", "policy"))
        >>> path = tempfile.mkdtemp() + "/p.safetensors"
        >>> save_policy_weights(model, path)
        >>> load_policy(path).observation_space.shape
        (9, 64, 64)
    """
    algorithm = type(model).__name__
    if algorithm not in REBUILDABLE:
        raise PolicyError(f"a {algorithm} policy; the safetensors format holds {REBUILDABLE}")
    aliases = {cls: name for name, cls in type(model).policy_aliases.items()}
    if model.policy_class not in aliases:
        raise PolicyError(
            f"policy class {model.policy_class.__name__}; expected one of SB3's "
            f"{', '.join(type(model).policy_aliases)}"
        )
    meta = {
        "format": POLICY_FORMAT,
        "format_version": str(POLICY_FORMAT_VERSION),
        "algorithm": algorithm,
        "policy": aliases[model.policy_class],
        "observation_space": json.dumps(_space_json(model.observation_space, "observation space")),
        "action_space": json.dumps(_space_json(model.action_space, "action space")),
        "policy_kwargs": json.dumps(_kwargs_json(model.policy_kwargs or {}, str(path))),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in _unshared(model).items()}
    atomic_write_bytes(path, save_tensors(tensors, metadata=meta))


def _load_policy_weights(path: Path, device: str) -> BaseAlgorithm:
    """Rebuild a :func:`save_policy_weights` file: header first, tensors checked against it."""
    try:
        header = read_safetensors_header(path)
    except ValueError as err:
        raise PolicyError(f"{path}: not a readable safetensors file ({err})") from None
    meta = header.pop("__metadata__", None) or {}
    if meta.get("format") != POLICY_FORMAT or meta.get("format_version") != str(
        POLICY_FORMAT_VERSION
    ):
        raise PolicyError(
            f"{path}: header format {meta.get('format')!r} version "
            f"{meta.get('format_version')!r}; expected {POLICY_FORMAT!r} version "
            f"{POLICY_FORMAT_VERSION} (a file of save_policy_weights)"
        )
    algorithm, policy = meta.get("algorithm"), meta.get("policy")
    if algorithm not in REBUILDABLE or policy not in ALGORITHMS[algorithm].policy_aliases:
        raise PolicyError(
            f"{path}: algorithm {algorithm!r} with policy {policy!r}; expected one of "
            f"{REBUILDABLE} with an SB3 policy name (CnnPolicy, MlpPolicy)"
        )
    try:
        obs, act, kwargs = (
            json.loads(meta.get(k, "null"))
            for k in ("observation_space", "action_space", "policy_kwargs")
        )
    except json.JSONDecodeError as err:
        raise PolicyError(f"{path}: header entry is not JSON ({err})") from None
    model = ALGORITHMS[algorithm](
        policy,
        env=None,
        device=device,
        n_steps=2,
        _init_setup_model=False,
        policy_kwargs=_kwargs_from_json(kwargs, str(path)),
        **({"batch_size": 2} if algorithm == "PPO" else {}),
    )
    model.observation_space = _space_from_json(obs, str(path), "observation_space")
    model.action_space = _space_from_json(act, str(path), "action_space")
    model.n_envs = 1
    try:
        model._setup_model()
    except (ValueError, TypeError, AssertionError, RuntimeError) as err:
        raise PolicyError(f"{path}: the header does not build a policy ({err})") from None
    expected = _unshared(model)
    shapes = {k: tuple(v.get("shape", ())) for k, v in header.items() if isinstance(v, dict)}
    wanted = {k: tuple(v.shape) for k, v in expected.items()}
    if shapes != wanted:
        wrong = sorted(set(shapes) ^ set(wanted)) or sorted(
            k for k in wanted if shapes[k] != wanted[k]
        )
        raise PolicyError(
            f"{path}: tensors do not match the policy the header describes (first: {wrong[:3]})"
        )
    from style_wrap.weights import read_tensors

    state = read_tensors(path, PolicyError)
    for name, tensor in state.items():
        if tensor.dtype != expected[name].dtype:
            raise PolicyError(
                f"{path}: tensor {name!r} is {tensor.dtype}; expected {expected[name].dtype}"
            )
    missing, unexpected = model.policy.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= set(model.policy.state_dict()) - set(expected)
    model.policy.set_training_mode(False)
    return model


def _unshared(model: BaseAlgorithm) -> dict[str, torch.Tensor]:
    """The policy's ``state_dict`` with each shared tensor once, under its first name (SB3's
    actor and critic share one features extractor, listed under three names)."""
    seen: set[int] = set()
    out = {}
    for name, tensor in model.policy.state_dict().items():
        if tensor.data_ptr() not in seen or tensor.numel() == 0:
            seen.add(tensor.data_ptr())
            out[name] = tensor
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


def check_policy_file(
    path: str | os.PathLike[str], frame_size: tuple[int, int] | None = (64, 64)
) -> BaseAlgorithm:
    """Load a pixel policy once and check it reads stacked RGB frames of ``frame_size``, so
    that a wrong file fails before the first episode. Returns the policy."""
    model = load_policy(path)
    n = frames_stacked(model)
    shape = tuple(model.observation_space.shape or ())
    spatial = shape[1:] if shape[0] == 3 * n else shape[:2]
    if frame_size is not None and spatial != tuple(frame_size):
        raise PolicyError(
            f"policy {str(path)!r} reads {spatial[0]}x{spatial[1]} frames; expected "
            f"{frame_size[0]}x{frame_size[1]} (the env's frames)"
        )
    return model


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


def save_policy(model: BaseAlgorithm, path: str | os.PathLike[str]) -> None:
    """Write an SB3 model file atomically (SB3's own ``save`` writes in place)."""
    from style_wrap.io import atomic_path

    with atomic_path(path, suffix=".zip") as tmp:
        model.save(tmp)
