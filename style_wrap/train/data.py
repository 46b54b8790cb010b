"""Frame datasets: the shard format of one domain's unpaired frames, written and read back.

A dataset folder holds ``manifest.json`` and ``shard-NNNNN.npz`` files. Each shard has
``frames`` (uint8, ``(n, H, W, 3)``), ``steps`` (each frame's step within its episode, so runs of
consecutive frames can be stacked as a pixel policy sees them) and, for MuJoCo envs, the physics
state of each frame (``qpos``, ``qvel``). A shard is written to a temporary name and renamed, and
only then listed in the manifest (itself replaced atomically), so an interrupted collection never
leaves a shard that a reader would take. Writing again into the same folder appends.
:func:`style_wrap.train.collect.collect` fills a folder from an env.

Example:
    >>> import tempfile, numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_frames(folder, np.zeros((6, 8, 8, 3), np.uint8), name="black",
    ...                 qpos=np.zeros((6, 9)), qvel=np.zeros((6, 9)))
    >>> data = load_frames(folder)
    >>> data.frames.shape, data.qpos.shape
    ((6, 8, 8, 3), (6, 9))
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from style_wrap.errors import DataError
from style_wrap.io import atomic_path, atomic_write_bytes

__all__ = [
    "FORMAT",
    "FrameData",
    "MANIFEST",
    "load_frames",
    "open_manifest",
    "read_manifest",
    "save_frames",
    "write_shard",
]

MANIFEST = "manifest.json"
FORMAT = "style_wrap.frames"


@dataclass(frozen=True)
class FrameData:
    """Frames of one domain, with their physics state when the env recorded it."""

    frames: np.ndarray
    qpos: np.ndarray | None
    qvel: np.ndarray | None
    manifest: dict[str, Any]
    steps: np.ndarray | None = None
    """Each frame's step in its episode (int64), ``-1`` where unknown (frames saved as they are,
    or collected before steps were recorded, or with ``every > 1``)."""

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def name(self) -> str:
        """The domain's name: the manifest's ``name``, else its env id."""
        return str(self.manifest.get("name") or self.manifest.get("env_id", "domain"))

    def stack_ends(self, n: int) -> np.ndarray:
        """Indices ``i`` whose frames ``i-n+1 .. i`` are ``n`` consecutive steps of one episode.

        Example:
            >>> import numpy as np
            >>> data = FrameData(np.zeros((6, 2, 2, 3), np.uint8), None, None, {},
            ...                  steps=np.array([0, 1, 2, 3, 0, 1]))
            >>> data.stack_ends(3).tolist(), data.stack_ends(2).tolist()
            ([2, 3], [1, 2, 3, 5])
        """
        if self.steps is None or n < 1:
            return np.zeros(0, np.int64)
        steps = np.asarray(self.steps)
        ok = steps >= n - 1
        for k in range(1, n):
            ok[k:] &= steps[k:] - steps[:-k] == k
            ok[:k] = False
        return np.flatnonzero(ok)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a dataset folder; :class:`DataError` if it is missing or unreadable."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise DataError(f"{folder}: no {MANIFEST}; expected a folder made by `style-wrap collect`")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: unreadable manifest ({err})") from None
    if manifest.get("format") != FORMAT:
        raise DataError(f"{path}: format {manifest.get('format')!r}; expected {FORMAT!r}")
    return manifest


def open_manifest(
    out: Path, env_id: str, env_kwargs: dict[str, Any], shape: list[int], name: str | None
) -> dict[str, Any]:
    if (out / MANIFEST).exists():
        manifest = read_manifest(out)
        if manifest["frame_shape"] != shape:
            raise DataError(
                f"{out}: holds frames of shape {manifest['frame_shape']}; new frames have {shape}. "
                "Expected the same frame size in one dataset folder"
            )
        return manifest
    if out.exists() and any(out.iterdir()):
        raise DataError(
            f"{out}: exists, is not empty and has no {MANIFEST}; expected a new "
            "folder or a dataset folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    return {
        "format": FORMAT,
        "version": 1,
        "name": name or env_id,
        "env_id": env_id,
        "env_kwargs": _jsonable(env_kwargs),
        "frame_shape": shape,
        "has_state": False,
        "shards": [],
    }


def _jsonable(kwargs: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(kwargs, default=repr))


def write_shard(
    out: Path, manifest: dict[str, Any], buffer: dict[str, list[np.ndarray]], seed: int
) -> None:
    index = len(manifest["shards"])
    file = f"shard-{index:05d}.npz"
    arrays = {"frames": np.stack(buffer["frames"]).astype(np.uint8)}
    if buffer["qpos"]:
        arrays["qpos"] = np.stack(buffer["qpos"])
        arrays["qvel"] = np.stack(buffer["qvel"])
    if buffer.get("steps"):
        arrays["steps"] = np.asarray(buffer["steps"], np.int64)
    with atomic_path(out / file, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    manifest["shards"].append({"file": file, "frames": len(arrays["frames"]), "seed": seed})
    atomic_write_bytes(out / MANIFEST, json.dumps(manifest, indent=1).encode())


def save_frames(
    out: str | os.PathLike[str],
    frames: np.ndarray,
    *,
    name: str,
    qpos: np.ndarray | None = None,
    qvel: np.ndarray | None = None,
    shard_size: int = 1000,
) -> dict[str, Any]:
    """Store frames you already have (uint8, ``(n, H, W, 3)``) as a dataset folder, appending.

    Example:
        >>> import tempfile, numpy as np
        >>> folder = tempfile.mkdtemp()
        >>> _ = save_frames(folder, np.zeros((5, 8, 8, 3), np.uint8), name="black")
        >>> load_frames(folder).name, len(load_frames(folder))
        ('black', 5)
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or not len(frames):
        raise DataError(
            f"frames of dtype {frames.dtype} and shape {frames.shape}; expected "
            "uint8 (n, H, W, 3) with n >= 1"
        )
    if (qpos is None) != (qvel is None):
        raise DataError("qpos and qvel: expected both or neither")
    out = Path(out)
    manifest = open_manifest(out, "", {}, list(frames.shape[1:]), name)
    has_state = qpos is not None
    if manifest["shards"] and manifest["has_state"] != has_state:
        raise DataError(
            f"{out}: existing shards have_state={manifest['has_state']}; expected the same"
        )
    manifest["has_state"] = has_state
    for start in range(0, len(frames), shard_size):
        part = slice(start, start + shard_size)
        write_shard(
            out,
            manifest,
            {
                "frames": list(frames[part]),
                "qpos": [] if qpos is None else list(np.asarray(qpos)[part]),
                "qvel": [] if qvel is None else list(np.asarray(qvel)[part]),
            },
            seed=-1,
        )
    return manifest


def load_frames(folder: str | os.PathLike[str]) -> FrameData:
    """Read a dataset folder into memory, checking every shard against the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not manifest["shards"]:
        raise DataError(f"{folder}: the manifest lists no shards; expected at least one frame")
    shape = tuple(manifest["frame_shape"])
    parts: dict[str, list[np.ndarray]] = {"frames": [], "qpos": [], "qvel": [], "steps": []}
    for shard in manifest["shards"]:
        path = folder / shard["file"]
        try:
            with np.load(path) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            raise DataError(f"{path}: corrupt or missing shard ({err})") from None
        frames = arrays.get("frames")
        if frames is None or frames.dtype != np.uint8 or frames.shape[1:] != shape:
            got = None if frames is None else (frames.dtype, frames.shape[1:])
            raise DataError(f"{path}: frames {got}; expected uint8 frames of shape {shape}")
        if len(frames) != shard["frames"]:
            raise DataError(f"{path}: {len(frames)} frames; the manifest says {shard['frames']}")
        parts["frames"].append(frames)
        steps = arrays.get("steps")
        if steps is None or steps.shape != (len(frames),):
            steps = np.full(len(frames), -1, np.int64)  # unknown: never part of a stack
        parts["steps"].append(steps.astype(np.int64))
        if manifest["has_state"]:
            parts["qpos"].append(arrays["qpos"])
            parts["qvel"].append(arrays["qvel"])
    state = manifest["has_state"]
    return FrameData(
        np.concatenate(parts["frames"]),
        np.concatenate(parts["qpos"]) if state else None,
        np.concatenate(parts["qvel"]) if state else None,
        manifest,
        np.concatenate(parts["steps"]),
    )
