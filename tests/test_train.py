from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import RESEARCH_POLICIES
from helpers import make_domains, paint, shapes

from style_wrap import ConfigError, DataError
from style_wrap.cli import main as cli
from style_wrap.nets import to_model_input
from style_wrap.train.config import TrainConfig
from style_wrap.train.data import save_frames
from style_wrap.train.dist import DistInfo
from style_wrap.train.loop import CHECKPOINT, EXPORTS, EXPORTS_DIR, _load_domains, export_run, train
from style_wrap.train.losses import cycle_losses, discriminator_loss
from style_wrap.train.model import CycleGAN
from style_wrap.weights import load_generator

FLIPAWARE = str(RESEARCH_POLICIES["flipaware"])  # two earlier students as judges
ROUND10 = str(RESEARCH_POLICIES["round10"])

TINY = dict(ngf=4, n_blocks=1, ndf=8, batch_size=4, progress=False, log_every=1, sample_every=0)


def _model(**changes) -> CycleGAN:
    settings = {"iters": 10, "pool_size": 0, **TINY, **changes}
    cfg = TrainConfig(domain_a="a", domain_b="b", **settings)
    return CycleGAN(cfg, (16, 16), torch.device("cpu"))


def _batch(scheme: str, seed: int) -> torch.Tensor:
    return to_model_input(torch.from_numpy(paint(shapes(4, 16, seed), scheme)))


def _params(module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_discriminator_update_equals_its_own_loss_alone():
    full, alone = _model(), _model()
    real_a, real_b = _batch("A", 1), _batch("B", 2)
    full.train_step(real_a, real_b)

    # The reference: one Adam step of the discriminators on their own loss, nothing else.
    with torch.no_grad():
        fake_b, fake_a = alone.g_ab(real_a), alone.g_ba(real_b)
    alone.opt_d.zero_grad()
    loss = discriminator_loss(alone.d_a, real_a, fake_a) + discriminator_loss(
        alone.d_b, real_b, fake_b
    )
    loss.backward()
    alone.opt_d.step()

    for d_full, d_alone in ((full.d_a, alone.d_a), (full.d_b, alone.d_b)):
        for p, q in zip(d_full.parameters(), d_alone.parameters()):
            torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
    # ...and the generators did move.
    assert any(
        not torch.equal(p, q) for p, q in zip(full.g_ab.parameters(), alone.g_ab.parameters())
    )


def test_the_posts_wrong_order_would_leak_into_the_discriminator():
    # The check above has teeth: backpropagating G's loss with D unfrozen changes D's update.
    model, alone = _model(), _model()
    real_a, real_b = _batch("A", 1), _batch("B", 2)
    fake_b = model.g_ab(real_a)
    model.opt_d.zero_grad()
    (model.d_b(fake_b) - 1).pow(2).mean().backward()  # G's adversarial loss, D not frozen
    loss = discriminator_loss(model.d_b, real_b, fake_b.detach())
    loss.backward()
    model.opt_d.step()
    alone.opt_d.zero_grad()
    discriminator_loss(alone.d_b, real_b, alone.g_ab(real_a).detach()).backward()
    alone.opt_d.step()
    assert any(
        not torch.allclose(p, q, atol=1e-6)
        for p, q in zip(model.d_b.parameters(), alone.d_b.parameters())
    )


@pytest.mark.parametrize("mode", ["detached", "full", "none"])
def test_cycle_modes(mode):
    model = _model()
    real_a, real_b = _batch("A", 1), _batch("B", 2)
    fake_b, fake_a = model.g_ab(real_a), model.g_ba(real_b)
    losses = cycle_losses(model.g_ab, model.g_ba, real_a, real_b, fake_a, fake_b, mode)
    if mode == "none":
        assert losses == {}
        return
    model.g_ab.zero_grad()
    losses["cycle_A"].backward()  # |G_BA(G_AB(a)) - a|: does it reach G_AB, the first generator?
    grads = [p.grad for p in model.g_ab.parameters()]
    reached = any(g is not None and g.abs().sum() > 0 for g in grads)
    assert reached == (mode == "full")
    assert all(
        p.grad is not None and p.grad.abs().sum() > 0
        for p in model.g_ba.parameters()
        if p.dim() > 1
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"gradient_penalty": "r1"},
        {"gradient_penalty": "wgan-gp"},
        {"gan_mode": "vanilla"},
        {"lambda_identity": 0.0},
        {"cycle": "none", "pool_size": 3},
    ],
)
def test_loss_variants_train(changes):
    model = _model(**changes)
    before = _params(model.d_a)
    losses = model.train_step(_batch("A", 1), _batch("B", 2))
    assert all(np.isfinite(v) for v in losses.values())
    assert ("idt_A" in losses) == (changes.get("lambda_identity", 0.5) > 0)
    assert ("cycle_A" in losses) == (changes.get("cycle", "detached") != "none")
    assert any(not torch.equal(p, q) for p, q in zip(before, model.d_a.parameters()))


def test_floor_phase_reads_each_look_with_its_own_period(tmp_path):
    from style_wrap.train.logs import RunWriter
    from style_wrap.train.loop import Run
    from style_wrap.train.pose import pose_targets

    x = np.linspace(0.0, 60.0, 16)  # the last frames are past the floor's end (40 m)
    qpos = np.stack([x, *np.zeros((4, 16))], 1)
    masks = shapes(16, 16, seed=1)
    for name, scheme in (("a", "A"), ("b", "B")):
        save_frames(tmp_path / name, paint(masks, scheme), name=scheme, qpos=qpos, qvel=qpos)
    cfg = TrainConfig(
        domain_a=str(tmp_path / "a"),
        domain_b=str(tmp_path / "b"),
        out=str(tmp_path / "runs"),
        iters=2,
        lambda_pose=1.0,
        pose_steps=2,
        pose_width=4,
        floor_period_a=0.5,
        floor_period_b=1.3,
        **TINY,
    )
    data = _load_domains(cfg)
    writer = RunWriter(tmp_path / "runs" / "r", cfg, False, CHECKPOINT)
    run = Run(
        cfg,
        tmp_path / "runs" / "r",
        data,
        torch.device("cpu"),
        DistInfo(),
        writer,
        (None, None, None),
    )
    fit_a, fit_b = (t.numpy() for t in run.fit_poses)
    score_a, score_b = (t.numpy() for t in run.poses)
    np.testing.assert_allclose(fit_a, pose_targets(qpos, 0.5))  # A's regressor learns A's floor
    np.testing.assert_allclose(fit_b, pose_targets(qpos, 1.3))
    np.testing.assert_allclose(score_a, pose_targets(qpos, 1.3))  # G_AB(a) scored as a B floor
    np.testing.assert_allclose(score_b, pose_targets(qpos, 0.5))
    assert fit_a.shape == (16, 4 + 2) and not fit_a[x > 40, -2:].any()  # no floor past its end
    run_dir = train(cfg.replace(name="floor"))
    state = torch.load(run_dir / CHECKPOINT, weights_only=True)["model"]
    assert state["pose_b"]["mean"].shape == (6,)
    with pytest.raises(ConfigError, match="expected both > 0 with lambda_pose > 0"):
        cfg.replace(floor_period_b=0.0)
    with pytest.raises(ConfigError, match="expected both > 0 with lambda_pose > 0"):
        cfg.replace(lambda_pose=0.0)


def test_floor_weight_scales_only_the_floor_targets():
    cfg = TrainConfig(
        domain_a="a",
        domain_b="b",
        lambda_pose=2.0,
        floor_period_a=0.5,
        floor_period_b=1.3,
        floor_weight=4.0,
        **TINY,
    )
    model = CycleGAN(cfg, (16, 16), torch.device("cpu"), pose_dim=6)
    assert model.pose_weights.tolist() == [1.0, 1.0, 1.0, 1.0, 4.0, 4.0]
    net, x = model.pose_b, torch.rand(3, 3, 16, 16) * 2 - 1
    pose = torch.randn(3, 6)
    error = (net(x) - net.standardise(pose)) ** 2
    assert torch.allclose(net.loss(x, pose), error.mean())  # no weights: every target alike
    weighted = net.loss(x, pose, model.pose_weights)
    assert torch.allclose(weighted, (error[:, :4].sum(1) + 4 * error[:, 4:].sum(1)).mean() / 6)
    assert (
        CycleGAN(cfg.replace(floor_weight=1.0), (16, 16), torch.device("cpu"), pose_dim=6)
        .pose_weights.eq(1)
        .all()
    )
    with pytest.raises(ConfigError, match="floor_weight = 3.0 weighs the floor's targets"):
        TrainConfig(domain_a="a", domain_b="b", lambda_pose=1.0, floor_weight=3.0)
    with pytest.raises(ConfigError, match="floor_weight"):
        cfg.replace(floor_weight=-1.0)


def test_pose_consistency_option(tmp_path):
    a, b = make_domains(tmp_path, n=16, state=True)
    settings = {**TINY, "pose_steps": 5, "pose_width": 4, "checkpoint_every": 2}
    cfg = TrainConfig(
        domain_a=a,
        domain_b=b,
        out=str(tmp_path / "runs"),
        name="p",
        iters=2,
        lambda_pose=1.0,
        **settings,
    )
    run = train(cfg)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all("pose_AB" in r and "pose_BA" in r for r in records if "step" in r and "D_A" in r)
    state = torch.load(run / CHECKPOINT, weights_only=True)["model"]
    assert state["pose_fitted"] and "pose_a" in state
    # resuming keeps the fitted regressors instead of fitting new ones
    train(cfg.replace(iters=3, resume=True), {"iters", "resume"})
    resumed = torch.load(run / CHECKPOINT, weights_only=True)["model"]
    for k, v in state["pose_b"].items():
        assert torch.equal(v, resumed["pose_b"][k])
    # frames without recorded state cannot use it
    plain_a, _ = make_domains(tmp_path / "plain", n=8)
    with pytest.raises(ConfigError, match="lambda_pose = 1.0 needs recorded poses"):
        train(cfg.replace(domain_a=plain_a, name="q"))


def test_learning_rate_is_constant_then_decays_to_zero():
    model = _model(iters=4, decay_start=0.5)
    rates = []
    for _ in range(4):
        rates.append(model.opt_g.param_groups[0]["lr"])
        model.train_step(_batch("A", 1), _batch("B", 2))
    rates.append(model.opt_g.param_groups[0]["lr"])
    assert rates == pytest.approx([2e-4, 2e-4, 2e-4, 1e-4, 0.0])


def test_learns_a_colour_swap(tmp_path):
    a, b = make_domains(tmp_path, n=96)
    cfg = TrainConfig(
        domain_a=a,
        domain_b=b,
        out=str(tmp_path / "runs"),
        name="learn",
        iters=150,
        lr=2e-3,
        decay_start=0.8,
        **{**TINY, "ngf": 8, "n_blocks": 2},
    )
    run = train(cfg)
    g, spec = load_generator(run / EXPORTS["g_ab"])
    masks = shapes(32, 16, seed=99)  # held-out shapes, drawn in both looks: paired truth
    src, truth = paint(masks, "A"), paint(masks, "B")
    with torch.no_grad():
        out = g(to_model_input(torch.from_numpy(src)))
    out = ((out.clamp(-1, 1) + 1) * 127.5).permute(0, 2, 3, 1).numpy()
    error, baseline = np.abs(out - truth).mean(), np.abs(src.astype(float) - truth).mean()
    assert spec.domain_from == "A" and spec.domain_to == "B"
    assert error < 0.5 * baseline, (error, baseline)


def _train_args(tmp_path, a, b, name, *extra) -> list[str]:
    tiny = "--ngf 4 --n-blocks 1 --ndf 8 --batch-size 2 --log-every 1 --no-progress --threads 1"
    return [
        "train",
        "--domain-a",
        a,
        "--domain-b",
        b,
        "--out",
        str(tmp_path / "runs"),
        "--name",
        name,
        *tiny.split(),
        *extra,
    ]


def _cli_train(tmp_path, a, b, name, *extra) -> list[str]:
    return [
        sys.executable,
        "-m",
        "style_wrap.cli",
        *_train_args(tmp_path, a, b, name, "--pool-size", "4", "--sample-every", "0", *extra),
    ]


@pytest.mark.parametrize("ema", ["0", "0.9"])
def test_resume_after_sigint_ends_where_an_uninterrupted_run_ends(tmp_path, ema):
    a, b = make_domains(tmp_path, n=16)
    iters = ["--iters", "40", "--checkpoint-every", "1", "--ema", ema]
    subprocess.run(_cli_train(tmp_path, a, b, "straight", *iters), check=True)

    proc = subprocess.Popen(_cli_train(tmp_path, a, b, "broken", *iters), stderr=subprocess.PIPE)
    metrics = tmp_path / "runs" / "broken" / "metrics.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (
        not metrics.exists() or len(metrics.read_text().splitlines()) < 6
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"--resume" in err
    state = torch.load(tmp_path / "runs" / "broken" / CHECKPOINT, weights_only=True)
    assert 0 < state["model"]["step"] < 40
    assert not (tmp_path / "runs" / "broken" / EXPORTS["g_ab"]).exists()

    subprocess.run(_cli_train(tmp_path, a, b, "broken", "--resume", *iters), check=True)
    for key in EXPORTS.values():
        g1, s1 = load_generator(tmp_path / "runs" / "straight" / key)
        g2, s2 = load_generator(tmp_path / "runs" / "broken" / key)
        assert s1.step == s2.step == 40
        for p, q in zip(g1.parameters(), g2.parameters()):
            assert torch.equal(p, q)


def test_export_then_load_gives_identical_outputs(tmp_path):
    a, b = make_domains(tmp_path, n=16)
    cfg = TrainConfig(domain_a=a, domain_b=b, out=str(tmp_path), name="r", iters=3, **TINY)
    run = train(cfg)
    state = torch.load(run / CHECKPOINT, weights_only=True)
    x = _batch("A", 5)
    exported, spec = load_generator(run / EXPORTS["g_ab"])
    reference = copy.deepcopy(exported)
    reference.load_state_dict(state["model"]["g_ab"])
    with torch.no_grad():
        assert torch.equal(exported(x), reference(x))
    shutil.move(run / EXPORTS["g_ab"], tmp_path / "old.safetensors")
    paths = export_run(run, "float16")
    assert [p.name for p in paths] == list(EXPORTS.values())
    half, _ = load_generator(paths[0])
    with torch.no_grad():
        torch.testing.assert_close(half(x), reference(x), atol=0.02, rtol=0)


def test_export_every_keeps_generators_along_the_run(tmp_path):
    a, b = make_domains(tmp_path, n=16)
    cfg = TrainConfig(
        domain_a=a, domain_b=b, out=str(tmp_path), name="r", iters=6, export_every=2, **TINY
    )
    run = train(cfg)
    kept = sorted(p.name for p in (run / EXPORTS_DIR).iterdir())
    assert kept == ["step-000002", "step-000004"]  # the last step is the run's own export
    for name, step in (("step-000002", 2), ("step-000004", 4)):
        for file in EXPORTS.values():
            _, spec = load_generator(run / EXPORTS_DIR / name / file)
            assert spec.step == step and spec.extra["run"] == "r"
    middle, _ = load_generator(run / EXPORTS_DIR / "step-000004" / EXPORTS["g_ab"])
    final, _ = load_generator(run / EXPORTS["g_ab"])
    assert any(not torch.equal(p, q) for p, q in zip(middle.parameters(), final.parameters()))
    with pytest.raises(ConfigError, match="export_every = -1; expected >= 0"):
        cfg.replace(export_every=-1)


def test_ema_exports_the_moving_average_and_resumes_exactly(tmp_path):
    a, b = make_domains(tmp_path, n=16)
    cfg = TrainConfig(domain_a=a, domain_b=b, out=str(tmp_path), name="r", iters=4, ema=0.5, **TINY)
    run = train(cfg)
    state = torch.load(run / CHECKPOINT, weights_only=True)["model"]
    exported, _ = load_generator(run / EXPORTS["g_ab"])
    average = {k[len("module.") :]: v for k, v in state["ema_g_ab"].items() if k != "n_averaged"}
    assert int(state["ema_g_ab"]["n_averaged"]) == 4
    for name, p in exported.state_dict().items():
        assert torch.equal(p, average[name])
    assert any(not torch.equal(average[k], v) for k, v in state["g_ab"].items())  # not the raw
    # From the checkpoint, `style-wrap export` writes the same average.
    shutil.move(run / EXPORTS["g_ab"], tmp_path / "first.safetensors")
    again, _ = load_generator(export_run(run)[0])
    for p, q in zip(exported.parameters(), again.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ConfigError, match="ema = 1.0; expected 0 <= ema < 1"):
        cfg.replace(ema=1.0)


def test_warm_start_from_exported_generators(tmp_path):
    a, b = make_domains(tmp_path, n=16)
    first = train(TrainConfig(domain_a=a, domain_b=b, out=str(tmp_path), name="r", iters=3, **TINY))
    init = {k: str(first / EXPORTS[k]) for k in ("g_ab", "g_ba")}
    # lr 0: the generators stay exactly the weights they started from
    warm = TrainConfig(
        domain_a=a,
        domain_b=b,
        out=str(tmp_path),
        name="w",
        iters=2,
        lr=0.0,
        init_g_ab=init["g_ab"],
        init_g_ba=init["g_ba"],
        **TINY,
    )
    second = train(warm)
    for key in EXPORTS.values():
        g1, _ = load_generator(first / key)
        g2, _ = load_generator(second / key)
        for p, q in zip(g1.parameters(), g2.parameters()):
            assert torch.equal(p, q)
    swapped = warm.replace(name="s", init_g_ab=init["g_ba"], init_g_ba="")
    with pytest.warns(UserWarning, match="translates B -> A; this run's g_ab translates A -> B"):
        train(swapped)
    wider = warm.replace(name="x", ngf=8)
    with pytest.raises(ConfigError, match="architecture .*ngf=4.*expected .*ngf=8"):
        train(wider)
    assert not (tmp_path / "x").exists()  # rejected before any run folder is made


def test_bad_data_gives_clear_errors_and_leaves_no_run(tmp_path, capsys):
    a, b = make_domains(tmp_path, n=8)
    out = tmp_path / "runs"
    (tmp_path / "empty").mkdir()
    save_frames(tmp_path / "big", np.zeros((4, 32, 32, 3), np.uint8), name="big")
    save_frames(tmp_path / "odd", np.zeros((4, 18, 18, 3), np.uint8), name="odd")
    corrupt = tmp_path / "corrupt"
    shutil.copytree(b, corrupt)
    (corrupt / "shard-00000.npz").write_bytes(b"not a zip")
    cases = [
        (str(tmp_path / "empty"), DataError, "no manifest.json"),
        (str(tmp_path / "big"), DataError, "frame shapes differ"),
        (str(corrupt), DataError, "corrupt or missing shard"),
    ]
    for bad, error, needle in cases:
        with pytest.raises(error, match=needle):
            train(TrainConfig(domain_a=a, domain_b=bad, out=str(out), iters=2, **TINY))
    with pytest.raises(DataError, match="multiples of 4"):
        train(
            TrainConfig(
                domain_a=str(tmp_path / "odd"),
                domain_b=str(tmp_path / "odd"),
                out=str(out),
                iters=2,
                **TINY,
            )
        )
    assert not out.exists()
    assert (
        cli(["train", "--domain-a", a, "--domain-b", str(tmp_path / "empty"), "--out", str(out)])
        == 2
    )
    assert "no manifest.json" in capsys.readouterr().err
    assert not out.exists()


def test_bad_settings(tmp_path, capsys):
    a, b = make_domains(tmp_path, n=8)
    with pytest.raises(ConfigError, match="batch_size = 0"):
        TrainConfig(domain_a=a, domain_b=b, batch_size=0)
    with pytest.raises(ConfigError, match="no run to resume"):
        train(TrainConfig(domain_a=a, domain_b=b, out=str(tmp_path / "none"), resume=True))
    toml = tmp_path / "s.toml"
    toml.write_text("[train]\nitres = 3\n")
    assert cli(["train", "--config", str(toml)]) == 2
    err = capsys.readouterr().err
    assert "unknown setting in" in err and "'itres'" in err
    toml.write_text(f'domain_a = "{a}"\ndomain_b = "{b}"\niters = 2\nngf = 4\nn_blocks = 1\n')
    run = ["train", "--config", str(toml), "--out", str(tmp_path / "r"), "--name", "x"]
    assert cli([*run, "--no-progress", "--sample-every", "0"]) == 0
    saved = (tmp_path / "r" / "x" / "config.toml").read_text()
    assert "iters = 2" in saved and "ngf = 4" in saved
    # resuming with a setting that defines the run changed is refused
    assert cli([*run, "--resume", "--ngf", "8"]) == 2
    assert "ngf" in capsys.readouterr().err


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tmp_path):
    a, b = make_domains(tmp_path, n=16)
    torchrun = Path(sys.executable).with_name("torchrun")
    cmd = [
        str(torchrun),
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "style_wrap.cli",
        *_train_args(tmp_path, a, b, "ddp", "--iters", "4", "--sample-every", "2"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "runs" / "ddp"
    assert (run / EXPORTS["g_ab"]).is_file() and (run / CHECKPOINT).is_file()
    assert '"world_size": 2' in (run / "metrics.jsonl").read_text()


@pytest.fixture(scope="module")
def cheetah_pair(tmp_path_factory):
    """A state expert and short every-step cheetah frames of both looks, 64x64 like the policy."""
    from style_wrap.rl.expert import train_expert
    from style_wrap.train.collect import collect

    root = tmp_path_factory.mktemp("cheetah")
    expert = train_expert(root / "expert", steps=512)
    size = {"width": 64, "height": 64, "max_episode_steps": 8}
    kwargs = dict(env_kwargs=size, progress=False, policy=str(expert))
    collect("StyleWrap/HalfCheetahRestyled-v5", 24, root / "a", **kwargs)
    collect("StyleWrap/HalfCheetahRestyled-v5", 12, root / "sparse", every=2, **kwargs)
    collect("StyleWrap/HalfCheetah-v5", 24, root / "b", **kwargs)
    return root


def _policy_loss_over_all_stacks(run: Path, root: Path, policy: str = "") -> float:
    from style_wrap.train.consistency import PolicyHead, expert_labels
    from style_wrap.train.data import load_frames

    data = load_frames(root / "a")
    head = PolicyHead(policy or FLIPAWARE, (64, 64), torch.device("cpu"))
    ends = data.stack_ends(head.n_stack)
    labels = torch.from_numpy(expert_labels(str(root / "expert"), data, ends))
    index = torch.from_numpy(ends)[:, None] - torch.arange(head.n_stack - 1, -1, -1)
    net, _ = load_generator(run / EXPORTS["g_ab"])
    with torch.no_grad():
        frames = to_model_input(torch.from_numpy(data.frames[index.reshape(-1).numpy()]))
        return float(head.loss(net(frames), labels))


def _policy_config(root: Path, out: Path, **changes) -> TrainConfig:
    """A tiny run with policy consistency on the cheetah pair (the flip-aware student)."""
    settings = dict(
        domain_a=str(root / "a"),
        domain_b=str(root / "b"),
        out=str(out),
        lambda_policy=1.0,
        policy=FLIPAWARE,
        policy_expert=str(root / "expert"),
        **TINY,
    )
    return TrainConfig(**{**settings, **changes})


def test_policy_consistency_pulls_the_policys_actions_toward_the_experts(cheetah_pair):
    root = cheetah_pair
    cfg = _policy_config(
        root, root / "runs", name="with", iters=10, lr=1e-3, lambda_policy=100.0, policy_batch=4
    )
    with_term = train(cfg)
    records = [json.loads(line) for line in (with_term / "metrics.jsonl").read_text().splitlines()]
    assert sum("policy_AB" in r for r in records) == 10
    without = train(cfg.replace(name="without", lambda_policy=0.0))  # same seed, same start
    # over every full stack of domain A, the term brought the policy closer to the expert
    assert _policy_loss_over_all_stacks(with_term, root) < _policy_loss_over_all_stacks(
        without, root
    )


def test_a_panel_of_policies_judges_together(cheetah_pair):
    from style_wrap.train.consistency import policy_panel

    root = cheetah_pair
    panel = policy_panel(f"{FLIPAWARE}, {ROUND10}", (64, 64), torch.device("cpu"))
    assert len(panel) == 2 and panel.n_stack == 3
    frames, labels = torch.rand(4 * 3, 3, 64, 64) * 2 - 1, torch.rand(4, 6) * 2 - 1
    each = [float(h.loss(frames, labels)) for h in panel.heads]
    assert each[0] != each[1]
    assert float(panel.loss(frames, labels)) == pytest.approx(sum(each) / 2)
    cfg = _policy_config(
        root,
        root / "runs",
        name="panel",
        iters=10,
        lr=1e-3,
        lambda_policy=100.0,
        policy_batch=4,
        policy=f"{FLIPAWARE},{ROUND10}",
    )
    with_panel = train(cfg)
    without = train(cfg.replace(name="no-panel", lambda_policy=0.0))
    for policy in (FLIPAWARE, ROUND10):  # the run served both judges
        assert _policy_loss_over_all_stacks(with_panel, root, policy) < (
            _policy_loss_over_all_stacks(without, root, policy)
        ), policy
    with pytest.raises(ConfigError, match="expected comma-separated policy files"):
        train(cfg.replace(name="empty", policy=" , "))


def test_policy_consistency_needs_its_inputs(cheetah_pair, tmp_path):
    root = cheetah_pair
    with pytest.raises(ConfigError, match="lambda_policy = 1.0 needs settings policy"):
        TrainConfig(domain_a="a", domain_b="b", lambda_policy=1.0, policy=FLIPAWARE)
    good = _policy_config(root, tmp_path / "runs", iters=1)
    cases = [
        ({"domain_a": str(root / "sparse"), "domain_b": str(root / "sparse")}, "no run of 3"),
        ({"policy": "no-such-policy.zip"}, "no such file and no shipped policy"),
        ({"policy_expert": str(tmp_path)}, "no expert.safetensors"),
    ]
    for changes, needle in cases:
        with pytest.raises(ConfigError, match=needle):
            train(good.replace(**changes))
    small = tmp_path / "small"
    save_frames(small, np.zeros((4, 32, 32, 3), np.uint8), name="small")
    with pytest.raises(ConfigError, match=r"reads observations of shape \(9, 64, 64\)"):
        train(good.replace(domain_a=str(small), domain_b=str(small)))
    assert not (tmp_path / "runs").exists()  # bad settings leave no run folder


def test_policy_shift_moves_each_stack_as_one_picture():
    from style_wrap.train.consistency import PolicyHead

    policy = FLIPAWARE
    head = PolicyHead(policy, (64, 64), torch.device("cpu"), shift=2)
    x = torch.rand(32, 9, 64, 64)
    y = head.shifted(x)
    seen = set()
    for b in range(len(x)):  # the inside of each stack is x moved by one offset, all channels
        inside = y[b, :, 2:-2, 2:-2]
        found = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(inside, x[b, :, 2 + dy : 62 + dy, 2 + dx : 62 + dx])
        ]
        assert len(found) == 1, b
        seen.add(found[0])
    assert len(seen) > 5  # offsets drawn per stack
    assert torch.equal(PolicyHead(policy, (64, 64), torch.device("cpu")).shifted(x), x)
    with pytest.raises(ConfigError, match="policy_shift = -1; expected >= 0"):
        TrainConfig(domain_a="a", domain_b="b", policy_shift=-1)


@pytest.mark.parametrize("shift", [0, 1])
def test_policy_consistency_resumes_where_an_uninterrupted_run_ends(cheetah_pair, tmp_path, shift):
    cfg = _policy_config(
        cheetah_pair,
        tmp_path / "runs",
        name="straight",
        iters=4,
        decay_start=1.0,  # the same learning rate whatever iters says
        lambda_policy=10.0,
        policy_batch=2,
        policy_shift=shift,
        checkpoint_every=2,
    )
    straight = train(cfg)
    train(cfg.replace(name="resumed", iters=2))
    resumed = train(cfg.replace(name="resumed", resume=True), {"iters", "resume", "name"})
    a = torch.load(straight / CHECKPOINT, weights_only=True)
    b = torch.load(resumed / CHECKPOINT, weights_only=True)
    assert a["samplers"]["policy"] == b["samplers"]["policy"] != {"epoch": 0, "pos": 0}
    for key, value in a["model"]["g_ab"].items():
        assert torch.equal(value, b["model"]["g_ab"][key]), key


@pytest.mark.parametrize("name", ["translator", "finetune", "finetune2", "policy", "floor"])
def test_research_recipes_settings_still_parse(name):
    from style_wrap.train.config import load_toml

    root = Path(__file__).resolve().parents[1] / "research" / "recipes"
    values = load_toml(root / f"{name}.toml")
    if name == "policy":  # its recipe passes the judge by path (flipaware.sh)
        values["policy"] = FLIPAWARE
    cfg = TrainConfig(**values)
    assert cfg.ngf == 8 and cfg.generator.n_blocks == 6
