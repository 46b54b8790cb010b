"""Atomic file writes: write beside the target, then rename, so nothing is left half-written.

Example:
    >>> import tempfile, pathlib
    >>> from style_wrap.io import atomic_write_bytes
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write_bytes(path, b"hello")
    >>> path.read_bytes()
    b'hello'
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "check_output_path",
    "read_safetensors_header",
    "write_image",
]

#: The longest safetensors header read (the format's own limit is 100 MB).
MAX_HEADER = 100_000_000

# mkstemp makes private (0600) files; the renamed result should get the usual permissions.
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.",
        suffix=suffix or "".join(target.suffixes) or ".tmp",
        dir=target.parent,
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Raise :class:`~style_wrap.errors.ConfigError` unless ``path`` can be written as a file
    (checked before long work, so that a run does not find out at its end).

    Example:
        >>> import tempfile
        >>> check_output_path(tempfile.mkdtemp())
        Traceback (most recent call last):
        ...
        style_wrap.errors.ConfigError: output path ... is a folder; expected a file path
    """
    from style_wrap.errors import ConfigError

    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"output path {str(p)!r} is a folder; expected a file path")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"output path {str(p)!r}: {str(parent)!r} is a file; expected a folder there"
                )
            if not os.access(parent, os.W_OK):
                raise ConfigError(f"output path {str(p)!r}: folder {str(parent)!r} is not writable")
            break
    return p


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_image(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """Write an HWC uint8 image (PNG or any format imageio knows by suffix) atomically."""
    import imageio.v3 as iio

    with atomic_path(path) as tmp:
        iio.imwrite(tmp, image, extension=Path(path).suffix or ".png")


def read_safetensors_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a safetensors file, read without its tensors (any path, UTF-8 or not).

    Returns ``{tensor name: {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}``. Raises
    ``ValueError`` naming what is wrong with a file that is not safetensors.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        start = f.read(8)
        if len(start) < 8:
            raise ValueError(f"{size} bytes; expected an 8-byte header length first")
        n = int.from_bytes(start, "little")
        if n > min(size - 8, MAX_HEADER):
            raise ValueError(f"header length {n} in a file of {size} bytes")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"header is not JSON ({err})") from None
    if not isinstance(header, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("shape"), list) and isinstance(v.get("dtype"), str)
        for k, v in header.items()
        if k != "__metadata__"
    ):
        raise ValueError("header is not a map of tensor names to dtype and shape")
    meta = header.get("__metadata__")
    if meta is not None and not (
        isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())
    ):
        raise ValueError("header metadata is not a map of strings")
    return header
