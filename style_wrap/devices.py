"""Torch device and dtype choice, with the package's errors.

Example:
    >>> from style_wrap.devices import resolve_device, resolve_dtype
    >>> resolve_device("cpu"), resolve_dtype(None)
    (device(type='cpu'), torch.float32)
"""

from __future__ import annotations

import torch

from style_wrap.errors import DeviceError

__all__ = ["resolve_device", "resolve_dtype", "DTYPES"]

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` is CUDA when available, else CPU; an unavailable CUDA device is an error."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceError(
            f"device {device!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {str(device)!r} was asked for but CUDA is not available "
                "here; expected 'cpu' or 'auto'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {str(device)!r}: only {torch.cuda.device_count()} CUDA device(s) here"
            )
    elif dev.type != "cpu":
        raise DeviceError(f"device {str(device)!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    return dev


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    """The compute dtype: float32 by default; float16 and bfloat16 on request.

    Half types are meant for CUDA; on the CPU they run (and the tests use them there to exercise
    the CUDA code path) but are slower than float32.
    """
    if dtype is None:
        return torch.float32
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise DeviceError(f"dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
        dtype = DTYPES[dtype]
    if dtype not in DTYPES.values():
        raise DeviceError(f"dtype {dtype}; expected one of {', '.join(DTYPES)}")
    return dtype
