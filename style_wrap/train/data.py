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
import re
import zipfile
import zlib
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
    or collected before steps were recorded)."""

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


_SHARD = re.compile(r"shard-\d{5,}\.npz")


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a dataset folder, checked; :class:`DataError` naming what is wrong."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise DataError(f"{folder}: no {MANIFEST}; expected a folder made by `style-wrap collect`")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: unreadable manifest ({err})") from None
    _check_manifest(manifest, path)
    return manifest


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _check_manifest(manifest: Any, path: Path) -> None:
    """Every field a reader uses, of the type and range it needs."""
    if not isinstance(manifest, dict):
        raise DataError(f"{path}: a JSON {type(manifest).__name__}; expected an object")
    if manifest.get("format") != FORMAT:
        raise DataError(f"{path}: format {manifest.get('format')!r}; expected {FORMAT!r}")
    shape = manifest.get("frame_shape")
    if (
        not (isinstance(shape, list) and len(shape) == 3 and all(_is_int(n, 1) for n in shape))
        or shape[2] != 3
    ):
        raise DataError(f"{path}: frame_shape {shape!r}; expected [height, width, 3]")
    if not isinstance(manifest.get("has_state"), bool):
        raise DataError(f"{path}: has_state {manifest.get('has_state')!r}; expected true or false")
    shards = manifest.get("shards")
    if not isinstance(shards, list):
        raise DataError(f"{path}: shards {shards!r}; expected a list of shard entries")
    for i, shard in enumerate(shards):
        if not isinstance(shard, dict):
            raise DataError(f"{path}: shards[{i}] = {shard!r}; expected an object")
        file = shard.get("file")
        if not (isinstance(file, str) and _SHARD.fullmatch(file)):
            raise DataError(
                f"{path}: shards[{i}].file = {file!r}; expected a shard file name in the "
                "folder (shard-NNNNN.npz)"
            )
        if not _is_int(shard.get("frames"), 1):
            raise DataError(
                f"{path}: shards[{i}].frames = {shard.get('frames')!r}; expected an integer >= 1"
            )


def _tidy(out: Path, manifest: dict[str, Any]) -> None:
    """Remove what a killed collection left: temporary files, and shards the manifest does not
    list (written, but killed before they were listed)."""
    listed = {s["file"] for s in manifest["shards"]}
    for p in out.iterdir():
        stale = p.name.startswith((".shard-", f".{MANIFEST}."))
        if stale or (_SHARD.fullmatch(p.name) and p.name not in listed):
            p.unlink()


def open_manifest(
    out: Path, env_id: str, env_kwargs: dict[str, Any], shape: list[int], name: str | None
) -> dict[str, Any]:
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: is a file; expected a dataset folder (new or made by collect)")
    if (out / MANIFEST).exists():
        manifest = read_manifest(out)
        _tidy(out, manifest)
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
    steps: np.ndarray | None = None,
    shard_size: int = 1000,
) -> dict[str, Any]:
    """Store frames you already have (uint8, ``(n, H, W, 3)``) as a dataset folder, appending.

    ``steps``: each frame's step in its episode (0 starts one), for the settings that read
    consecutive frames (a temporal generator, the policy term); unknown without it.

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
    if steps is not None:
        steps = np.asarray(steps)
        if steps.shape != (len(frames),) or steps.dtype.kind not in "iu" or (steps < 0).any():
            raise DataError(
                f"steps of dtype {steps.dtype} and shape {steps.shape}; expected "
                f"({len(frames)},) integers >= 0, one per frame"
            )
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
                "steps": [] if steps is None else [int(k) for k in steps[part]],
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
        arrays = _read_shard(folder / shard["file"], shard, shape, manifest["has_state"])
        for k, v in arrays.items():
            parts[k].append(v)
    state = manifest["has_state"]
    return FrameData(
        np.concatenate(parts["frames"]),
        np.concatenate(parts["qpos"]) if state else None,
        np.concatenate(parts["qvel"]) if state else None,
        manifest,
        np.concatenate(parts["steps"]),
    )


def _read_shard(
    path: Path, shard: dict[str, Any], shape: tuple[int, ...], has_state: bool
) -> dict[str, np.ndarray]:
    """One shard's arrays, checked against its manifest entry (no pickles are read)."""
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise DataError(f"{path}: a single array; expected an .npz shard")
        with z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise DataError(f"{path}: corrupt or missing shard ({err})") from None
    frames = arrays.get("frames")
    if frames is None or frames.dtype != np.uint8 or frames.shape[1:] != shape:
        got = None if frames is None else (frames.dtype, frames.shape[1:])
        raise DataError(f"{path}: frames {got}; expected uint8 frames of shape {shape}")
    n = len(frames)
    if n != shard["frames"]:
        raise DataError(f"{path}: {n} frames; the manifest says {shard['frames']}")
    steps = arrays.get("steps")
    if steps is None or steps.shape != (n,) or steps.dtype.kind not in "iu":
        steps = np.full(n, -1, np.int64)  # unknown: never part of a stack
    out = {"frames": frames, "steps": steps.astype(np.int64)}
    if has_state:
        for key in ("qpos", "qvel"):
            value = arrays.get(key)
            if value is None or value.ndim != 2 or len(value) != n or value.dtype.kind != "f":
                got = None if value is None else (value.dtype, value.shape)
                raise DataError(f"{path}: {key} {got}; expected {n} rows of floats (has_state)")
            if not np.isfinite(value).all():
                raise DataError(f"{path}: {key} holds NaN or infinite values; expected a state")
            out[key] = value
    return out
