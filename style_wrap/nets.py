"""The networks: the CycleGAN's ResNet generator and PatchGAN discriminator, and the pose
regressor (a small CNN that reads the cheetah's joint configuration from a frame).

Topology follows pytorch-CycleGAN-and-pix2pix (reflection padding, instance norm, residual
blocks at 1/4 resolution, PatchGAN), with typed constructor arguments instead of option objects.

Example:
    >>> import torch
    >>> from style_wrap.nets import PatchDiscriminator, ResnetGenerator
    >>> g = ResnetGenerator(ngf=8, n_blocks=2)
    >>> g(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 3, 64, 64])
    >>> PatchDiscriminator.for_frame_size(64, ndf=8)(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 1, 14, 14])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from style_wrap.errors import ConfigError
from style_wrap.floor import floor_features

__all__ = [
    "GeneratorConfig",
    "ResnetGenerator",
    "PatchDiscriminator",
    "PoseRegressor",
    "UPSAMPLERS",
    "to_model_input",
    "from_model_output",
    "temporal_input",
    "temporal_state",
]


def to_model_input(
    frames: torch.Tensor,
    dtype: torch.dtype = torch.float32,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> torch.Tensor:
    """uint8 NHWC frames to NCHW ``dtype`` in ``[-1, 1]``: ``x / 127.5 - 1``.

    The permuted NHWC view is already channels_last; NCHW takes one layout copy.

    Example:
        >>> x = to_model_input(torch.tensor([[[[0, 255, 51]]]], dtype=torch.uint8))
        >>> x.shape, [round(v, 4) for v in x.flatten().tolist()]
        (torch.Size([1, 3, 1, 1]), [-1.0, 1.0, -0.6])
    """
    x = frames.permute(0, 3, 1, 2).to(dtype, memory_format=memory_format)
    return x.div_(127.5).sub_(1.0)


def from_model_output(images: torch.Tensor) -> torch.Tensor:
    """NCHW images in ``[-1, 1]`` to uint8 NHWC frames (rounded, clamped); the inverse of
    :func:`to_model_input` up to rounding."""
    return (
        (images.float() + 1.0)
        .mul_(127.5)
        .round_()
        .clamp_(0, 255)
        .to(torch.uint8)
        .permute(0, 2, 3, 1)
    )


def temporal_input(
    frames: torch.Tensor,
    previous: torch.Tensor | None = None,
    outputs: torch.Tensor | None = None,
    started: torch.Tensor | None = None,
) -> torch.Tensor:
    """A temporal generator's input: each frame, the frame before it, and the generator's own
    translation of that frame, stacked on the channel axis (NCHW, model units).

    A row without history (an episode's first frame: ``previous`` None, or ``started`` False
    there) gets its own frame as the previous one and zeros as the previous output, so the
    generator can tell a start from the middle of an episode.

    Example:
        >>> x = torch.ones(2, 3, 4, 4)
        >>> y = temporal_input(x, -x, -x, started=torch.tensor([True, False]))
        >>> y.shape, y[0, 3:].mean().item(), y[1, 3:6].mean().item(), y[1, 6:].abs().sum().item()
        (torch.Size([2, 9, 4, 4]), -1.0, 1.0, 0.0)
    """
    if previous is None or outputs is None:
        return torch.cat([frames, frames, torch.zeros_like(frames)], dim=1)
    if started is not None:
        keep = started.to(frames.device).view(-1, 1, 1, 1)
        previous = torch.where(keep, previous, frames)
        outputs = torch.where(keep, outputs, torch.zeros_like(outputs))
    return torch.cat([frames, previous, outputs], dim=1)


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


def _transpose_up(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]


def _resize_up(c_in: int, c_out: int) -> list[nn.Module]:
    # Resize then convolve: no uneven kernel overlap, so no checkerboard artifacts.
    return [
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.ReflectionPad2d(1),
        nn.Conv2d(c_in, c_out, 3),
    ]


#: The generator's upsampling layers by name.
UPSAMPLERS: dict[str, Callable[[int, int], list[nn.Module]]] = {
    "transpose": _transpose_up,
    "resize": _resize_up,
}


#: The ground-plane wave periods (metres) of a floor-aware generator: quarter octaves from
#: 0.25 to 4 m, so a checker of any size in that range lies within 10 % of one of them.
FLOOR_PERIODS: tuple[float, ...] = tuple(round(0.25 * 2 ** (k / 4), 4) for k in range(17))


@dataclass(frozen=True)
class GeneratorConfig:
    """The architecture of a :class:`ResnetGenerator`; it travels in the weights' metadata.

    Example:
        >>> GeneratorConfig(ngf=16, n_blocks=6).build().config.ngf
        16
    """

    in_channels: int = 3
    out_channels: int = 3
    ngf: int = 64
    n_blocks: int = 9
    n_downsampling: int = 2
    upsample: str = "transpose"
    #: Also reads the previous frame and its own previous output (:func:`temporal_input`): the
    #: network's first layer takes ``3 * in_channels`` channels.
    temporal: bool = False
    #: Periods (metres) of the ground-plane waves a floor-aware G_AB reads
    #: (:func:`~style_wrap.train.flow.floor_features`); empty: none.
    floor_periods: tuple[float, ...] = ()
    #: Frame rows of a floor-aware generator: its two row-motion buffers' length.
    floor_rows: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.floor_periods, list):  # as JSON metadata brings it
            object.__setattr__(self, "floor_periods", tuple(self.floor_periods))
        for name in ("in_channels", "out_channels", "ngf", "n_downsampling"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"generator {name} = {value!r}; expected a positive integer")
        if (
            isinstance(self.n_blocks, bool)
            or not isinstance(self.n_blocks, int)
            or self.n_blocks < 0
        ):
            raise ConfigError(
                f"generator n_blocks = {self.n_blocks!r}; expected a non-negative integer"
            )
        if self.upsample not in UPSAMPLERS:
            raise ConfigError(
                f"generator upsample = {self.upsample!r}; expected one of {', '.join(UPSAMPLERS)}"
            )
        if not isinstance(self.temporal, bool):
            raise ConfigError(f"generator temporal = {self.temporal!r}; expected true or false")
        periods = self.floor_periods
        if not isinstance(periods, tuple) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) and p > 0 for p in periods
        ):
            raise ConfigError(
                f"generator floor_periods = {periods!r}; expected a list of positive numbers"
            )
        if periods and not (
            self.temporal and isinstance(self.floor_rows, int) and self.floor_rows >= 1
        ):
            raise ConfigError(
                f"generator floor_periods = {periods!r} with temporal = {self.temporal} and "
                f"floor_rows = {self.floor_rows!r}; expected a temporal generator and the "
                "frame's rows >= 1"
            )

    def build(self) -> ResnetGenerator:
        """A freshly initialised generator of this architecture."""
        return ResnetGenerator(**asdict(self))

    @property
    def multiple(self) -> int:
        """Frame sides must be a multiple of this (the downsampling factor)."""
        return 2**self.n_downsampling


class _ResnetBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image-to-image generator: 7x7 conv, strided downsampling, residual blocks, upsampling.

    Takes and returns ``(N, C, H, W)`` images in ``[-1, 1]``; ``H`` and ``W`` must be multiples of
    ``2 ** n_downsampling``.

    Args:
        in_channels: Input channels (3 for RGB).
        out_channels: Output channels.
        ngf: Channels of the first layer; doubled at each downsampling.
        n_blocks: Residual blocks at the lowest resolution.
        n_downsampling: Stride-2 downsamplings (and as many upsamplings).
        upsample: ``transpose`` (transposed conv, as CycleGAN) or ``resize`` (nearest resize +
            conv, which avoids checkerboard artifacts).
        temporal: Read :func:`temporal_input` (``3 * in_channels`` channels): the frame, the
            previous frame and the previous output.
        floor_periods: Also read, through a 1x1 convolution added to the last upsampling
            block's normalised output, the ground-plane waves of these periods (metres) at the
            camera's ``position`` (:meth:`forward`): where on the floor each pixel looks, so a
            floor drawn from them keeps its phase and moves with the camera. The generator
            keeps each look's row motion (``floor_source``: the source's, to read the camera's
            steps from its frames; ``floor_target``: its output's, to place the waves) as
            buffers, in its weights.
        floor_rows: The frames' rows (with ``floor_periods``).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        ngf: int = 64,
        n_blocks: int = 9,
        n_downsampling: int = 2,
        upsample: str = "transpose",
        temporal: bool = False,
        floor_periods: tuple[float, ...] = (),
        floor_rows: int = 0,
    ):
        super().__init__()
        self.config = GeneratorConfig(
            in_channels,
            out_channels,
            ngf,
            n_blocks,
            n_downsampling,
            upsample,
            temporal,
            tuple(floor_periods),
            floor_rows,
        )
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels * (3 if temporal else 1), ngf, 7),
            _norm(ngf),
            nn.ReLU(inplace=True),
        ]
        for i in range(n_downsampling):
            c = ngf * 2**i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), _norm(2 * c), nn.ReLU(True)]
        layers += [_ResnetBlock(ngf * 2**n_downsampling) for _ in range(n_blocks)]
        for i in range(n_downsampling, 0, -1):
            c = ngf * 2**i
            layers += [*UPSAMPLERS[upsample](c, c // 2), _norm(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.floor: nn.Conv2d | None = None
        if self.config.floor_periods:
            self.floor = nn.Conv2d(2 * len(self.config.floor_periods), ngf, 1)
            # Each row's own phase for each wave (radians): the pattern along the plane's depth
            # (a checker's rows of squares shift it by half a period) is fixed per image row,
            # since the camera moves along x only, so a learned per-row turn draws it.
            self.floor_turn = nn.Parameter(torch.zeros(len(self.config.floor_periods), floor_rows))
            self.register_buffer("floor_source", torch.zeros(floor_rows))
            self.register_buffer("floor_target", torch.zeros(floor_rows))
        init_weights(self)

    def forward(self, x: torch.Tensor, position: torch.Tensor | None = None) -> torch.Tensor:
        """Translate ``x``; a floor-aware generator also takes the camera's ``position`` (N,)
        in metres along the floor (``None``: 0 for every row)."""
        if self.floor is None:
            return self.model(x)
        if position is None:
            position = torch.zeros(len(x), device=x.device)
        waves = floor_features(position, self.floor_target, self.config.floor_periods, x.shape[-1])
        waves = turn_waves(waves, self.floor_turn)
        # Added after the last upsampling block's norm, before its ReLU: a short path from the
        # waves to the pixels, gated by what the image features say is floor.
        late = self.model[:-4](x)
        return self.model[-4:](late + self.floor(waves.to(late.dtype)))


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator: a map of real/fake scores, one per overlapping patch.

    Args:
        in_channels: Input channels.
        ndf: Channels of the first layer.
        n_layers: Strided layers; 3 gives CycleGAN's 70x70 patches, 2 gives 34x34 patches,
            which suits 64x64 frames (70x70 patches would see the whole frame).
    """

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
            raise ConfigError(f"discriminator n_layers = {n_layers!r}; expected an integer >= 1")
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, True),
        ]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1),
                _norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers += [nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)
        self.n_layers = n_layers
        init_weights(self)

    @staticmethod
    def layers_for_frame_size(size: int) -> int:
        """Strided layers whose patch is about half the frame or less: 2 up to 96 px, else 3."""
        return 2 if size <= 96 else 3

    @classmethod
    def for_frame_size(cls, size: int, in_channels: int = 3, ndf: int = 64) -> PatchDiscriminator:
        """A discriminator whose depth suits frames of side ``size``."""
        return cls(in_channels, ndf, cls.layers_for_frame_size(size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def temporal_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A per-frame generator's weights for its temporal twin: the first layer's weights for the
    previous frame and output are zero, so the twin starts out translating as the original does.

    Example:
        >>> g = ResnetGenerator(ngf=4, n_blocks=1)
        >>> t = ResnetGenerator(ngf=4, n_blocks=1, temporal=True)
        >>> _ = t.load_state_dict(temporal_state(g.state_dict()))
        >>> x = torch.rand(1, 3, 8, 8) * 2 - 1
        >>> bool(torch.allclose(g(x), t(temporal_input(x, -x, x)), atol=1e-6))
        True
    """
    name = "model.1.weight"  # the 7x7 convolution after the first padding
    weight = state[name]
    out = dict(state)
    out[name] = torch.cat([weight, torch.zeros_like(weight), torch.zeros_like(weight)], dim=1)
    return out


def turn_waves(waves: torch.Tensor, turn: torch.Tensor) -> torch.Tensor:
    """``waves`` (N, 2F, H, W), sin and cos of each period's phase, with each row's phase
    advanced by ``turn`` (F, H) radians: ``sin(t + turn)``, ``cos(t + turn)``.

    Example:
        >>> t = torch.tensor([0.3, 1.2]).view(1, 1, 2, 1)
        >>> waves = torch.cat([t.sin(), t.cos()], 1)
        >>> out = turn_waves(waves, torch.tensor([[0.5, -1.2]]))
        >>> [round(v, 4) for v in out[0, 0, :, 0].tolist()]  # sin(0.8), sin(0)
        [0.7174, 0.0]
    """
    n, _, h, w = waves.shape
    pairs = waves.view(n, -1, 2, h, w)
    sin, cos = pairs[:, :, 0], pairs[:, :, 1]
    c, s = turn.cos().view(1, -1, h, 1), turn.sin().view(1, -1, h, 1)
    return torch.stack([sin * c + cos * s, cos * c - sin * s], 2).reshape(n, -1, h, w)


def floor_state(state: dict[str, torch.Tensor], config: GeneratorConfig) -> dict[str, torch.Tensor]:
    """A generator's weights for its floor-aware twin of architecture ``config``: the waves'
    weights and the row motion are zero, so the twin starts out translating as the original.

    Example:
        >>> g = ResnetGenerator(ngf=4, n_blocks=1, temporal=True)
        >>> cfg = GeneratorConfig(ngf=4, n_blocks=1, temporal=True, floor_periods=(1.0,),
        ...     floor_rows=8)
        >>> f = cfg.build()
        >>> _ = f.load_state_dict(floor_state(g.state_dict(), cfg))
        >>> x = torch.rand(1, 9, 8, 8) * 2 - 1
        >>> bool(torch.allclose(g(x), f(x, torch.tensor([3.0])), atol=1e-6))
        True
    """
    out = dict(state)
    weight = state["model.1.weight"]
    ngf, waves = weight.shape[0], 2 * len(config.floor_periods)
    out["floor.weight"] = weight.new_zeros(ngf, waves, 1, 1)
    out["floor.bias"] = weight.new_zeros(ngf)
    out["floor_turn"] = weight.new_zeros(len(config.floor_periods), config.floor_rows)
    out["floor_source"] = weight.new_zeros(config.floor_rows)
    out["floor_target"] = weight.new_zeros(config.floor_rows)
    return out


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """CycleGAN's initialisation: conv weights from N(0, gain), biases zero."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class PoseRegressor(nn.Module):
    """Frames in ``[-1, 1]`` (NCHW) to standardised pose; :meth:`predict` undoes the scaling.

    Args:
        n_outputs: Pose dimensions.
        frame_size: ``(height, width)`` of the frames.
        width: Channels of the first layer (doubled twice).
    """

    def __init__(self, n_outputs: int, frame_size: tuple[int, int], width: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 5, stride=2, padding=2),
            nn.ReLU(True),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(4 * width, 4 * width, 3, stride=2, padding=1),
            nn.ReLU(True),
        )
        cells = -(-frame_size[0] // 16) * -(-frame_size[1] // 16)  # after four stride-2 layers
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(4 * width * cells, 256),
            nn.ReLU(True),
            nn.Linear(256, n_outputs),
        )
        self.register_buffer("mean", torch.zeros(n_outputs))
        self.register_buffer("std", torch.ones(n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def standardise(self, pose: torch.Tensor) -> torch.Tensor:
        """Pose in the units the network predicts."""
        return (pose - self.mean) / self.std

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Pose in the original units."""
        return self.unstandardise(self(x))

    def unstandardise(self, out: torch.Tensor) -> torch.Tensor:
        """The network's output ``out`` in the pose's original units."""
        return out * self.std + self.mean

    def loss(
        self, x: torch.Tensor, pose: torch.Tensor, weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean squared error in standardised units; ``weights`` (one per pose dimension)
        scales each dimension's error (none: all 1)."""
        return self.error(self(x), pose, weights)

    def error(
        self, out: torch.Tensor, pose: torch.Tensor, weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        """:meth:`loss` of the network's output ``out`` (for a caller that reads ``out`` too)."""
        error = (out.float() - self.standardise(pose).float()) ** 2
        if weights is not None:
            error = error * weights
        return error.mean()
