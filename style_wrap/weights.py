"""Generator weights as safetensors: tensors plus a metadata header that rebuilds the network.

Nothing here unpickles anything. A file records its architecture, frame size, channel order,
normalisation, the domains it translates between, the training step and a format version; loading
checks all of it against the tensors. Which files ship, and under what names, is
:mod:`style_wrap.hub`'s business.

Example:
    >>> import tempfile, torch
    >>> from style_wrap.nets import GeneratorConfig
    >>> from style_wrap.weights import GeneratorSpec, load_generator, save_generator
    >>> spec = GeneratorSpec(GeneratorConfig(ngf=4, n_blocks=1), 32, 32, "restyled", "standard")
    >>> path = tempfile.mkdtemp() + "/g.safetensors"
    >>> save_generator(path, spec.architecture.build(), spec)
    >>> net, loaded = load_generator(path)
    >>> loaded.domain_from, loaded.frame_height, net.config.ngf
    ('restyled', 32, 4)
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from style_wrap.errors import ConfigError, StyleWrapError, WeightsError
from style_wrap.hub import resolve_weights
from style_wrap.io import atomic_write_bytes, read_safetensors_header
from style_wrap.nets import GeneratorConfig, ResnetGenerator
from style_wrap.posenet import PoseConfig, PoseNet

#: What a weights file's architecture may be: the CycleGAN's ResNet generator, or a translator
#: through the pose (its JSON says ``"kind": "pose"``).
Architecture = GeneratorConfig | PoseConfig

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "GeneratorSpec",
    "save_generator",
    "load_generator",
    "read_spec",
]

FORMAT = "style_wrap.generator"
_FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")
FORMAT_VERSION = 1
CHANNEL_ORDER = "RGB"
NORMALIZATION = "x / 127.5 - 1 (uint8 [0, 255] to [-1, 1]; output inverted the same way)"


@dataclass(frozen=True)
class GeneratorSpec:
    """What a generator file says about itself.

    Args:
        architecture: The network's :class:`~style_wrap.nets.GeneratorConfig` (or
            :class:`~style_wrap.posenet.PoseConfig`).
        frame_height: Height of the frames it was trained on.
        frame_width: Width of the frames it was trained on.
        domain_from: The domain it translates from (its input's look).
        domain_to: The domain it translates to.
        step: Training iterations behind the weights.
        extra: Free-form string metadata (env ids, run name, ...).
    """

    architecture: Architecture
    frame_height: int
    frame_width: int
    domain_from: str = "A"
    domain_to: str = "B"
    step: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, str]:
        """The safetensors header: every value a string."""
        return {
            **{f"extra.{k}": str(v) for k, v in self.extra.items()},
            "format": FORMAT,
            "format_version": str(FORMAT_VERSION),
            "architecture": json.dumps(asdict(self.architecture), sort_keys=True),
            "frame_height": str(self.frame_height),
            "frame_width": str(self.frame_width),
            "channel_order": CHANNEL_ORDER,
            "layout": "HWC uint8 frames in and out; NCHW float inside",
            "normalization": NORMALIZATION,
            "domain_from": self.domain_from,
            "domain_to": self.domain_to,
            "direction": f"{self.domain_from}->{self.domain_to}",
            "step": str(self.step),
        }

    @classmethod
    def from_metadata(
        cls, meta: dict[str, str] | None, source: str = "<metadata>"
    ) -> GeneratorSpec:
        """Parse and check a header; errors name ``source`` and the bad key."""
        meta = meta or {}
        if meta.get("format") != FORMAT:
            raise WeightsError(
                f"{source}: metadata 'format' is {meta.get('format')!r}; expected {FORMAT!r} "
                "(is this a style_wrap generator file?)"
            )
        version = meta.get("format_version", "")
        if version != str(FORMAT_VERSION):
            raise WeightsError(
                f"{source}: format_version {version!r} is not supported; expected {FORMAT_VERSION}"
            )
        if meta.get("channel_order", CHANNEL_ORDER) != CHANNEL_ORDER:
            raise WeightsError(
                f"{source}: channel_order {meta['channel_order']!r}; expected {CHANNEL_ORDER!r}"
            )
        try:
            architecture = parse_architecture(json.loads(meta["architecture"]))
            height, width = int(meta["frame_height"]), int(meta["frame_width"])
            step = int(meta.get("step", "0"))
        except KeyError as err:
            raise WeightsError(f"{source}: metadata lacks key {err.args[0]!r}") from None
        except (ValueError, TypeError, ConfigError) as err:
            raise WeightsError(
                f"{source}: bad architecture or frame size metadata: {err}"
            ) from None
        if height <= 0 or width <= 0:
            raise WeightsError(f"{source}: frame size {height}x{width}; expected positive sides")
        multiple = architecture.multiple
        if height % multiple or width % multiple:
            raise WeightsError(
                f"{source}: frame size {height}x{width}; expected sides that are multiples of "
                f"{multiple} (2 ** n_downsampling), or frames come back at another size"
            )
        if isinstance(architecture, PoseConfig) and (height, width) != (architecture.size,) * 2:
            raise WeightsError(
                f"{source}: frame size {height}x{width}; expected {architecture.size}x"
                f"{architecture.size}, the size its pose translator draws"
            )
        if (architecture.in_channels, architecture.out_channels) != (3, 3):
            raise WeightsError(
                f"{source}: {architecture.in_channels} channels in, {architecture.out_channels} "
                "out; expected 3 and 3 (RGB frames in, RGB frames out)"
            )
        extra = {k[len("extra.") :]: v for k, v in meta.items() if k.startswith("extra.")}
        return cls(
            architecture,
            height,
            width,
            meta.get("domain_from", "A"),
            meta.get("domain_to", "B"),
            step,
            extra,
        )


def parse_architecture(fields: Any) -> Architecture:
    """The architecture a header's JSON describes (``kind`` ``"pose"``: a pose translator).

    Example:
        >>> parse_architecture({"kind": "pose", "n_geoms": 7}).n_geoms
        7
    """
    if not isinstance(fields, dict):
        raise ConfigError(f"architecture {fields!r}; expected a JSON object")
    if fields.get("kind") == "pose":
        return PoseConfig(**fields)
    return GeneratorConfig(**fields)


def save_generator(
    path: str | os.PathLike[str],
    generator: ResnetGenerator | PoseNet,
    spec: GeneratorSpec,
    *,
    dtype: torch.dtype | None = None,
) -> None:
    """Write ``generator`` and ``spec`` to a ``.safetensors`` file atomically.

    Args:
        path: The file to write; its folder is created.
        generator: The network (its ``config`` must equal ``spec.architecture``).
        spec: The metadata.
        dtype: Store floating tensors in this dtype (e.g. ``torch.float16`` to halve the file).
    """
    if generator.config != spec.architecture:
        raise WeightsError(
            f"generator architecture {generator.config} differs from spec {spec.architecture}"
        )
    tensors = {
        k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v)
        .detach()
        .cpu()
        .contiguous()
        for k, v in generator.state_dict().items()
    }
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(
            f"generator tensor {bad[0]!r} holds NaN or infinite values; not writing {path} "
            f"(expected finite weights; {len(bad)} tensors affected)"
        )
    atomic_write_bytes(path, save_tensors(tensors, metadata=spec.to_metadata()))


def _read_header(path: Path) -> dict[str, Any]:
    try:
        return read_safetensors_header(path)
    except ValueError as err:
        raise WeightsError(f"{path}: not a readable safetensors file ({err})") from None


def read_spec(path: str | os.PathLike[str]) -> GeneratorSpec:
    """Read only the metadata of a generator file (cheap: no tensors are loaded)."""
    path = _existing(path)
    return GeneratorSpec.from_metadata(_read_header(path).get("__metadata__"), str(path))


def expected_tensors(architecture: Architecture, count: int | None = None) -> dict[str, tuple]:
    """Name -> shape of the tensors of ``architecture``, built on the meta device (no memory).

    With ``count`` (the number of tensors a file holds) a count that the architecture cannot have
    raises :class:`WeightsError` before the network is built, so that a header claiming a million
    blocks costs nothing.
    """
    if count is not None and isinstance(architecture, GeneratorConfig):
        with torch.device("meta"):
            sizes = [len(replace(architecture, n_blocks=n).build().state_dict()) for n in (0, 1)]
        wanted = sizes[0] + architecture.n_blocks * (sizes[1] - sizes[0])
        if count != wanted:
            raise WeightsError(
                f"{count} tensors; expected {wanted} for {architecture}: the header's "
                "architecture does not match its tensors"
            )
    with torch.device("meta"):
        net = architecture.build()
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def load_generator(
    weights: str | os.PathLike[str],
    device: str | torch.device = "cpu",
) -> tuple[ResnetGenerator | PoseNet, GeneratorSpec]:
    """Build the network a weights file describes and load its tensors, in eval mode.

    Args:
        weights: A ``.safetensors`` path or the name of a shipped translator
            (:func:`style_wrap.hub.list_pretrained`).
        device: Where to put the network.

    Returns:
        The generator (float32) and its :class:`GeneratorSpec`.
    """
    path = _existing(resolve_weights(weights))
    header = _read_header(path)
    spec = GeneratorSpec.from_metadata(header.pop("__metadata__", None), str(path))
    try:
        expected = expected_tensors(spec.architecture, len(header))
    except WeightsError as err:
        raise WeightsError(f"{path}: {err}") from None
    names = set(header)
    missing, unexpected = sorted(set(expected) - names), sorted(names - set(expected))
    if missing or unexpected:
        raise WeightsError(
            f"{path}: tensors do not match the architecture {spec.architecture}: "
            f"missing {missing[:3]}, unexpected {unexpected[:3]}"
        )
    for name, shape in expected.items():
        if tuple(header[name]["shape"]) != shape:
            raise WeightsError(
                f"{path}: tensor {name!r} has shape {tuple(header[name]['shape'])}; "
                f"expected {shape} for {spec.architecture}"
            )
        if header[name]["dtype"] not in _FLOAT_DTYPES:
            raise WeightsError(
                f"{path}: tensor {name!r} is {header[name]['dtype']}; expected a floating "
                f"dtype ({', '.join(_FLOAT_DTYPES)})"
            )
    state = read_tensors(path)
    generator = spec.architecture.build()
    generator.load_state_dict({k: v.float() for k, v in state.items()})
    return generator.to(device).eval(), spec


def read_tensors(path: Path, error: type[StyleWrapError] = WeightsError) -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors file, read from its bytes (safetensors' own file opening
    needs a UTF-8 path); corrupt data, or a floating tensor with NaN or infinities, is ``error``."""
    try:
        state = load_tensors(path.read_bytes())
    except SafetensorError as err:
        raise error(f"{path}: corrupt safetensors data ({err})") from None
    for name, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise error(f"{path}: tensor {name!r} holds NaN or infinite values")
    return state


def _existing(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"weights file {str(p)!r} does not exist; expected a .safetensors file")
    return p


def spec_summary(spec: GeneratorSpec) -> dict[str, Any]:
    """A flat, printable view of a spec (used by ``style-wrap info``)."""
    return {
        "direction": f"{spec.domain_from} -> {spec.domain_to}",
        "frame": f"{spec.frame_height}x{spec.frame_width} {CHANNEL_ORDER}",
        "architecture": asdict(spec.architecture),
        "step": spec.step,
        **({"extra": spec.extra} if spec.extra else {}),
    }
