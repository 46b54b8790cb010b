"""A translator through the pose: a frame of one look -> the body's pose -> a frame of the other.

Two networks, each fitted on ONE look's own frames and recorded states (never a pair of the same
state drawn in both looks, and no policy anywhere):

- :class:`PoseEncoder` reads, from two consecutive source frames, the later one's pose (for a
  planar MuJoCo body: the root's height, the sine and cosine of its pitch and the joint angles)
  and the root's x step between the two frames;
- :class:`CameraRenderer` draws a target frame from a pose and the root's x through the target
  look's tracking camera: the body's capsules (their 3-D ends and the camera's x offset and
  height regressed from the pose) projected as soft lines, mirrored in the ground (the
  reflection) and dropped onto it (the shadow), painted by a small conv net over a floor whose
  checker is computed where each pixel's ray meets the ground plane (each harmonic damped by the
  pixel's footprint) and which ends where the floor ends.

:class:`PoseNet` holds both, and optionally a floor lock: a second :class:`CameraRenderer`, of
the SOURCE look, fitted on that look's own frames and states. It is temporal: the root's x is the
sum of the encoder's steps since the episode began, so the floor's checker keeps its phase and
moves as the body runs, and the :class:`~style_wrap.translator.Translator` keeps it per row in a
:class:`~style_wrap.translator.History` (``positions``), like the floor-aware generator's camera.
With the lock, each frame's x is then moved, within half a checker period, to where the source
look's floor drawn at that x best matches the frame (:func:`floor_lock`): on the floor the x
carries no drift, whatever gait the encoder misreads the step of.

Example:
    >>> import torch
    >>> net = PoseConfig(n_geoms=2, encoder_width=4, renderer_width=4, size=16).build()
    >>> x = torch.zeros(3, 3, 16, 16)
    >>> with torch.no_grad():
    ...     out, root_x = net(x, x, torch.tensor([False, True, True]), torch.zeros(3))
    >>> out.shape, root_x.shape, float(root_x[0])
    (torch.Size([3, 3, 16, 16]), torch.Size([3]), 0.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import nn

from style_wrap.errors import ConfigError

__all__ = [
    "PoseConfig",
    "PoseEncoder",
    "CameraRenderer",
    "PoseNet",
    "floor_lock",
    "segment_maps",
]

#: The pose a planar body's state gives: root height, sin and cos of the pitch, six joints.
POSE_SIZE = 9


@dataclass(frozen=True)
class PoseConfig:
    """The architecture of a :class:`PoseNet`; it travels in the weights' metadata.

    Example:
        >>> PoseConfig(n_geoms=7).build().config.size
        64
    """

    #: Capsules the renderer draws (the target body's).
    n_geoms: int
    encoder_width: int = 32
    renderer_width: int = 32
    #: Odd harmonics of the floor's square waves.
    harmonics: int = 6
    #: Side of the square frames in and out.
    size: int = 64
    #: Capsules of the source body, drawn by the floor lock's renderer of the source look (0: no
    #: lock; the root's x is then the sum of the encoder's steps alone).
    lock_geoms: int = 0
    kind: Literal["pose"] = "pose"

    def __post_init__(self) -> None:
        for name in ("n_geoms", "encoder_width", "renderer_width", "harmonics", "size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"pose translator {name} = {value!r}; expected a positive integer"
                )
        lock = self.lock_geoms
        if isinstance(lock, bool) or not isinstance(lock, int) or lock < 0:
            raise ConfigError(
                f"pose translator lock_geoms = {lock!r}; expected an integer >= 0 (0: no lock)"
            )
        if self.size % 16:
            raise ConfigError(
                f"pose translator size = {self.size}; expected a multiple of 16 (the encoder "
                "halves the frame four times)"
            )
        if self.kind != "pose":
            raise ConfigError(f"pose translator kind = {self.kind!r}; expected 'pose'")

    # What a Translator and the weights' checks ask of any architecture.
    temporal = True
    in_channels = 3
    out_channels = 3
    floor_periods = ()

    @property
    def multiple(self) -> int:
        return self.size

    def build(self) -> PoseNet:
        """A freshly initialised network of this architecture."""
        return PoseNet(self)


class PoseEncoder(nn.Module):
    """Two consecutive frames (the earlier first; at an episode's start, the frame twice) to the
    later frame's pose and the root's x step between them (``POSE_SIZE + 1`` numbers)."""

    def __init__(self, width: int = 32, size: int = 64):
        super().__init__()
        w = width
        layers: list[nn.Module] = []
        for c_in, c_out in ((6, w), (w, 2 * w), (2 * w, 4 * w), (4 * w, 4 * w)):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.ReLU(True)]
        self.features = nn.Sequential(*layers)
        side = size // 16
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(4 * w * side * side, 256),
            nn.ReLU(True),
            nn.Linear(256, POSE_SIZE + 1),
        )
        self.register_buffer("mean", torch.zeros(POSE_SIZE + 1))
        self.register_buffer("std", torch.ones(POSE_SIZE + 1))

    def forward(self, before: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(torch.cat([before, x], 1))) * self.std + self.mean


def segment_maps(ends: torch.Tensor, size: int, sigma: float = 1.0) -> torch.Tensor:
    """``(N, G, 2, 2)`` segment ends in pixels to ``(N, G, size, size)`` soft lines.

    Example:
        >>> m = segment_maps(torch.tensor([[[[0.5, 0.5], [0.5, 3.5]]]]), 4)
        >>> m.shape, round(float(m[0, 0, 2, 0]), 3), round(float(m[0, 0, 2, 3]), 3)
        (torch.Size([1, 1, 4, 4]), 1.0, 0.011)
    """
    grid = torch.arange(size, dtype=ends.dtype, device=ends.device) + 0.5
    # Per axis on broadcast (N, G, H, W) grids: fewer and smaller temporaries than on
    # (N, G, H * W, 2) points (1.5x faster at 64x64).
    a = ends[:, :, 0, :, None, None]
    ab = ends[:, :, 1, :, None, None] - a
    inv = 1 / (ab * ab).sum(2).clamp_min(1e-6)
    dx, dy = grid.view(1, size) - a[:, :, 0], grid.view(size, 1) - a[:, :, 1]
    ax, ay = ab[:, :, 0], ab[:, :, 1]
    # The nearest point's parameter along the segment, then the pixel's offset from it.
    t = (dx * (ax * inv) + dy * (ay * inv)).clamp(0, 1)
    ex, ey = torch.addcmul(dx, t, ax, value=-1), torch.addcmul(dy, t, ay, value=-1)
    # The exponent stops at -80 (a line's weight there is 2e-35, nil): past it, the CPU's exp
    # leaves its fast path (6x slower for the whole map, which lies mostly far from any line).
    return torch.exp((torch.addcmul(ex * ex, ey, ey) * (0.5 / sigma**2)).clamp_max(80).neg())


def pose_mlp(n_out: int) -> nn.Sequential:
    """A pose to ``n_out`` numbers of the body's geometry (two hidden layers of 256)."""
    return nn.Sequential(
        nn.Linear(POSE_SIZE, 256),
        nn.ReLU(True),
        nn.Linear(256, 256),
        nn.ReLU(True),
        nn.Linear(256, n_out),
    )


def painter(c_in: int, width: int, c_out: int) -> nn.Sequential:
    """Soft-line maps to per-pixel paint: four 3x3 convolutions (one dilated) and a 1x1."""
    w = width
    return nn.Sequential(
        nn.Conv2d(c_in, w, 3, 1, 1),
        nn.ReLU(True),
        nn.Conv2d(w, w, 3, 1, 1),
        nn.ReLU(True),
        nn.Conv2d(w, w, 3, 1, 2, dilation=2),
        nn.ReLU(True),
        nn.Conv2d(w, w, 3, 1, 1),
        nn.ReLU(True),
        nn.Conv2d(w, c_out, 1),
    )


def square_wave(
    x: torch.Tensor, sigma: torch.Tensor, omega: float, gains: torch.Tensor
) -> torch.Tensor:
    """A square wave of angular frequency ``omega``, each odd harmonic damped by a Gaussian
    footprint of std ``sigma`` (the texture's filtering) and scaled by its gain.

    ``sigma`` broadcasts against ``x`` (one footprint may serve many ``x``); the harmonics are
    one trailing axis, so the wave costs a few tensor operations whatever their number.

    Example:
        >>> w = square_wave(torch.tensor([0.5 * math.pi]), torch.zeros(1), 1.0, torch.ones(50))
        >>> round(float(w), 2)  # 50 harmonics of a unit square wave, at its crest
        0.99
    """
    k = torch.arange(1, 2 * len(gains), 2, dtype=x.dtype, device=x.device)
    amp = gains.to(x.dtype) * (4 / math.pi) / k
    # The CPU's vector exp and sin are 15-40x slower past an exponent of -87 and an argument of
    # 1e5, both met at the horizon (footprints metres wide, ground points kilometres off): a
    # harmonic damped below 1e-26 is nil, and the wave is periodic in its argument.
    damp = torch.exp((sigma.unsqueeze(-1) * (k * omega)).square().clamp_max(120) * -0.5) * amp
    phase = torch.remainder(x, 2 * math.pi / omega).unsqueeze(-1)
    return (torch.sin(phase * (k * omega)) * damp).sum(-1)


class CameraRenderer(nn.Module):
    """A pose and the root's x to a frame of the look it was fitted on, through its camera.

    The camera's fixed orientation ``axes`` (world from camera, columns), its y, focal length in
    pixels, the floor's half extent and checker period are buffers, read from the look's own
    model when it is fitted (``set_camera``).
    """

    def __init__(self, n_geoms: int, width: int = 32, harmonics: int = 6, size: int = 64):
        super().__init__()
        w, self.size = width, size
        self.register_buffer("axes", torch.eye(3))
        self.register_buffer("cam_y", torch.tensor(-3.0))
        self.register_buffer("focal", torch.tensor(float(size)))
        self.register_buffer("extent", torch.tensor(40.0))
        self.register_buffer("period", torch.tensor(1.0))
        self.register_buffer("rays", torch.zeros(3, size, size))
        self.register_buffer("mean", torch.zeros(POSE_SIZE))
        self.register_buffer("std", torch.ones(POSE_SIZE))
        n_out = 6 * n_geoms + 2
        self.register_buffer("kp_mean", torch.zeros(n_out))
        self.register_buffer("kp_std", torch.ones(n_out))
        self.kp = pose_mlp(n_out)
        # Per capsule: itself, its mirror, its shadow -> colour, cover, reflection, shadow.
        self.paint = painter(3 * n_geoms, w, 9)
        self.sky = nn.Parameter(torch.zeros(3, size, size))
        self.floor_base = nn.Parameter(torch.zeros(3, size, size))
        self.floor_gain = nn.Parameter(torch.full((3, size, size), 0.5))
        self.gains = nn.Parameter(torch.ones(harmonics))
        self.phase = nn.Parameter(torch.zeros(2))
        self.blur = nn.Parameter(torch.tensor(0.0))  # the footprint's scale, through softplus
        self.set_camera(self.axes, -3.0, float(size), 40.0, 1.0)

    @torch.no_grad()
    def set_camera(
        self, axes: torch.Tensor, cam_y: float, focal: float, extent: float, period: float
    ) -> None:
        """The target look's camera and floor (and each pixel's view ray, which they fix)."""
        self.axes.copy_(axes)
        self.cam_y.fill_(cam_y)
        self.focal.fill_(focal)
        self.extent.fill_(extent)
        self.period.fill_(period)
        c = torch.arange(self.size, dtype=torch.float32, device=self.rays.device)
        c = c + 0.5 - self.size / 2
        v, u = torch.meshgrid(c, c, indexing="ij")
        local = torch.stack([u / focal, -v / focal, -torch.ones_like(u)], 0)
        self.rays.copy_(torch.einsum("ij,jhw->ihw", self.axes.float(), local))

    def geometry(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The pose's capsule ends ``(N, G, 2, 3)`` (x relative to the root), the camera's x
        offset from the root and its height."""
        out = self.kp((pose - self.mean) / self.std) * self.kp_std + self.kp_mean
        return out[:, 2:].reshape(len(pose), -1, 2, 3), out[:, 0], out[:, 1]

    def project(
        self, points: torch.Tensor, cam_x: torch.Tensor, cam_z: torch.Tensor
    ) -> torch.Tensor:
        """``(N, ..., 3)`` world points (x relative to the root, as ``cam_x``) to pixels."""
        shape = (len(points),) + (1,) * (points.dim() - 2)
        cam = torch.stack([cam_x.view(shape), self.cam_y.expand(shape), cam_z.view(shape)], -1)
        rel = (points - cam) @ self.axes
        depth = (-rel[..., 2]).clamp_min(1e-3)
        half = self.size / 2
        return torch.stack(
            [half + self.focal * rel[..., 0] / depth, half - self.focal * rel[..., 1] / depth], -1
        )

    def ground_maps(self) -> tuple[torch.Tensor, ...]:
        """Per pixel, for a camera 1 m above the ground: where its ray meets the ground (x and
        y from the camera's), its footprint there along x and y (finite differences over the
        image), and whether it meets the ground at all; a camera ``h`` m up scales the first
        four by ``h``. Each ``(H, W)``."""
        d = self.rays
        down = (-d[2]).clamp_min(1e-4)
        along, y = d[0] / down, d[1] / down
        pad = nn.functional.pad
        dxu = pad(along.diff(dim=1), (0, 1), mode="replicate")
        dxv = pad(along.diff(dim=0)[None], (0, 0, 0, 1), mode="replicate")[0]
        dyv = pad(y.diff(dim=0)[None], (0, 0, 0, 1), mode="replicate")[0]
        ground = (d[2] < 0).to(d.dtype)
        return along, y, (dxu * dxu + dxv * dxv).sqrt(), dyv.abs(), ground

    def background(
        self, root_x: torch.Tensor, cam_x: torch.Tensor, cam_z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The floor's checker for cameras at ``(root_x + cam_x, cam_y, cam_z)`` (in ``[-1,
        1]``, before the floor's colours) and how much of each pixel the floor covers, each
        ``(N, 1, H, W)``; one camera (``cam_x``, ``cam_z`` of length 1) serves many roots."""
        along1, y1, foot_x, foot_y, ground = self.ground_maps()
        h = cam_z.view(-1, 1, 1)
        along = h * along1  # each pixel's ground point's x from the camera's
        x = (root_x + cam_x).view(-1, 1, 1) + along
        y = self.cam_y + h * y1
        # Each pixel's footprint on the ground scales with the camera's height (the same for
        # every root_x: many roots seen by one camera share it).
        scale = nn.functional.softplus(self.blur) / math.log(2) * 0.5 * h.abs()
        sx, sy = scale * foot_x, scale * foot_y
        omega = 2 * math.pi / float(self.period)
        checker = square_wave(x - self.phase[0], sx, omega, self.gains) * square_wave(
            y - self.phase[1], sy, omega, self.gains
        )
        on = (
            torch.sigmoid((self.extent - x.abs()) / (sx + 1e-3))
            * torch.sigmoid((self.extent - y.abs()) / (sy + 1e-3))
            * ground
        ).unsqueeze(1)
        return checker.unsqueeze(1), on

    def draw(
        self, ends: torch.Tensor, root_x: torch.Tensor, cam_x: torch.Tensor, cam_z: torch.Tensor
    ) -> torch.Tensor:
        """A frame (NCHW, ``[-1, 1]``) of capsules ``ends`` seen from the camera at ``cam_x``
        (from the root at ``root_x``) and ``cam_z``."""
        return self.compose(self.body_paint(ends, cam_x, cam_z), root_x, cam_x, cam_z)

    def body_paint(
        self, ends: torch.Tensor, cam_x: torch.Tensor, cam_z: torch.Tensor
    ) -> torch.Tensor:
        """The painter's nine maps for capsules ``ends``: the body's colour and cover, its
        reflection's colour and strength, its shadow (none depends on the root's x)."""
        return self.paint(self.soft_lines(ends, cam_x, cam_z))

    def soft_lines(
        self, ends: torch.Tensor, cam_x: torch.Tensor, cam_z: torch.Tensor
    ) -> torch.Tensor:
        """The painter's input: soft lines of the capsules, their mirror in the ground and their
        shadow on it, ``(N, 3G, H, W)``."""
        flat = torch.stack([ends[..., 0], ends[..., 1], torch.zeros_like(ends[..., 2])], -1)
        mirror = torch.stack([ends[..., 0], ends[..., 1], -ends[..., 2]], -1)
        return segment_maps(
            self.project(torch.cat([ends, mirror, flat], 1), cam_x, cam_z), self.size
        )

    def layers(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``body_paint``'s maps as the three layers a frame is, given the floor's checker
        ``c`` and cover ``on`` (:meth:`background`): ``frame = clamp(p + on * (q + u * c))``.

        ``p`` is the body over the sky; ``q`` the plain floor under the body's shadow and
        reflection, less the sky; ``u`` how much of the checker shows through them.
        """
        shadow = 1 - torch.sigmoid(out[:, 8:9] - 4)
        reflection = torch.sigmoid(out[:, 7:8] - 2)
        cover = torch.sigmoid(out[:, 3:4])
        open_ = 1 - cover
        p = cover * torch.tanh(out[:, :3]) + open_ * self.sky
        mirrored = reflection * torch.tanh(out[:, 4:7])
        q = open_ * (mirrored + (1 - reflection) * shadow * self.floor_base - self.sky)
        u = open_ * (1 - reflection) * shadow * self.floor_gain
        return p, q, u

    def compose(
        self, out: torch.Tensor, root_x: torch.Tensor, cam_x: torch.Tensor, cam_z: torch.Tensor
    ) -> torch.Tensor:
        """The frame of ``body_paint``'s maps over the floor seen from a root at ``root_x``."""
        return self.over(self.layers(out), root_x, cam_x, cam_z)

    def over(
        self,
        layers: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        root_x: torch.Tensor,
        cam_x: torch.Tensor,
        cam_z: torch.Tensor,
    ) -> torch.Tensor:
        """The frame of :meth:`layers` over the floor seen from a root at ``root_x`` (one body
        and camera may serve many ``root_x``: the layers and camera broadcast)."""
        p, q, u = layers
        checker, on = self.background(root_x, cam_x, cam_z)
        return (p + on * (q + u * checker)).clamp(-1, 1)

    def forward(self, pose: torch.Tensor, root_x: torch.Tensor) -> torch.Tensor:
        ends, cam_x, cam_z = self.geometry(pose)
        return self.draw(ends, root_x, cam_x, cam_z)


class PoseNet(nn.Module):
    """The encoder and the renderer: a source frame (and the one before it) to a target frame.

    ``forward(x, previous, started, root_x)``: NCHW frames in ``[-1, 1]``, each row's previous
    frame (read only where ``started``), and each row's root x so far; returns the translated
    frames and each row's new root x (0 plus no step where an episode starts).
    """

    def __init__(self, config: PoseConfig):
        super().__init__()
        self.config = config
        self.encoder = PoseEncoder(config.encoder_width, config.size)
        self.renderer = CameraRenderer(
            config.n_geoms, config.renderer_width, config.harmonics, config.size
        )
        self.lock: CameraRenderer | None = None
        if config.lock_geoms:
            self.lock = CameraRenderer(
                config.lock_geoms, config.renderer_width, config.harmonics, config.size
            )

    def forward(
        self,
        x: torch.Tensor,
        previous: torch.Tensor,
        started: torch.Tensor,
        root_x: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        keep = started.view(-1, 1, 1, 1)
        got = self.encoder(torch.where(keep, previous, x), x)
        step = torch.where(started, got[:, POSE_SIZE].float(), 0.0)
        root = torch.where(started, root_x.float() + step, 0.0)
        if self.lock is not None:
            root = floor_lock(self.lock, got[:, :POSE_SIZE], x, root)
        return self.renderer(got[:, :POSE_SIZE], root.to(x.dtype)), root

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.config).items())


#: The floor lock's search: half-widths (m) and candidates, coarse then fine.
LOCK_SEARCH = ((0.26, 27), (0.025, 11))
#: How far past the floor's edge (m) the lock still searches: the floor's far wedge stays in view
#: for about 10 m, and a frame that shows none gives a flat match and keeps its guess.
LOCK_REACH = 10.0


@torch.no_grad()
def floor_lock(
    source: CameraRenderer, pose: torch.Tensor, x: torch.Tensor, guess: torch.Tensor
) -> torch.Tensor:
    """Each row's root x near ``guess`` whose floor, drawn by ``source`` (a renderer of the
    SOURCE look: its checker's phase, its camera at this pose) best matches the frame ``x``.

    A checker floor tells the root's x modulo its period; the guess (the encoder's summed steps)
    picks the period, so the search spans half of one (the restyled cheetah's is 0.533 m). The x
    so found carries no drift while the floor shows, its far wedge past the edge included (up
    to :data:`LOCK_REACH`). A row whose guess lies farther off the floor, or whose frame shows
    too little floor to tell (a flat match), keeps its guess.

    Example:
        >>> ren = CameraRenderer(1, width=4, size=16)
        >>> pose = torch.zeros(2, POSE_SIZE)
        >>> floor_lock(ren, pose, ren(pose, torch.zeros(2)), torch.tensor([0.1, 99.0])).shape
        torch.Size([2])
    """
    out = guess.clone().float()
    dtype = source.sky.dtype  # the translator's compute dtype (float32 unless asked)
    ends, cam_x, cam_z = source.geometry(pose.to(dtype))
    p, q, u = source.layers(source.body_paint(ends, cam_x, cam_z))
    on_floor = guess.abs() < float(source.extent) + LOCK_REACH
    for i in torch.nonzero(on_floor).flatten().tolist():
        best = float(guess[i])
        # One body and camera for every candidate: only the checker and its cover vary.
        row = (p[i : i + 1], q[i : i + 1], u[i : i + 1])
        for n_search, (half, n) in enumerate(LOCK_SEARCH):
            cands = torch.linspace(best - half, best + half, n, device=x.device)
            frames = source.over(row, cands.to(dtype), cam_x[i : i + 1], cam_z[i : i + 1])
            err = (frames.float() - x[i : i + 1].float()).abs().mean((1, 2, 3))
            if n_search == 0 and float(err.max() - err.min()) < 1e-3:
                break  # too little floor to tell
            best = float(cands[int(err.argmin())])
        out[i] = best
    return out
