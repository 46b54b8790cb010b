"""Translate image, array and video files (``style-wrap translate``).

Example:
    >>> from style_wrap.evaluation.media import KINDS
    >>> sorted(KINDS)
    ['.mp4', '.npy', '.png']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from style_wrap.errors import ConfigError, ObservationError
from style_wrap.io import atomic_path, check_output_path, write_image
from style_wrap.settings import check_at_least
from style_wrap.translator import Translator

__all__ = ["KINDS", "translate_file"]

KINDS = {".png": "image", ".npy": "array", ".mp4": "video"}


def _kind(path: Path) -> str:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise ObservationError(f"file {str(path)!r}; expected one of {', '.join(KINDS)}")
    return kind


def _read(path: Path, reader: Any, what: str) -> Any:
    """``reader(path)``; a file the reader cannot decode is an :class:`ObservationError`."""
    try:
        return reader(path)
    except (OSError, ValueError, RuntimeError, EOFError, IndexError) as err:
        raise ObservationError(
            f"{path}: not a readable {what} ({type(err).__name__}: {str(err)[:200]})"
        ) from None


def _batched(translator: Translator, frames: np.ndarray, batch: int, progress: bool) -> np.ndarray:
    """Translate ``frames`` ``batch`` at a time, under a progress bar for long inputs (a
    temporal translator: in order, as one episode)."""
    from tqdm.auto import tqdm

    if translator.temporal:
        starts = np.zeros(len(frames), bool)
        starts[0] = True
        return translator.translate_episodes(frames, starts)

    with tqdm(total=len(frames), unit="frame", disable=not progress or len(frames) <= batch) as bar:
        parts = []
        for i in range(0, len(frames), batch):
            parts.append(translator(np.ascontiguousarray(frames[i : i + batch])))
            bar.update(len(parts[-1]))
    return np.concatenate(parts)


def translate_file(
    translator: Translator,
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    batch_size: int = 64,
    progress: bool = True,
) -> int:
    """Translate ``source`` into ``target`` (same kind); returns the number of frames."""
    import imageio.v3 as iio

    source, target = Path(source), Path(target)
    kind = _kind(source)
    if _kind(target) != kind:
        raise ObservationError(f"{target}: expected a {kind} file like {source}")
    if not source.is_file():
        raise ObservationError(f"input file {str(source)!r} does not exist")
    try:
        check_output_path(target)
    except ConfigError as err:
        raise ObservationError(str(err)) from None
    check_at_least({"batch_size": batch_size}, 1, ObservationError)
    if kind == "image":
        frame = _read(source, iio.imread, "PNG image")
        if frame.ndim != 3 or frame.shape[-1] not in (3, 4):
            raise ObservationError(
                f"{source}: an image of shape {frame.shape}; expected an RGB (or RGBA) image of "
                "shape (height, width, 3)"
            )
        write_image(target, translator(np.ascontiguousarray(frame[..., :3])))
        return 1
    if kind == "array":
        frames = _read(source, lambda p: np.load(p, allow_pickle=False), ".npy array")
        if frames.ndim not in (3, 4):
            raise ObservationError(
                f"{source}: an array of shape {frames.shape}; expected (H, W, 3) or "
                "(N, H, W, 3) uint8 frames"
            )
        out = (
            _batched(translator, frames, batch_size, progress)
            if frames.ndim == 4
            else (translator(frames))
        )
        with atomic_path(target, suffix=".npy") as tmp:
            np.save(tmp, out)
        return len(out) if frames.ndim == 4 else 1
    meta = _read(source, iio.immeta, "video")
    fps = float(meta.get("fps", 20))
    frames = _read(source, iio.imread, "video")
    if frames.ndim != 4 or frames.shape[-1] != 3 or not len(frames):
        raise ObservationError(
            f"{source}: video frames of shape {frames.shape}; expected RGB frames"
        )
    out = _batched(translator, frames, batch_size, progress)
    with atomic_path(target, suffix=".mp4") as tmp:
        iio.imwrite(tmp, out, fps=fps, codec="libx264", macro_block_size=1)
    return len(out)
