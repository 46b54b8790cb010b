"""The CycleGAN being trained: networks, optimizers, schedules, pools, and one training step.

The step reads top to bottom in :meth:`CycleGAN.train_step`, split by role as the official
CycleGAN code splits it: :meth:`~CycleGAN.forward` (the fakes), :meth:`~CycleGAN.backward_d`
(the discriminators' loss on detached fakes, stepped first), then :meth:`~CycleGAN.backward_g`
(the generators' losses with the discriminators frozen), so no gradient of the generator loss
reaches a discriminator's parameters or optimizer (the post's first trap).
The cycle term's ``detached`` mode feeds the other generator's fake through ``.detach()`` (the
post's broken cycle). With ``temporal`` G_AB also reads the previous frame and output: on domain
A the run's streams supply its own last outputs; in the cycle ``G_AB(G_BA(b))`` the true previous
domain-B frame stands in for its previous output (and ``G_BA`` of the previous frame, without
gradient, for the previous source), which shows it how a frame follows from the one before.
Under ``torchrun`` gradients are averaged across processes before every optimizer step (see
:mod:`style_wrap.train.loop`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from style_wrap.errors import ConfigError
from style_wrap.floor import floor_features
from style_wrap.nets import (
    GeneratorConfig,
    PatchDiscriminator,
    PoseRegressor,
    from_model_output,
    temporal_input,
)
from style_wrap.train.config import TrainConfig
from style_wrap.train.consistency import PolicyPanel
from style_wrap.train.dist import DistInfo, average_gradients
from style_wrap.train.flow import flow_loss
from style_wrap.train.losses import (
    adversarial_loss,
    cycle_losses,
    discriminator_loss,
    floor_motion_loss,
    gradient_penalty,
    l1,
)
from style_wrap.train.pose import fit_pose_regressor
from style_wrap.train.sampling import ImagePool

__all__ = ["BatchHistory", "CycleGAN"]


@dataclass(frozen=True)
class _Batch:
    """One iteration's inputs: a batch of each domain, their poses, the policy's stacks."""

    real_a: torch.Tensor
    real_b: torch.Tensor
    pose_a: torch.Tensor | None = None
    pose_b: torch.Tensor | None = None
    policy: tuple[torch.Tensor, torch.Tensor] | None = None
    history_a: BatchHistory | None = None
    history_b: BatchHistory | None = None
    cond_a: torch.Tensor | None = None
    cond_b: torch.Tensor | None = None


@dataclass(frozen=True)
class BatchHistory:
    """A temporal G_AB's history for a batch: each row's previous frame, the previous output
    (domain B; for real domain-B frames in the cycle, the true previous frame) and which rows
    have one (``started``). Model units, NCHW."""

    previous: torch.Tensor
    outputs: torch.Tensor
    started: torch.Tensor
    #: The previous frames' pose targets (for the floor's motion term), where known.
    pose: torch.Tensor | None = None
    #: The recorded x step from the previous frame to this one (for the flow term), where known.
    dx: torch.Tensor | None = None
    #: This frame's camera position along the floor (for a floor-aware G_AB), where known.
    position: torch.Tensor | None = None


def _set_requires_grad(modules: list[nn.Module], flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


class CycleGAN:
    """Two generators, two discriminators, their optimizers, schedules and pools.

    Args:
        config: The run's settings.
        frame_size: Side of the (square or not) frames, as ``(height, width)``.
        device: Where to train.
        dist_info: This process's rank and world size.
        pose_dim: Size of the recorded poses (with ``lambda_pose > 0``).
        policy_panel: The frozen domain-B pixel policies, a panel of one or more (with
            ``lambda_policy > 0``).
        condition_dim: Size of the discriminators' condition (with ``d_condition`` floor or pose):
            constant channels that each discriminator reads beside the frame.
    """

    def __init__(
        self,
        config: TrainConfig,
        frame_size: tuple[int, int],
        device: torch.device,
        dist_info: DistInfo | None = None,
        pose_dim: int = 0,
        policy_panel: PolicyPanel | None = None,
        condition_dim: int = 0,
    ):
        dist_info = dist_info or DistInfo()
        self.config, self.device, self.dist = config, device, dist_info
        self.frame_size = frame_size
        torch.manual_seed(config.seed)
        arch = self.generator_config
        self.g_ab = config.generator_ab_for(frame_size[0]).build().to(device)
        self.g_ba = arch.build().to(device)
        d_layers = config.d_layers or PatchDiscriminator.layers_for_frame_size(min(frame_size))
        if (config.d_condition != "none") != (condition_dim > 0):
            raise ConfigError(
                f"setting d_condition = {config.d_condition!r} with a condition of size "
                f"{condition_dim}; expected a condition with it, and none without"
            )
        self.condition_dim = condition_dim
        if config.d_condition == "waves":
            if condition_dim != 1:
                raise ConfigError(
                    f"setting d_condition = 'waves' with a condition of size {condition_dim}; "
                    "expected 1 (each frame's camera position)"
                )
            d_in_a, d_in_b = 3, 3 + 2 * len(self.g_ab.config.floor_periods)
        else:
            d_in_a = d_in_b = 3 + condition_dim
        self.d_a = PatchDiscriminator(d_in_a, config.ndf, d_layers).to(device)
        self.d_b = PatchDiscriminator(d_in_b, config.ndf, d_layers).to(device)
        cuda = device.type == "cuda"
        self.memory_format = (
            torch.channels_last if cuda and config.channels_last else torch.contiguous_format
        )
        for net in self.nets.values():
            net.to(memory_format=self.memory_format)
        amp = config.amp if config.amp != "auto" else "bf16"
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp) if cuda else None
        self._make_optimizers()
        self.pool_a = ImagePool(config.pool_size, config.seed * 2 + 1 + 1000 * dist_info.rank)
        self.pool_b = ImagePool(config.pool_size, config.seed * 2 + 2 + 1000 * dist_info.rank)
        self.step = 0
        # Pose regressors of each domain (fitted by fit_pose_regressors, then frozen).
        self.pose_a: PoseRegressor | None = None
        self.pose_b: PoseRegressor | None = None
        if config.lambda_pose > 0 and pose_dim:
            self.pose_a = PoseRegressor(pose_dim, frame_size, config.pose_width).to(device)
            self.pose_b = PoseRegressor(pose_dim, frame_size, config.pose_width).to(device)
            for net in (self.pose_a, self.pose_b):
                net.eval().requires_grad_(False)
        self.pose_fitted = False
        # Each pose target's weight in the pose term: the floor's two (phase, with presence) last.
        self.pose_weights: torch.Tensor | None = None
        if self.pose_a is not None and config.floor_period_a > 0:
            self.pose_weights = torch.ones(pose_dim, device=device)
            self.pose_weights[-2:] = config.floor_weight
        self.policy_panel = policy_panel if config.lambda_policy > 0 else None
        # Each look's image-row motion per metre of x (rows A, B), fitted once per run.
        self.row_motion: torch.Tensor | None = None
        # Moving averages of the generators (torch's AveragedModel; the first update copies).
        self.ema: dict[str, AveragedModel] = {}
        if config.ema > 0:
            self.ema = {
                k: AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(config.ema))
                for k, net in (("g_ab", self.g_ab), ("g_ba", self.g_ba))
            }
        if dist_info.world > 1:
            for net in self.nets.values():
                for tensor in net.state_dict().values():
                    dist.broadcast(tensor, src=0)

    def _make_optimizers(self) -> None:
        """Adam for each pair (generators, discriminators), linear decay after ``decay_from``,
        and gradient scalers (active with fp16 autocast only)."""
        config, betas = self.config, (self.config.beta1, self.config.beta2)
        g_ab = self.g_ab
        waves = [] if g_ab.floor is None else [*g_ab.floor.parameters(), g_ab.floor_turn]
        rest = [p for p in self.g_ab.parameters() if all(p is not w for w in waves)]
        groups = [{"params": [*rest, *self.g_ba.parameters()]}]
        if waves:  # a floor-aware G_AB's wave weights learn faster (floor_lr_scale)
            groups.append({"params": waves, "lr": config.lr * config.floor_lr_scale})
        self.opt_g = torch.optim.Adam(groups, lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(
            [*self.d_a.parameters(), *self.d_b.parameters()], lr=config.lr, betas=betas
        )
        decay = max(1, config.iters - config.decay_from)

        def schedule(step: int) -> float:
            return 1.0 - max(0, step - config.decay_from) / decay

        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, schedule)
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, schedule)
        fp16 = self.amp_dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=fp16)
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=fp16)

    def fit_pose_regressors(
        self,
        frames_a: torch.Tensor,
        poses_a: torch.Tensor,
        frames_b: torch.Tensor,
        poses_b: torch.Tensor,
    ) -> None:
        """Fit each domain's pose regressor on its real frames (identically on every rank)."""
        cfg = self.config
        for name, frames, poses in (("pose_a", frames_a, poses_a), ("pose_b", frames_b, poses_b)):
            net = fit_pose_regressor(
                frames,
                poses,
                steps=cfg.pose_steps,
                width=cfg.pose_width,
                seed=cfg.seed + (name == "pose_b"),
            )
            getattr(self, name).load_state_dict(net.state_dict())
        self.pose_fitted = True

    @property
    def generator_config(self) -> GeneratorConfig:
        return self.config.generator

    @property
    def nets(self) -> dict[str, nn.Module]:
        return {"g_ab": self.g_ab, "g_ba": self.g_ba, "d_a": self.d_a, "d_b": self.d_b}

    @property
    def generators(self) -> dict[str, nn.Module]:
        """The generators to export: their moving averages when ``ema > 0``, else themselves."""
        if self.ema:
            return {k: avg.module for k, avg in self.ema.items()}
        return {"g_ab": self.g_ab, "g_ba": self.g_ba}

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.amp_dtype)

    def run_ab(self, x: torch.Tensor, position: torch.Tensor | None = None) -> torch.Tensor:
        """G_AB on its input ``x``; a floor-aware one also reads the camera's ``position``."""
        if self.g_ab.floor is None:
            return self.g_ab(x)
        return self.g_ab(x, position)

    def set_floor_motion(self, row_motion: torch.Tensor) -> None:
        """Give a floor-aware G_AB (and its moving average) each look's row motion: A's to read
        the camera's steps from its source frames, B's to place the waves it draws from."""
        for net in (self.g_ab, *(avg.module for k, avg in self.ema.items() if k == "g_ab")):
            if net.floor is not None:
                net.floor_source.copy_(row_motion[0])
                net.floor_target.copy_(row_motion[1])

    def ab_input(self, x: torch.Tensor, history: BatchHistory | None = None) -> torch.Tensor:
        """G_AB's input for frames ``x``: themselves, or with a temporal G_AB their history
        (none: each frame an episode's first)."""
        if not self.config.temporal:
            return x
        if history is None:
            return temporal_input(x)
        return temporal_input(x, history.previous, history.outputs, history.started)

    def forward(
        self,
        real_a: torch.Tensor,
        real_b: torch.Tensor,
        history_a: BatchHistory | None = None,
        history_b: BatchHistory | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``fake_b, fake_a`` and, with the identity term, the identity maps ``idt_b, idt_a``
        (``G_AB(b)``, ``G_BA(a)``; empty otherwise), in one pass per generator: instance norm is
        per sample, so batching them together changes nothing. A temporal G_AB reads
        ``history_a`` for ``real_a`` (and ``b`` as a start for the identity map)."""
        n, identity = len(real_a), self.config.identity_weight > 0
        with self._autocast():
            x_ab = self.ab_input(real_a, history_a)
            position = None if history_a is None else history_a.position
            if identity:
                x_ab = torch.cat([x_ab, self.ab_input(real_b)])
                at_b = None if history_b is None else history_b.position
                if position is not None and at_b is not None:
                    position = torch.cat([position, at_b])
                elif position is not None:
                    position = torch.cat([position, torch.zeros(len(real_b), device=self.device)])
            out_ab = self.run_ab(x_ab, position)
            out_ba = self.g_ba(torch.cat([real_b, real_a]) if identity else real_b)
        return out_ab[:n], out_ba[:n], out_ab[n:], out_ba[n:]

    def _cycle_g_ab(self, history_b: BatchHistory | None) -> Any:
        """G_AB as the cycle ``G_AB(G_BA(b))`` calls it: with a temporal G_AB, given the true
        previous domain-B frame as its previous output and G_BA's translation of that frame
        (no gradient) as the previous source frame."""
        if not self.config.temporal:
            return self.g_ab
        if history_b is None:
            return lambda x: self.run_ab(temporal_input(x))
        with torch.no_grad():
            previous_a = self.g_ba(history_b.previous)
        past = BatchHistory(previous_a, history_b.previous, history_b.started)
        return lambda x: self.run_ab(self.ab_input(x, past), history_b.position)

    def judged(
        self, frames: torch.Tensor, condition: torch.Tensor | None, by: str = "b"
    ) -> torch.Tensor:
        """What a discriminator (``by``: ``"a"`` or ``"b"``) reads: the frames, and with
        ``d_condition`` their condition as constant channels after them; with ``waves``, D_B's
        frames with the ground plane's waves at each frame's camera position (``condition``,
        one per frame) in the target look's geometry, D_A's alone.

        Example:
            >>> from style_wrap.train.config import TrainConfig
            >>> gan = CycleGAN(TrainConfig(ngf=4, ndf=4, n_blocks=1, d_condition="pose"), (8, 8),
            ...     torch.device("cpu"), condition_dim=2)
            >>> x = gan.judged(torch.zeros(1, 3, 8, 8), torch.tensor([[0.5, -1.0]]))
            >>> x.shape, x[0, 3:, 0, 0].tolist()
            (torch.Size([1, 5, 8, 8]), [0.5, -1.0])
        """
        waves = self.config.d_condition == "waves"
        if self.condition_dim == 0 or (waves and by == "a"):
            return frames
        if condition is None or condition.shape != (len(frames), self.condition_dim):
            got = None if condition is None else tuple(condition.shape)
            raise ConfigError(
                f"d_condition = {self.config.d_condition!r} needs each frame's condition; got "
                f"{got} for {len(frames)} frames, expected ({len(frames)}, {self.condition_dim})"
            )
        if waves:
            g = self.g_ab
            maps = floor_features(
                condition[:, 0], g.floor_target, g.config.floor_periods, frames.shape[-1]
            ).to(frames.dtype)
        else:
            maps = condition.to(frames.dtype)[:, :, None, None].expand(-1, -1, *frames.shape[2:])
        return torch.cat([frames, maps], 1)

    def backward_d(
        self,
        real_a: torch.Tensor,
        real_b: torch.Tensor,
        fake_a: torch.Tensor,
        fake_b: torch.Tensor,
        cond_a: torch.Tensor | None = None,
        cond_b: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Both discriminators' loss on detached (pooled) fakes, backpropagated. With
        ``d_condition`` each frame is judged with its condition (``cond_a`` of the domain-A
        frames and of their translations, ``cond_b`` of domain B's); the pools keep a fake's
        condition with it."""
        cfg = self.config
        real_a, real_b = self.judged(real_a, cond_a, "a"), self.judged(real_b, cond_b)
        fake_a, fake_b = self.judged(fake_a, cond_b, "a"), self.judged(fake_b, cond_a)
        with self._autocast():
            pool_a, pool_b = self.pool_a.query(fake_a.detach()), self.pool_b.query(fake_b.detach())
            loss_d_a = discriminator_loss(self.d_a, real_a, pool_a, cfg.gan_mode)
            loss_d_b = discriminator_loss(self.d_b, real_b, pool_b, cfg.gan_mode)
            loss_d = loss_d_a + loss_d_b
            if cfg.gradient_penalty != "none":
                loss_gp = gradient_penalty(
                    self.d_a, real_a, pool_a, cfg.gradient_penalty
                ) + gradient_penalty(self.d_b, real_b, pool_b, cfg.gradient_penalty)
                loss_d = loss_d + cfg.lambda_gp * loss_gp
        self.scaler_d.scale(loss_d).backward()
        return {"D_A": loss_d_a, "D_B": loss_d_b}

    def backward_g(
        self,
        batch: _Batch,
        fakes: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    ) -> dict[str, torch.Tensor]:
        """The generators' losses (the discriminators frozen), backpropagated; ``G_total`` too."""
        cfg, (fake_b, fake_a, idt_b, idt_a) = self.config, fakes
        with self._autocast():
            judged_b = self.judged(fake_b, batch.cond_a)
            judged_a = self.judged(fake_a, batch.cond_b, "a")
            losses = {
                "G_adv_AB": adversarial_loss(self.d_b(judged_b), True, cfg.gan_mode),
                "G_adv_BA": adversarial_loss(self.d_a(judged_a), True, cfg.gan_mode),
            }
            # With cfg.cycle == "detached": G_BA(G_AB(a).detach()), no gradient into G_AB.
            g_ab = self._cycle_g_ab(batch.history_b)
            cycle = cycle_losses(
                g_ab, self.g_ba, batch.real_a, batch.real_b, fake_a, fake_b, cfg.cycle
            )
            losses.update(cycle)
            weighted = [losses["G_adv_AB"], losses["G_adv_BA"]]
            zero = torch.zeros((), device=fake_b.device)
            weighted.append(cfg.lambda_cycle * sum(cycle.values(), zero))
            weighted += self._content_losses(batch, fake_a, fake_b, losses)
            if cfg.identity_weight > 0:
                losses["idt_A"] = l1(idt_a, batch.real_a)
                losses["idt_B"] = l1(idt_b, batch.real_b)
                weighted.append(cfg.identity_weight * (losses["idt_A"] + losses["idt_B"]))
            loss_g = weighted[0]
            for term in weighted[1:]:
                loss_g = loss_g + term
        self.scaler_g.scale(loss_g).backward()
        losses["G_total"] = loss_g
        return losses

    def _content_losses(
        self,
        batch: _Batch,
        fake_a: torch.Tensor,
        fake_b: torch.Tensor,
        losses: dict[str, torch.Tensor],
    ) -> list[torch.Tensor]:
        """The optional terms that keep content: pose and policy consistency (weighted)."""
        cfg, terms = self.config, []
        if self.pose_a is not None and self.pose_b is not None:
            if batch.pose_a is None or batch.pose_b is None:
                raise ConfigError("lambda_pose > 0 needs the batches' recorded poses")
            # The translated frame must show the pose its source frame was recorded in.
            weights = self.pose_weights
            read_b = self.pose_b(fake_b)
            losses["pose_AB"] = self.pose_b.error(read_b, batch.pose_a, weights)
            losses["pose_BA"] = self.pose_a.loss(fake_a, batch.pose_b, weights)
            terms.append(cfg.lambda_pose * (losses["pose_AB"] + losses["pose_BA"]))
            if cfg.lambda_floor_motion > 0:
                losses["floor_motion"] = self._floor_motion(batch, read_b)
                terms.append(cfg.lambda_floor_motion * losses["floor_motion"])
        if cfg.lambda_flow > 0:
            losses["flow"] = self._flow(batch, fake_b)
            terms.append(cfg.lambda_flow * losses["flow"])
        if self.policy_panel is not None:
            if batch.policy is None:
                raise ConfigError("lambda_policy > 0 needs stacked frames and expert labels")
            # The policy, shown G_AB's translation of the stack, must act as the expert did.
            stacks, labels = batch.policy
            losses["policy_AB"] = self.policy_panel.loss(self.g_ab(stacks), labels)
            terms.append(cfg.lambda_policy * losses["policy_AB"])
        return terms

    def _flow(self, batch: _Batch, fake_b: torch.Tensor) -> torch.Tensor:
        """The pixel-level motion term for G_AB's outputs: see
        :func:`~style_wrap.train.flow.flow_loss`."""
        history = batch.history_a
        if history is None or history.dx is None or self.row_motion is None:
            raise ConfigError("lambda_flow > 0 needs a temporal run's streams with recorded x")
        dx = history.dx.view(-1, 1).to(fake_b.dtype)
        slopes_a, slopes_b = self.row_motion[0].view(1, -1), self.row_motion[1].view(1, -1)
        return flow_loss(
            fake_b,
            history.outputs,
            batch.real_a,
            history.previous,
            dx * slopes_a,
            history.started,
            self.config.flow_tolerance,
            dx * slopes_b,
        )

    def _floor_motion(self, batch: _Batch, read_b: torch.Tensor) -> torch.Tensor:
        """The floor's motion term for G_AB's outputs (``read_b``: domain B's pose regressor
        on them): see :func:`~style_wrap.train.losses.floor_motion_loss`."""
        history = batch.history_a
        if history is None or history.pose is None or batch.pose_a is None:
            raise ConfigError(
                "lambda_floor_motion > 0 needs a temporal run's streams with recorded poses"
            )
        assert self.pose_b is not None
        with torch.no_grad():  # the previous output is the anchor, as the streams carry it
            before = self.pose_b.predict(history.outputs)[:, -2:]
        floor = self.pose_b.unstandardise(read_b)[:, -2:]
        return floor_motion_loss(
            floor, before, batch.pose_a[:, -2:], history.pose[:, -2:], history.started
        )

    def _step(self, optimizer: torch.optim.Optimizer, scaler: Any, nets: list[nn.Module]) -> None:
        average_gradients(nets, self.dist)
        scaler.step(optimizer)
        scaler.update()

    def train_step(
        self,
        real_a: torch.Tensor,
        real_b: torch.Tensor,
        pose_a: torch.Tensor | None = None,
        pose_b: torch.Tensor | None = None,
        policy_batch: tuple[torch.Tensor, torch.Tensor] | None = None,
        history_a: BatchHistory | None = None,
        history_b: BatchHistory | None = None,
        cond_a: torch.Tensor | None = None,
        cond_b: torch.Tensor | None = None,
    ) -> dict[str, float]:
        """One iteration on a batch of each domain (float NCHW in [-1, 1]); returns the losses.

        ``pose_a``/``pose_b`` are the batches' recorded poses, used when ``lambda_pose > 0``;
        ``policy_batch`` is ``(stacked domain-A frames, expert actions)``, used when
        ``lambda_policy > 0`` (see :mod:`style_wrap.train.consistency`); ``history_a`` and
        ``history_b`` feed a temporal G_AB (see :class:`BatchHistory`). This step's ``G_AB(a)``
        is kept, detached, in ``last_fake_b`` (the streams' next history). ``cond_a`` and
        ``cond_b`` are the batches' discriminator conditions (with ``d_condition``).
        """
        gens, discs = [self.g_ab, self.g_ba], [self.d_a, self.d_b]
        fakes = self.forward(real_a, real_b, history_a, history_b)
        fake_b, fake_a = fakes[0], fakes[1]
        self.last_fake_b = fake_b.detach()
        # 1. Discriminators, on detached fakes, stepped before the generators' adversarial update.
        _set_requires_grad(discs, True)
        self.opt_d.zero_grad(set_to_none=True)
        losses = self.backward_d(real_a, real_b, fake_a, fake_b, cond_a, cond_b)
        self._step(self.opt_d, self.scaler_d, discs)
        # 2. Generators, with the discriminators frozen: no gradient reaches D's parameters.
        _set_requires_grad(discs, False)
        self.opt_g.zero_grad(set_to_none=True)
        batch = _Batch(
            real_a, real_b, pose_a, pose_b, policy_batch, history_a, history_b, cond_a, cond_b
        )
        g_losses = self.backward_g(batch, fakes)
        total = g_losses.pop("G_total")
        losses = {**g_losses, **losses, "G_total": total}
        self._step(self.opt_g, self.scaler_g, gens)
        _set_requires_grad(discs, True)
        for key, avg in self.ema.items():
            avg.update_parameters(getattr(self, key))
        self.sched_g.step()
        self.sched_d.step()
        self.step += 1
        return {k: float(v.detach()) for k, v in losses.items()}

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to continue exactly."""
        state: dict[str, Any] = {k: v.state_dict() for k, v in self.nets.items()}
        state.update(
            opt_g=self.opt_g.state_dict(),
            opt_d=self.opt_d.state_dict(),
            sched_g=self.sched_g.state_dict(),
            sched_d=self.sched_d.state_dict(),
            scaler_g=self.scaler_g.state_dict(),
            scaler_d=self.scaler_d.state_dict(),
            pool_a=self.pool_a.state_dict(),
            pool_b=self.pool_b.state_dict(),
            torch_rng=torch.get_rng_state(),
            step=self.step,
            pose_fitted=self.pose_fitted,
        )
        if self.row_motion is not None:
            state["row_motion"] = self.row_motion
        state.update({f"ema_{k}": avg.state_dict() for k, avg in self.ema.items()})
        if self.pose_a is not None and self.pose_b is not None:
            state.update(pose_a=self.pose_a.state_dict(), pose_b=self.pose_b.state_dict())
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, net in self.nets.items():
            net.load_state_dict(state[k])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        self.scaler_g.load_state_dict(state["scaler_g"])
        self.scaler_d.load_state_dict(state["scaler_d"])
        self.pool_a.load_state_dict(state["pool_a"], self.device)
        self.pool_b.load_state_dict(state["pool_b"], self.device)
        for key, avg in self.ema.items():
            avg.load_state_dict(state[f"ema_{key}"])
        if self.pose_a is not None and self.pose_b is not None and "pose_a" in state:
            self.pose_a.load_state_dict(state["pose_a"])
            self.pose_b.load_state_dict(state["pose_b"])
            self.pose_fitted = bool(state.get("pose_fitted", False))
        if "row_motion" in state:
            self.row_motion = state["row_motion"].to(self.device)
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.step = int(state["step"])

    @torch.inference_mode()
    def sample_grid(self, real_a: torch.Tensor, real_b: torch.Tensor) -> np.ndarray:
        """Rows of input | translated | cycle, for domain A then domain B, as a uint8 image."""
        with self._autocast():
            fake_b, fake_a = self.run_ab(self.ab_input(real_a)), self.g_ba(real_b)
            rec_a, rec_b = self.g_ba(fake_b), self.run_ab(self.ab_input(fake_a))
        rows = []
        for triple in ((real_a, fake_b, rec_a), (real_b, fake_a, rec_b)):
            for i in range(len(real_a)):
                rows.append(torch.cat([t[i].float() for t in triple], dim=2))
        grid = torch.cat(rows, dim=1)
        return from_model_output(grid[None])[0].cpu().numpy()
