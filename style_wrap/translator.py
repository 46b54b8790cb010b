"""One generator on one device: uint8 frames in, uint8 frames out, batched.

This is the whole path of an observation: the HWC uint8 frames are uploaded as they are,
converted to the compute dtype on the device (a permuted view, which is already channels_last),
run through the generator under ``torch.inference_mode``, converted back to uint8 on the device,
and copied out. On CUDA a fixed batch size is replayed from a captured CUDA graph. The wrappers
own no tensor code; they call a :class:`Translator`.

A *temporal* generator (``temporal = true`` in its architecture) also reads each frame's
predecessor and its own translation of it. Its caller keeps a :class:`History` per stream of
frames (one per env, a row per sub-env) and forgets a row where an episode starts; without a
history every frame is translated as an episode's first.

Example:
    >>> import tempfile, numpy as np
    >>> from style_wrap.nets import GeneratorConfig
    >>> from style_wrap.weights import GeneratorSpec, save_generator
    >>> spec = GeneratorSpec(GeneratorConfig(ngf=4, n_blocks=1), 32, 32, "restyled", "standard")
    >>> path = tempfile.mkdtemp() + "/g.safetensors"
    >>> save_generator(path, spec.architecture.build(), spec)
    >>> t = Translator(path, device="cpu")
    >>> out = t(np.zeros((5, 32, 32, 3), np.uint8))
    >>> out.shape, out.dtype, t.frame_shape
    ((5, 32, 32, 3), dtype('uint8'), (32, 32, 3))
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from style_wrap.devices import resolve_device, resolve_dtype
from style_wrap.errors import ObservationError
from style_wrap.floor import estimate_steps
from style_wrap.hub import resolve_weights
from style_wrap.nets import from_model_output, temporal_input, to_model_input
from style_wrap.posenet import PoseNet
from style_wrap.weights import load_generator

__all__ = ["History", "Translator", "episode_starts"]


def episode_starts(steps: np.ndarray) -> np.ndarray:
    """Which frames begin a run of consecutive steps (each frame's step in its episode, ``-1``
    unknown), for :meth:`Translator.translate_episodes`.

    Example:
        >>> episode_starts(np.array([0, 1, 2, 5, 6, 0, -1])).tolist()
        [True, False, False, True, False, True, True]
    """
    steps = np.asarray(steps)
    starts = np.ones(len(steps), bool)
    starts[1:] = (steps[1:] != steps[:-1] + 1) | (steps[1:] <= 0)
    return starts


class History:
    """What a temporal translator remembers of each row's stream: the last frame and its
    translation (uint8 NHWC, on the translator's device), and which rows have them.

    Example:
        >>> h = History()
        >>> h.started(3).tolist()  # nothing seen yet: every row starts an episode
        [False, False, False]
        >>> frames = torch.zeros(3, 2, 2, 3, dtype=torch.uint8)
        >>> h.remember(frames, frames)
        >>> h.forget([1]); h.started(3).tolist()
        [True, False, True]
    """

    def __init__(self) -> None:
        self.frames: torch.Tensor | None = None
        self.outputs: torch.Tensor | None = None
        self.valid: torch.Tensor | None = None
        #: A floor-aware translator's camera position and last step per row (metres).
        self.positions: torch.Tensor | None = None
        self.velocity: torch.Tensor | None = None

    def started(self, n: int) -> torch.Tensor:
        """Which of ``n`` rows have a previous frame (a bool tensor on the CPU)."""
        if self.valid is None or len(self.valid) != n:
            return torch.zeros(n, dtype=torch.bool)
        return self.valid.clone()

    def remember(
        self,
        frames: torch.Tensor,
        outputs: torch.Tensor,
        positions: torch.Tensor | None = None,
        velocity: torch.Tensor | None = None,
    ) -> None:
        """Keep this step's frames and translations (and a floor-aware translator's camera
        positions and steps) for the next step; every row is started."""
        self.frames, self.outputs = frames.clone(), outputs.clone()
        self.positions = None if positions is None else positions.clone()
        self.velocity = None if velocity is None else velocity.clone()
        with torch.inference_mode(False):  # a normal tensor: forget() edits it in place
            self.valid = torch.ones(len(frames), dtype=torch.bool)

    def forget(self, rows: Any = None) -> None:
        """Episodes start again at ``rows`` (indices or a mask; ``None``: all rows)."""
        if rows is None or self.valid is None:
            self.frames = self.outputs = self.valid = self.positions = self.velocity = None
            return
        self.valid[torch.as_tensor(rows)] = False

    def rows(self, index: Any) -> History:
        """A copy holding only ``index``'s rows (to translate final observations)."""
        part = History()
        if self.valid is not None and self.frames is not None and self.outputs is not None:
            i = torch.as_tensor(np.asarray(index, dtype=np.int64))
            part.frames = self.frames[i.to(self.frames.device)]
            part.outputs = self.outputs[i.to(self.outputs.device)]
            part.valid = self.valid[i].clone()
            if self.positions is not None and self.velocity is not None:
                part.positions = self.positions[i.to(self.positions.device)]
                part.velocity = self.velocity[i.to(self.velocity.device)]
        return part

    def copy(self) -> History:
        part = History()
        if self.valid is not None:
            part.frames, part.outputs, part.valid = self.frames, self.outputs, self.valid.clone()
            part.positions, part.velocity = self.positions, self.velocity
        return part


class Translator:
    """A loaded generator that translates batches of uint8 frames.

    Args:
        weights: A ``.safetensors`` generator file or a shipped model's name.
        device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        dtype: Compute dtype: ``float32``, or on CUDA ``float16``/``bfloat16``; ``None`` picks
            float16 on CUDA and float32 on CPU (float32 for a pose translator, whose floor is
            computed from the body's x in metres).
        resize: Accept frames of another size than the generator was trained on, resizing them
            in (area/bilinear) and the result back out. Off by default: a size mismatch is an
            error, never a silently wrong frame.
        compile: Wrap the generator in ``torch.compile`` (slow first call, faster after).
        cuda_graph: On CUDA, capture a CUDA graph per batch size and replay it (per-frame
            generators; a temporal one runs eagerly).
        channels_last: Memory format of the generator's activations; ``None`` picks
            channels_last on CUDA and contiguous NCHW on CPU (faster there for these small
            convolutions, measured by ``style-wrap bench``).
    """

    def __init__(
        self,
        weights: str | os.PathLike[str],
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        *,
        resize: bool = False,
        compile: bool = False,
        cuda_graph: bool = True,
        channels_last: bool | None = None,
    ):
        self._args = {
            "weights": weights,
            "device": str(device),
            "dtype": dtype,
            "resize": resize,
            "compile": compile,
            "cuda_graph": cuda_graph,
            "channels_last": channels_last,
        }
        self.weights = weights
        self.device = resolve_device(device)
        generator, self.spec = load_generator(resolve_weights(weights), self.device)
        self.pose = isinstance(generator, PoseNet)
        if dtype is None:
            fast = self.device.type == "cuda" and not self.pose
            dtype = torch.float16 if fast else torch.float32
        self.dtype = resolve_dtype(dtype)
        self.resize = bool(resize)
        if channels_last is None:
            channels_last = self.device.type == "cuda"
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        generator = generator.to(dtype=self.dtype, memory_format=self.memory_format)
        self.generator: Any = torch.compile(generator) if compile else generator
        self.temporal = self.spec.architecture.temporal
        self.use_cuda_graph = (
            cuda_graph and self.device.type == "cuda" and not compile and not self.temporal
        )
        self._graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]] = {}
        self._pinned: dict[tuple[int, ...], torch.Tensor] = {}

    # Pickling and copying reload the weights from their source instead of pickling tensors.
    def __getstate__(self) -> dict[str, Any]:
        return dict(self._args)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)`` of the frames the generator was trained on."""
        return (self.spec.frame_height, self.spec.frame_width, 3)

    def check_frame_shape(self, shape: tuple[int, ...], what: str = "frames") -> None:
        """Raise :class:`ObservationError` unless frames of ``shape`` can be translated."""
        if len(shape) != 3 or shape[-1] != 3:
            raise ObservationError(f"{what} of shape {shape}; expected (height, width, 3) RGB")
        if not self.resize and tuple(shape) != self.frame_shape:
            raise ObservationError(
                f"{what} of shape {tuple(shape)}, but {self.weights} was trained on "
                f"{self.frame_shape}; expected that size, or pass resize=True to resize in and out"
            )

    def __call__(self, frames: np.ndarray, history: History | None = None) -> np.ndarray:
        """Translate one ``(H, W, 3)`` frame or a batch ``(N, H, W, 3)``; uint8 in and out.

        ``history``: for a temporal generator, each row's previous frame and output, updated
        with this call's (the row of a single frame is row 0); ``None`` translates every frame
        as an episode's first. A per-frame generator ignores it.
        """
        frames = np.asarray(frames)
        if frames.dtype != np.uint8:
            raise ObservationError(f"frames of dtype {frames.dtype}; expected uint8")
        single = frames.ndim == 3
        batch = frames[None] if single else frames
        if batch.ndim != 4:
            raise ObservationError(
                f"frames of shape {frames.shape}; expected (H, W, 3) or (N, H, W, 3)"
            )
        self.check_frame_shape(batch.shape[1:])
        out = self.translate_tensor(self._upload(batch), history).cpu().numpy()
        return out[0] if single else out

    def translate_episodes(self, frames: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Translate ``(N, H, W, 3)`` frames in order, one at a time, as one stream of episodes
        (``starts[i]``: frame ``i`` begins an episode). A per-frame generator translates them
        64 at a time."""
        frames = np.asarray(frames)
        if not self.temporal:
            return np.concatenate([self(frames[i : i + 64]) for i in range(0, len(frames), 64)])
        history, out = History(), np.empty_like(frames)
        for i, frame in enumerate(frames):
            if starts[i]:
                history.forget()
            out[i] = self(frame[None], history)[0]
        return out

    def _upload(self, batch: np.ndarray) -> torch.Tensor:
        host = torch.from_numpy(np.ascontiguousarray(batch))
        if self.device.type == "cpu":
            return host
        pinned = self._pinned.get(batch.shape)
        if pinned is None:
            pinned = self._pinned[batch.shape] = torch.empty(
                batch.shape, dtype=torch.uint8, pin_memory=True
            )
        pinned.copy_(host)
        return pinned.to(self.device, non_blocking=True)

    @torch.inference_mode()
    def translate_tensor(
        self, frames: torch.Tensor, history: History | None = None
    ) -> torch.Tensor:
        """uint8 ``(N, H, W, 3)`` on the device to uint8 ``(N, H, W, 3)`` on the device
        (``history`` as in :meth:`__call__`)."""
        size = frames.shape[1:3]
        if tuple(size) != self.frame_shape[:2]:
            return self._resized(frames, history)
        if self.use_cuda_graph:
            return self._replay(frames)
        return self._forward(frames, history)

    def _forward(self, frames: torch.Tensor, history: History | None = None) -> torch.Tensor:
        x = to_model_input(frames, self.dtype, self.memory_format)
        if not self.temporal:
            return from_model_output(self.generator(x))
        past = history if history is not None else History()
        started = past.started(len(frames))
        if self.pose:
            return self._through_pose(frames, x, past, started, history)
        floor = getattr(self.generator, "floor", None) is not None
        positions = velocity = None
        if floor:
            positions = torch.zeros(len(frames), device=x.device)
            velocity = torch.zeros(len(frames), device=x.device)
        if started.any():
            assert past.frames is not None and past.outputs is not None
            prev = to_model_input(past.frames, self.dtype, self.memory_format)
            prev_out = to_model_input(past.outputs, self.dtype, self.memory_format)
            if floor:
                positions, velocity = self._camera(x, prev, past, started.to(x.device))
            x = temporal_input(x, prev, prev_out, started.to(x.device))
        else:
            x = temporal_input(x)
        x = x.contiguous(memory_format=self.memory_format)
        out = from_model_output(self.generator(x, positions) if floor else self.generator(x))
        if history is not None:
            history.remember(frames, out, positions, velocity)
        return out

    def _through_pose(
        self,
        frames: torch.Tensor,
        x: torch.Tensor,
        past: History,
        started: torch.Tensor,
        history: History | None,
    ) -> torch.Tensor:
        """A pose translator's step: each started row's previous frame and root x from the
        history; an episode's first frame is read as its own predecessor, at x = 0."""
        started = started.to(x.device)
        prev, root_x = x, torch.zeros(len(x), device=x.device)
        if started.any():
            assert past.frames is not None
            prev = to_model_input(past.frames, self.dtype, self.memory_format)
            if past.positions is not None:
                root_x = past.positions.to(x.device)
        y, root_x = self.generator(x, prev, started, root_x)
        out = from_model_output(y)
        if history is not None:
            history.remember(frames, out, root_x, torch.zeros_like(root_x))
        return out

    def _camera(
        self, x: torch.Tensor, prev: torch.Tensor, past: History, started: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A floor-aware generator's camera positions and steps for frames ``x``: each started
        row's step read from its previous frame (:func:`~style_wrap.floor.estimate_steps`, near
        its last step) added to its last position; 0 and 0 where an episode starts."""
        n = len(x)
        last_pos = past.positions if past.positions is not None else torch.zeros(n)
        last_vel = past.velocity if past.velocity is not None else torch.zeros(n)
        last_pos, last_vel = last_pos.to(x.device), last_vel.to(x.device)
        last_vel = torch.where(started, last_vel, 0.0)
        step = estimate_steps(prev, x, self.generator.floor_source, last_vel)
        step = torch.where(started, step, 0.0)
        return torch.where(started, last_pos + step, 0.0), step

    def _resized(self, frames: torch.Tensor, history: History | None = None) -> torch.Tensor:
        h, w = frames.shape[1:3]
        x = frames.permute(0, 3, 1, 2).float()
        x = F.interpolate(
            x, size=self.frame_shape[:2], mode="bilinear", antialias=True, align_corners=False
        )
        y = self._forward(x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1), history)
        y = F.interpolate(
            y.permute(0, 3, 1, 2).float(),
            size=(h, w),
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )
        return y.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)

    def _replay(self, frames: torch.Tensor) -> torch.Tensor:
        n = frames.shape[0]
        if n not in self._graphs:
            static_in = frames.clone()
            stream = torch.cuda.Stream(self.device)
            stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(stream):
                for _ in range(3):  # warm up kernels and the allocator outside the capture
                    self._forward(static_in)
            torch.cuda.current_stream(self.device).wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = self._forward(static_in)
            self._graphs[n] = (graph, static_in, static_out)
        graph, static_in, static_out = self._graphs[n]
        static_in.copy_(frames)
        graph.replay()
        return static_out.clone()

    def __repr__(self) -> str:
        return (
            f"Translator({str(self.weights)!r}, {self.spec.domain_from} -> "
            f"{self.spec.domain_to}, device={self.device}, dtype={self.dtype})"
        )
