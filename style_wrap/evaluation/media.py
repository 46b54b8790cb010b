"""Translate image, array and video files (``style-wrap translate``).

Example:
    >>> from style_wrap.evaluation.media import KINDS
    >>> sorted(KINDS)
    ['.mp4', '.npy', '.png']
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from style_wrap.errors import ObservationError
from style_wrap.io import atomic_path, write_image
from style_wrap.translator import Translator

__all__ = ["KINDS", "translate_file"]

KINDS = {".png": "image", ".npy": "array", ".mp4": "video"}


def _kind(path: Path) -> str:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise ObservationError(f"file {str(path)!r}; expected one of {', '.join(KINDS)}")
    return kind


def translate_file(
    translator: Translator,
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    batch_size: int = 64,
) -> int:
    """Translate ``source`` into ``target`` (same kind); returns the number of frames."""
    import imageio.v3 as iio

    source, target = Path(source), Path(target)
    kind = _kind(source)
    if _kind(target) != kind:
        raise ObservationError(f"{target}: expected a {kind} file like {source}")
    if not source.is_file():
        raise ObservationError(f"input file {str(source)!r} does not exist")
    if kind == "image":
        frame = iio.imread(source)
        write_image(target, translator(np.ascontiguousarray(frame[..., :3])))
        return 1
    if kind == "array":
        frames = np.load(source, allow_pickle=False)
        out = (
            np.concatenate(
                [translator(frames[i : i + batch_size]) for i in range(0, len(frames), batch_size)]
            )
            if frames.ndim == 4
            else translator(frames)
        )
        with atomic_path(target, suffix=".npy") as tmp:
            np.save(tmp, out)
        return len(out) if frames.ndim == 4 else 1
    meta = iio.immeta(source)
    fps = float(meta.get("fps", 20))
    frames = iio.imread(source)
    out = np.concatenate(
        [
            translator(np.ascontiguousarray(frames[i : i + batch_size]))
            for i in range(0, len(frames), batch_size)
        ]
    )
    with atomic_path(target, suffix=".mp4") as tmp:
        iio.imwrite(tmp, out, fps=fps, codec="libx264", macro_block_size=1)
    return len(out)
