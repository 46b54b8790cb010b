"""``style-wrap fit-pose``: a translator through the pose fitted on unpaired frames of two looks
(real MuJoCo renders, 32x32): it learns, it loads into the wrapper, an interrupted run resumes to
the same weights, and bad input is named before any step."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import style_wrap  # noqa: F401  (registers the ids)
from style_wrap import ConfigError, DataError, StyleTransfer
from style_wrap.cli import main as cli
from style_wrap.envs.cheetah import FrameRenderer
from style_wrap.making import make_env
from style_wrap.posenet import PoseConfig, PoseNet, floor_lock
from style_wrap.train.collect import collect
from style_wrap.train.data import save_frames
from style_wrap.train.posefit import PoseFitConfig, fit_pose, look_camera, pose_vector
from style_wrap.weights import load_generator

SIZE = 32
TINY = dict(encoder_width=4, renderer_width=4, checkpoint_every=10, lock_steps=0)


@pytest.fixture(scope="module")
def looks(tmp_path_factory) -> tuple[str, str]:
    """Restyled and standard frames of random actions, each look with its own seeds."""
    root = tmp_path_factory.mktemp("looks")
    size = {"width": SIZE, "height": SIZE}
    a, b = str(root / "restyled"), str(root / "standard")
    collect("StyleWrap/HalfCheetahRestyled-v5", 160, a, seed=1, env_kwargs=size,
            progress=False, max_episode_steps=40)  # fmt: skip
    collect("StyleWrap/HalfCheetah-v5", 160, b, seed=2, env_kwargs=size, progress=False,
            max_episode_steps=40)  # fmt: skip
    return a, b


def _log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    "env_id, kwargs, period",
    [
        ("StyleWrap/HalfCheetah-v5", {"width": 64, "height": 64}, 80 / 60),
        ("Walker2d-v5", {"render_mode": "rgb_array", "camera_name": "track"}, None),
    ],
)
def test_the_camera_projects_the_capsules_onto_the_body(env_id, kwargs, period):
    """look_camera's geometry, drawn through the renderer's projection, lands on the pixels that
    MuJoCo's segmentation says show the body (the cheetah, and gymnasium's own Walker2d)."""
    env = gym.make(env_id, **kwargs)
    env.reset(seed=3)
    for _ in range(15):
        env.step(env.action_space.sample())
    base = env.unwrapped
    qpos = base.data.qpos.copy()[None]
    cam = look_camera(env_id, qpos, 64, **kwargs)
    assert cam.extent > 0 and cam.period > 0
    if period is not None:
        assert cam.period == pytest.approx(period) and cam.extent == pytest.approx(40.0)
    net = PoseNet(PoseConfig(n_geoms=cam.ends.shape[1]))
    ren = net.renderer
    ren.set_camera(torch.from_numpy(cam.axes), cam.cam_y, cam.focal, cam.extent, cam.period)
    middle = torch.from_numpy(cam.ends).mean(2)  # (1, G, 3) capsule centres
    px = ren.project(middle, torch.from_numpy(cam.cam_x), torch.from_numpy(cam.cam_z))[0]
    renderer = FrameRenderer(base.model, 64, 64)
    mask = renderer.body_mask(base.data)
    renderer.close()
    cols, rows = px[:, 0].long().clamp(0, 63), px[:, 1].long().clamp(0, 63)
    assert mask[rows, cols].mean() >= 0.75, (px, mask.sum())
    env.close()


def test_a_fit_learns_and_serves_the_wrapper(looks, tmp_path):
    a, b = looks
    config = PoseFitConfig(
        source=(a,), target=(b,), encoder_steps=150, renderer_steps=150, **TINY,
        encoder_lr=3e-3, renderer_lr=3e-3, held_out_every=5,
    )  # fmt: skip
    path = fit_pose(config, tmp_path / "run", progress=False)
    log = _log(tmp_path / "run")
    enc = [r for r in log if r["phase"] == "encoder"]
    ren = [r for r in log if r["phase"] == "renderer"]
    assert [r["step"] for r in enc][-1] == 150 and [r["step"] for r in ren][-1] == 150
    assert enc[-1]["held_out_joint_error_rad"] < enc[0]["held_out_joint_error_rad"]
    assert ren[-1]["held_out_psnr_db"] > ren[0]["held_out_psnr_db"] + 1.0
    net, spec = load_generator(path)
    assert isinstance(net, PoseNet) and spec.extra["policy_in_loss"] == "none"
    assert spec.extra["env_to"] == "StyleWrap/HalfCheetah-v5"
    assert net.config.size == SIZE and net.config.n_geoms == 8
    assert load_file(str(path))["encoder.mean"].dtype == torch.float16
    env = StyleTransfer(
        gym.make("StyleWrap/HalfCheetahRestyled-v5", width=SIZE, height=SIZE), weights=path
    )
    obs, _ = env.reset(seed=0)
    first = obs.copy()
    for _ in range(3):
        obs, *_ = env.step(env.action_space.sample())
    assert obs.shape == (SIZE, SIZE, 3) and obs.dtype == np.uint8 and not (obs == first).all()
    env.close()
    # A floor lock added to that file: its encoder and renderer kept, a renderer of the source
    # look fitted as the lock.
    add = PoseFitConfig(
        source=(a,), target=(b,), init=str(path), encoder_steps=0, renderer_steps=0,
        **{**TINY, "lock_steps": 30},
    )  # fmt: skip
    locked, spec = load_generator(fit_pose(add, tmp_path / "lock", progress=False))
    assert locked.config.lock_geoms == 16 and spec.extra["init"] == str(path)
    for k, v in net.state_dict().items():
        torch.testing.assert_close(locked.state_dict()[k], v, msg=k)
    assert [r["phase"] for r in _log(tmp_path / "lock")] == ["lock"] * 3


def test_pose_vector_reads_height_pitch_and_joints():
    q = np.array([[3.0, -0.1, np.pi / 2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    np.testing.assert_allclose(pose_vector(q)[0, :3], [-0.1, 1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(pose_vector(q)[0, 3:], q[0, 3:], atol=1e-6)


def _cli_args(a, b, run, steps):
    return [
        "fit-pose", "--source", a, "--target", b, "--out", str(run), "--encoder-steps",
        str(steps), "--renderer-steps", "40", "--encoder-width", "4", "--renderer-width", "4",
        "--checkpoint-every", "10", "--lock-steps", "20",
    ]  # fmt: skip


def test_an_interrupted_fit_resumes_to_the_same_weights(looks, tmp_path):
    """A run killed mid-way and run again ends where an uninterrupted run of the same command
    ends, bit for bit (the weights, the optimizer and the batches' generator are restored)."""
    a, b = looks
    steps = 400
    whole = tmp_path / "whole"
    assert cli(_cli_args(a, b, whole, steps)) == 0
    cut = tmp_path / "cut"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "style_wrap.cli", *_cli_args(a, b, cut, steps), "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (cut / "log.jsonl").is_file() and len(_log(cut)) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be cut"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (cut / "translator.safetensors").exists()
    assert len(_log(cut)) < len(_log(whole))
    assert cli(_cli_args(a, b, cut, steps)) == 0
    got, want = (
        load_file(str(cut / "translator.safetensors")),
        load_file(str(whole / "translator.safetensors")),
    )
    assert got.keys() == want.keys()
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=0, atol=0, msg=k)


def test_a_run_folder_of_other_settings_is_not_overwritten(looks, tmp_path, capsys):
    a, b = looks
    run = tmp_path / "run"
    assert cli(_cli_args(a, b, run, 20)) == 0
    before = (run / "translator.safetensors").read_bytes()
    assert cli(_cli_args(a, b, run, 30)) == 2
    err = capsys.readouterr().err
    assert "encoder_steps = 20 there, 30 now" in err
    assert (run / "translator.safetensors").read_bytes() == before
    # A run of an older fit-pose, whose config.json lacks a setting added since, resumes when
    # that setting is left at its default, and not when it is given otherwise.
    saved = json.loads((run / "config.json").read_text())
    del saved["source_env"]
    (run / "config.json").write_text(json.dumps(saved))
    assert cli(_cli_args(a, b, run, 20)) == 0
    assert cli([*_cli_args(a, b, run, 20), "--source-env", "Walker2d-v5"]) == 2
    assert "source_env = 'StyleWrap/HalfCheetahRestyled-v5' there" in capsys.readouterr().err


@pytest.mark.parametrize(
    "change, error, named",
    [
        (dict(encoder_lr=float("nan")), ConfigError, "encoder_lr = nan"),
        (dict(encoder_batch=0), ConfigError, "encoder_batch = 0; expected >= 1"),
        (dict(held_out_every=1), ConfigError, "held_out_every = 1"),
        (dict(encoder_steps=0), ConfigError, "without init"),
        (dict(dtype="int8"), ConfigError, "dtype = 'int8'"),
    ],
)
def test_bad_settings_are_named(change, error, named):
    with pytest.raises(error, match=named):
        PoseFitConfig(**{"source": ("a",), "target": ("b",), **change})


def test_bad_data_and_envs_are_named_before_any_step(looks, tmp_path):
    a, b = looks
    fresh = dict(encoder_steps=5, renderer_steps=5, **TINY)

    def fails(error, named, **fields):
        config = PoseFitConfig(**{"source": (a,), "target": (b,), **fresh, **fields})
        with pytest.raises(error, match=named):
            fit_pose(config, tmp_path / "never", progress=False)
        assert not (tmp_path / "never").exists()

    fails(DataError, "does not exist", source=(str(tmp_path / "missing"),))
    no_state = str(tmp_path / "no-state")
    save_frames(no_state, np.zeros((4, SIZE, SIZE, 3), np.uint8), name="x")
    fails(DataError, "no physics states recorded", target=(no_state,))
    odd = str(tmp_path / "odd")
    save_frames(odd, np.zeros((4, 24, 24, 3), np.uint8), name="x", qpos=np.zeros((4, 9)),
                qvel=np.zeros((4, 9)))  # fmt: skip
    fails(DataError, r"frames of \(24, 24, 3\)", source=(odd,))
    fails(ConfigError, "nq = 2", target_env="InvertedPendulum-v5")


def test_a_folder_of_other_files_is_refused(looks, tmp_path):
    a, b = looks
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    config = PoseFitConfig(source=(a,), target=(b,), encoder_steps=5, renderer_steps=5, **TINY)
    with pytest.raises(ConfigError, match="holds files but no config.json"):
        fit_pose(config, tmp_path / "busy", progress=False)
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


def test_a_fit_on_gymnasium_walker2d_serves_its_pixel_env(tmp_path):
    """Not only the cheetahs: gymnasium's Walker2d drawn by its track camera, fitted end to end
    (one look on both sides: the shapes, not a translation, are what is checked here)."""
    kwargs = {"camera_name": "track", "width": SIZE, "height": SIZE}
    frames = str(tmp_path / "walker")
    collect("Walker2d-v5", 60, frames, pixels=SIZE, env_kwargs=kwargs, progress=False)
    config = PoseFitConfig(
        source=(frames,), target=(frames,), target_env="Walker2d-v5", source_env="Walker2d-v5",
        encoder_steps=10,
        renderer_steps=10, held_out_every=4, **{**TINY, "lock_steps": 10},
    )  # fmt: skip
    path = fit_pose(config, tmp_path / "run", progress=False)
    net, spec = load_generator(path)
    assert net.config.n_geoms == 7 and spec.extra["env_to"] == "Walker2d-v5"
    assert net.config.lock_geoms == 7 and net.lock is not None
    env = StyleTransfer(make_env("Walker2d-v5", pixels=SIZE, **kwargs), weights=path)
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(env.action_space.sample())
    assert obs.shape == (SIZE, SIZE, 3) and obs.dtype == np.uint8
    env.close()


def _still_renderer(env_id: str, qpos: np.ndarray) -> tuple[PoseNet, torch.Tensor]:
    """A renderer of ``env_id``'s camera and floor whose geometry head is a constant (the
    camera where the look's model puts it for ``qpos``): its floor is the analytic checker."""
    cam = look_camera(env_id, qpos, 64)
    ren = PoseNet(PoseConfig(n_geoms=cam.ends.shape[1])).renderer.eval()
    ren.set_camera(torch.from_numpy(cam.axes), cam.cam_y, cam.focal, cam.extent, cam.period)
    with torch.no_grad():
        ren.kp[-1].weight.zero_()
        ren.kp[-1].bias.zero_()
        ren.kp_mean.copy_(
            torch.cat(
                [
                    torch.tensor([cam.cam_x[0], cam.cam_z[0]]),
                    torch.from_numpy(cam.ends[0]).flatten(),
                ]
            )
        )
    return ren, torch.from_numpy(pose_vector(qpos))


def test_the_floor_lock_finds_the_x_its_floor_shows():
    """Within half a checker period of the guess the lock finds the root's x that drew the
    frame, also past the floor's edge while some of it shows; a guess off the floor stands."""
    qpos = np.zeros((1, 9))
    ren, pose = _still_renderer("StyleWrap/HalfCheetahRestyled-v5", qpos)
    period = float(ren.period)
    assert period == pytest.approx(80 / 150)
    true_x = torch.tensor([3.21, -7.5, 12.0])
    poses = pose.expand(3, -1)
    with torch.no_grad():
        frames = ren(poses, true_x)
    guess = true_x + torch.tensor([0.2, -0.15, 0.0])
    got = floor_lock(ren, poses, frames, guess)
    torch.testing.assert_close(got, true_x, atol=0.01, rtol=0)
    far = torch.tensor([55.0, 55.0, 55.0])
    torch.testing.assert_close(floor_lock(ren, poses, frames, far), far)
    # Past the floor's edge its far wedge still tells the x, until none of it shows.
    edge = float(ren.extent) + torch.tensor([0.5, 1.5])
    with torch.no_grad():
        beyond = ren(poses[:2], edge)
    got = floor_lock(ren, poses[:2], beyond, edge + torch.tensor([0.15, -0.2]))
    torch.testing.assert_close(got, edge, atol=0.01, rtol=0)
    # Past half a period the guess's own period wins: the floor alone cannot tell them apart.
    alias = floor_lock(ren, poses[:1], frames[:1], true_x[:1] + 0.9 * period)
    assert abs(float(alias[0]) - (3.21 + period)) < 0.01
