"""Bad input, as a careless or hostile user gives it: every case gets the package's own error,
naming the bad value or file, before any long work starts; no file that was not chosen as
trusted runs code; nothing shipped is unpickled.

Each group is one parametrized test; the payload files write a marker file if they ever run.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import make_domains
from safetensors.torch import save as save_tensors

from style_wrap.cli import main as cli
from style_wrap.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    ObservationError,
    StyleWrapError,
    WeightsError,
)
from style_wrap.nets import GeneratorConfig
from style_wrap.rl.policies import PolicyError, load_policy
from style_wrap.train.config import load_toml
from style_wrap.train.data import load_frames, save_frames
from style_wrap.weights import GeneratorSpec, load_generator, save_generator

ROOT = Path(__file__).resolve().parents[1]
ARCH = GeneratorConfig(ngf=4, n_blocks=1)
SPEC = GeneratorSpec(ARCH, 16, 16, "restyled", "standard")


class _Payload:
    """Unpickling this creates ``marker``: proof that a file ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _payload(marker: Path) -> bytes:
    return pickle.dumps(_Payload(marker))


def _sb3_zip_with_payload(path: Path, marker: Path) -> Path:
    """An SB3-looking zip whose ``data`` entry carries a cloudpickled payload, as SB3 stores
    classes and spaces."""
    entry = {":type:": "<class 'abc.ABCMeta'>", ":serialized:": base64.b64encode(_payload(marker))}
    entry[":serialized:"] = entry[":serialized:"].decode()
    data = {"policy_class": entry, "observation_space": entry, "action_space": entry}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data", json.dumps(data))
        z.writestr("_stable_baselines3_version", "2.9.2")
    return path


def _expect(error: type[Exception], call, *names: str) -> None:
    """``call()`` raises ``error`` (a package error) whose message names each of ``names``."""
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, StyleWrapError), type(info.value)
    for name in names:
        assert name in str(info.value), (name, str(info.value))


# --- untrusted files ----------------------------------------------------------------------


def test_a_planted_file_of_a_shipped_name_is_not_loaded(tmp_path, monkeypatch, capsys):
    from style_wrap.hub import resolve_policy, resolve_weights

    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"
    _sb3_zip_with_payload(tmp_path / "halfcheetah-pixel-policy.zip", marker)
    (tmp_path / "halfcheetah-restyled-to-standard").write_bytes(b"planted")
    with pytest.warns(UserWarning, match=r"\./halfcheetah-pixel-policy.zip"):
        path = resolve_policy("halfcheetah-pixel-policy.zip")
    assert path.parent.name == "pretrained" and path.suffix == ".safetensors"
    with pytest.warns(UserWarning, match="shipped translator"):
        assert resolve_weights("halfcheetah-restyled-to-standard").parent.name == "pretrained"
    argv = ["collect", "--env", "StyleWrap/HalfCheetah-v5", "--frames", "2", "--out", "d"]
    argv += ["--policy", "halfcheetah-pixel-policy.zip", "--env-kwarg", "width=64"]
    with pytest.warns(UserWarning):
        assert cli([*argv, "--env-kwarg", "height=64"]) == 0
    assert not marker.exists()
    # a path is a path: the user names the local file, and SB3's loader is what runs it
    _expect(PolicyError, lambda: load_policy(tmp_path / "nothing.zip"), "nothing.zip")


def test_an_expert_folder_with_only_pickles_is_refused_unopened(tmp_path):
    from style_wrap.rl.expert import StateExpert

    marker = tmp_path / "ran"
    expert = tmp_path / "expert"
    expert.mkdir()
    _sb3_zip_with_payload(expert / "expert.zip", marker)
    (expert / "vecnormalize.pkl").write_bytes(_payload(marker))
    _expect(PolicyError, lambda: StateExpert(expert), "vecnormalize", "--convert")
    assert cli(["collect", "--env", "HalfCheetah-v5", "--frames", "1", "--out",
                str(tmp_path / "d"), "--policy", str(expert)]) == 2  # fmt: skip
    assert not marker.exists()


def test_shipped_and_research_files_load_without_unpickling(monkeypatch):
    import cloudpickle

    from style_wrap.hub import DEFAULT_POLICY, list_pretrained, resolve_policy
    from style_wrap.rl.expert import StateExpert
    from style_wrap.translator import Translator

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    for module, name in ((pickle, "load"), (pickle, "loads"), (cloudpickle, "loads")):
        monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    model = load_policy(resolve_policy(DEFAULT_POLICY))
    action, _ = model.predict(np.zeros((9, 64, 64), np.uint8), deterministic=True)
    assert action.shape == (6,)
    for name in list_pretrained():
        assert Translator(name)(np.zeros((64, 64, 3), np.uint8)).shape == (64, 64, 3)
    expert = StateExpert(ROOT / "research" / "zoo" / "expert3")
    assert expert.act(np.zeros(9), np.zeros(9)).shape == (6,)
    for file in (ROOT / "research" / "pretrained").glob("*pixel-policy*"):
        assert file.suffix == ".safetensors", file
        load_policy(file)


def _policy_file(tmp_path: Path, **meta_changes) -> Path:
    from style_wrap.hub import DEFAULT_POLICY, resolve_policy

    blob = resolve_policy(DEFAULT_POLICY).read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + n])
    header["__metadata__"].update(meta_changes)
    text = json.dumps(header).encode()
    path = tmp_path / "p.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + blob[8 + n :])
    return path


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"format": "pickle"}, "'pickle'"),
        ({"format_version": "9"}, "'9'"),
        ({"algorithm": "os.system"}, "'os.system'"),
        ({"algorithm": "SAC"}, "'SAC'"),
        ({"policy": "__import__"}, "'__import__'"),
        ({"policy_kwargs": json.dumps({"features_extractor_class": "os.system"})}, "policy_kwargs"),
        ({"policy_kwargs": json.dumps({"activation_fn": "system"})}, "'system'"),
        ({"policy_kwargs": "{not json"}, "not JSON"),
        ({"observation_space": json.dumps({"shape": [9, 64, 64]})}, "observation_space"),
        (
            {
                "observation_space": json.dumps(
                    {"shape": [9, 48, 48], "dtype": "uint8", "low": 0, "high": 255}
                )
            },
            "do not match",
        ),  # fmt: skip
        (
            {
                "action_space": json.dumps(
                    {"shape": [10**9], "dtype": "float32", "low": -1, "high": 1}
                )
            },
            "action_space",
        ),  # fmt: skip
    ],
)
def test_crafted_policy_headers(tmp_path, changes, named):
    _expect(PolicyError, lambda: load_policy(_policy_file(tmp_path, **changes)), named)


# --- weights files ------------------------------------------------------------------------


def _weights(tmp_path: Path, name: str = "w.safetensors", **meta) -> Path:
    path = tmp_path / name
    save_generator(path, ARCH.build(), SPEC)
    if meta:
        tensors = load_generator(path)[0].state_dict()
        save = {**SPEC.to_metadata(), **meta}
        path.write_bytes(save_tensors({k: v.contiguous() for k, v in tensors.items()}, save))
    return path


def _with_tensors(tmp_path: Path, change) -> Path:
    state = {k: v.clone() for k, v in ARCH.build().state_dict().items()}
    change(state)
    path = tmp_path / "t.safetensors"
    path.write_bytes(save_tensors(state, SPEC.to_metadata()))
    return path


def _arch(**changes) -> str:
    return json.dumps({**ARCH.__dict__, **changes})


WEIGHT_CASES = {
    "zero bytes": (lambda t: _raw(t, b""), "0 bytes"),
    "truncated": (lambda t: _raw(t, _weights(t).read_bytes()[:100]), "w.safetensors"),
    "random": (lambda t: _raw(t, os.urandom(4096)), "safetensors"),
    "header length too long": (lambda t: _raw(t, struct.pack("<Q", 10**12) + b"{}"), "10000"),
    "header not JSON": (lambda t: _raw(t, struct.pack("<Q", 4) + b"{{{{"), "not JSON"),
    "header a list": (lambda t: _raw(t, struct.pack("<Q", 2) + b"[]"), "not a map"),
    "format": (lambda t: _weights(t, format="other"), "'other'"),
    "version": (lambda t: _weights(t, format_version="7"), "'7'"),
    "channel order": (lambda t: _weights(t, channel_order="BGR"), "'BGR'"),
    "architecture not JSON": (lambda t: _weights(t, architecture="{"), "architecture"),
    "unknown architecture key": (lambda t: _weights(t, architecture=_arch(depth=3)), "depth"),
    "ngf 1024 with small tensors": (lambda t: _weights(t, architecture=_arch(ngf=1024)), "1024"),
    "a million blocks": (lambda t: _weights(t, architecture=_arch(n_blocks=10**6)), "1000000"),
    "negative blocks": (lambda t: _weights(t, architecture=_arch(n_blocks=-1)), "-1"),
    "bool ngf": (lambda t: _weights(t, architecture=_arch(ngf=True)), "True"),
    "frame size not a multiple of 4": (lambda t: _weights(t, frame_height="30"), "30x16"),
    "frame size zero": (lambda t: _weights(t, frame_width="0"), "16x0"),
    "frame size text": (lambda t: _weights(t, frame_height="big"), "big"),
    "one output channel": (lambda t: _weights(t, architecture=_arch(out_channels=1)), "1 out"),
    "four output channels": (lambda t: _weights(t, architecture=_arch(out_channels=4)), "4 out"),
    "one input channel": (lambda t: _weights(t, architecture=_arch(in_channels=1)), "1 channels"),
    "upsample unknown": (lambda t: _weights(t, architecture=_arch(upsample="magic")), "magic"),
    "step text": (lambda t: _weights(t, step="soon"), "soon"),
    "int tensor": (
        lambda t: _with_tensors(
            t, lambda s: s.update({"model.1.weight": s["model.1.weight"].int()})
        ),
        "I32",
    ),
    "bool tensor": (
        lambda t: _with_tensors(t, lambda s: s.update({"model.1.weight": s["model.1.weight"] > 0})),
        "BOOL",
    ),
    "NaN tensor": (
        lambda t: _with_tensors(t, lambda s: s["model.1.weight"].fill_(float("nan"))),
        "NaN",
    ),
    "inf tensor": (
        lambda t: _with_tensors(t, lambda s: s["model.1.weight"].fill_(float("inf"))),
        "infinite",
    ),
    "missing tensor": (lambda t: _with_tensors(t, lambda s: s.pop("model.1.weight")), "tensors"),
    "extra tensor": (lambda t: _with_tensors(t, lambda s: s.update(x=torch.ones(1))), "tensors"),
    "wrong shape": (
        lambda t: _with_tensors(t, lambda s: s.update({"model.1.weight": torch.ones(5)})),
        "(5,)",
    ),
}


def _raw(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "w.safetensors"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_bad_weights_files(tmp_path, case):
    make, named = WEIGHT_CASES[case]
    path = make(tmp_path)
    _expect(WeightsError, lambda: load_generator(path), named)


def test_weights_at_a_path_that_is_not_utf8_load(tmp_path):
    folder = os.fsencode(tmp_path) + b"/caf\xe9"
    os.mkdir(folder)
    path = Path(os.fsdecode(folder)) / "w.safetensors"
    save_generator(path, ARCH.build(), SPEC)
    net, spec = load_generator(path)
    assert spec.frame_height == 16 and net.config == ARCH


def test_export_refuses_non_finite_weights(tmp_path):
    net = ARCH.build()
    with torch.no_grad():
        next(net.parameters()).fill_(float("nan"))
    _expect(WeightsError, lambda: save_generator(tmp_path / "n.safetensors", net, SPEC), "NaN")
    assert not (tmp_path / "n.safetensors").exists()


# --- settings -----------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
TRAIN_CASES = [
    ("lr", INF),
    ("lr", NAN),
    ("lr", -INF),
    ("lr", -1e-3),
    ("lambda_cycle", NAN),
    ("lambda_identity", INF),
    ("lambda_gp", NAN),
    ("lambda_pose", INF),
    ("beta1", NAN),
    ("beta2", 1.5),
    ("ema", NAN),
    ("ema", 1.0),
    ("decay_start", NAN),
    ("floor_extent", INF),
    ("iters", 0),
    ("iters", True),
    ("batch_size", 0),
    ("ngf", 0),
    ("ndf", -2),
    ("n_blocks", -1),
    ("d_layers", -1),
    ("threads", -1),
    ("checkpoint_every", 0),
    ("lr", "0.1"),
    ("cycle", "sideways"),
]


@pytest.mark.parametrize("name, value", TRAIN_CASES)
def test_bad_training_settings(name, value):
    from style_wrap.train.config import TrainConfig

    _expect(ConfigError, lambda: TrainConfig(domain_a="a", domain_b="b", **{name: value}), name)


DAGGER_CASES = [
    ("lr", NAN),
    ("final_lr", INF),
    ("jitter", NAN),
    ("blur", INF),
    ("beta_decay", 2.0),
    ("beta_decay", 0.0),
    ("beta_decay", NAN),
    ("rounds", -1),
    ("batch_size", 0),
    ("n_stack", 0),
    ("eval_episodes", 0),
    ("shift", -1),
    ("steps_per_round", 1.5),
]


@pytest.mark.parametrize("name, value", DAGGER_CASES)
def test_bad_distillation_settings(name, value):
    from style_wrap.rl.dagger import DaggerConfig

    _expect(PolicyError, lambda: DaggerConfig(**{name: value}), name)


@pytest.mark.parametrize(
    "name, value",
    [
        ("sequences", 0),
        ("sequence_length", 1),
        ("probe_states", 0),
        ("probe_steps", 0),
        ("size", 0),
        ("seed", -1),
        ("source", 3),
    ],  # fmt: skip
)
def test_bad_eval_settings(name, value):
    from style_wrap.evaluation.paired import EvalConfig

    _expect(ConfigError, lambda: EvalConfig(**{name: value}), name)


@pytest.mark.parametrize("line", ["lr = inf", "lr = nan", "lambda_cycle = -inf", "iters = 1.5"])
def test_non_finite_settings_files_make_no_run(tmp_path, capsys, line):
    a, b = make_domains(tmp_path, n=8)
    (tmp_path / "bad.toml").write_text(f'domain_a = "{a}"\ndomain_b = "{b}"\n{line}\n')
    argv = ["train", "--config", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "runs")]
    assert cli(argv) == 2
    assert line.split()[0] in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


# --- command-line numbers -----------------------------------------------------------------

CLI_CASES = [
    ("demo --episodes 0", "0"),
    ("demo --episodes -1", "-1"),
    ("demo --episodes many", "'many'"),
    ("demo --max-steps 0", "0"),
    ("demo --seed -3", "-3"),
    ("demo --jobs 0", "0"),
    ("demo --threads -1", "-1"),
    ("demo --device cuda:7", "cuda"),
    ("demo --device tpu", "tpu"),
    ("choose x.safetensors --episodes 0", "0"),
    ("zoo halfcheetah-pixel-policy --episodes 0", "0"),
    ("zoo halfcheetah-pixel-policy --jobs -2", "-2"),
    ("translate halfcheetah-restyled-to-standard a.png b.png --batch-size 0", "0"),
    ("bench --batches a", "'a'"),
    ("bench --batches 0", "0"),
    ("bench --batches 1,-1", "-1"),
    ("bench --batches ,", "','"),
    ("bench --steps 0", "0"),
    ("bench --ngf 0", "0"),
    ("bench --size 2", "2"),
    ("domains --poses 0", "0"),
    ("domains --size 0", "0"),
    ("eval --sequences 0", "sequences"),
    ("eval --sequence-length 0", "sequence_length"),
    ("eval --probe-states 0", "probe_states"),
    ("eval --episodes 0", "0"),
    ("eval --seed -1", "seed"),
    ("expert --out e --steps -1", "-1"),
    ("expert --out e --episodes -1", "-1"),
    ("distill --expert e --out d --beta-decay 2", "beta_decay"),
    ("distill --expert e --out d --lr nan", "lr"),
    ("distill --expert e --out d --rounds -1", "rounds"),
    ("collect --env HalfCheetah-v5 --out d --frames 0", "0"),
    ("collect --env HalfCheetah-v5 --out d --frames 5 --every 0", "0"),
    ("collect --env HalfCheetah-v5 --out d --frames 5 --shard-size 0", "0"),
    ("collect --env HalfCheetah-v5 --out d --frames 5 --seed -1", "-1"),
    ("train --domain-a a --domain-b b --lr nan", "lr"),
    ("train --domain-a a --domain-b b --iters 0", "iters"),
    ("train --domain-a a --domain-b b --lambda-cycle inf", "lambda_cycle"),
    ("train --domain-a a --domain-b b --threads -1", "threads"),
]


@pytest.mark.parametrize("argv, named", CLI_CASES)
def test_bad_numbers_on_the_command_line(tmp_path, monkeypatch, capsys, argv, named):
    monkeypatch.chdir(tmp_path)
    try:
        code = cli(argv.split())
    except SystemExit as exit:  # argparse's own refusal of a flag's value
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err, err
    assert not any(tmp_path.iterdir()), "work started before the check"


# --- dataset folders ----------------------------------------------------------------------


def _dataset(tmp_path: Path, state: bool = True) -> Path:
    folder = tmp_path / "data"
    q = np.zeros((4, 9)) if state else None
    save_frames(folder, np.zeros((4, 8, 8, 3), np.uint8), name="d", qpos=q, qvel=q)
    return folder


def _edit_manifest(change, whole: bool = False):
    """A dataset whose manifest ``change`` edits in place (or, with ``whole``, replaces)."""

    def make(tmp_path: Path) -> Path:
        folder = _dataset(tmp_path)
        manifest = json.loads((folder / "manifest.json").read_text())
        result = change(manifest)
        (folder / "manifest.json").write_text(json.dumps(result if whole else manifest))
        return folder

    return make


def _drop(key: str, shard: bool = False):
    return _edit_manifest(lambda m: (m["shards"][0] if shard else m).pop(key))


def _edit_shard(change):
    def make(tmp_path: Path) -> Path:
        folder = _dataset(tmp_path)
        with np.load(folder / "shard-00000.npz") as z:
            arrays = {k: z[k] for k in z.files}
        change(arrays, folder / "shard-00000.npz")
        return folder

    return make


def _save(path: Path, arrays: dict) -> None:
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _corrupt_deflate(arrays, path):
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    blob = bytearray(path.read_bytes())
    start = blob.index(b"frames.npy") + 40
    blob[start : start + 40] = os.urandom(40)
    path.write_bytes(bytes(blob))


def _replace(key, value):
    return lambda arrays, path: _save(path, {**arrays, key: value})


def _set(key, value):
    return _edit_manifest(lambda m: m.__setitem__(key, value))


def _set_shard(key, value):
    return _edit_manifest(lambda m: m["shards"][0].__setitem__(key, value))


MANIFEST_CASES = {
    "a list": (_edit_manifest(lambda m: [m], whole=True), "list"),
    "a string": (_edit_manifest(lambda m: "frames", whole=True), "str"),
    "null": (_edit_manifest(lambda m: None, whole=True), "NoneType"),
    "format": (_set("format", "other"), "'other'"),
    "no shards": (_drop("shards"), "shards"),
    "shards a dict": (_set("shards", {"a": 1}), "shards"),
    "shard a string": (_set("shards", ["shard-00000.npz"]), "shards[0]"),
    "shard without file": (_drop("file", shard=True), "file"),
    "shard file absolute": (_set_shard("file", "/abs/x.npz"), "/abs/x.npz"),
    "shard file outside": (_set_shard("file", "../x.npz"), "../x.npz"),
    "shard file a number": (_set_shard("file", 3), "3"),
    "frames a string": (_set_shard("frames", "16"), "'16'"),
    "frames zero": (_set_shard("frames", 0), "0"),
    "frames a bool": (_set_shard("frames", True), "True"),
    "frames missing": (_drop("frames", shard=True), "frames"),
    "frames count wrong": (_set_shard("frames", 5), "manifest says 5"),
    "no frame_shape": (_drop("frame_shape"), "frame_shape"),
    "frame_shape 2-d": (_set("frame_shape", [8, 8]), "[8, 8]"),
    "frame_shape text": (_set("frame_shape", ["a", 8, 3]), "'a'"),
    "frame_shape grey": (_set("frame_shape", [8, 8, 1]), "[8, 8, 1]"),
    "has_state 'no'": (_set("has_state", "no"), "'no'"),
    "has_state missing": (_drop("has_state"), "has_state"),
    "not UTF-8": (lambda t: _bytes(t, b"\xff\xfe{"), "manifest"),
    "not JSON": (lambda t: _bytes(t, b"{nope"), "manifest"),
    "qpos rows differ": (_edit_shard(_replace("qpos", np.zeros((3, 9)))), "qpos"),
    "qpos missing": (_edit_shard(lambda a, p: _save(p, {"frames": a["frames"]})), "qpos"),
    "qpos NaN": (_edit_shard(_replace("qpos", np.full((4, 9), np.nan))), "NaN"),
    "qvel infinite": (_edit_shard(_replace("qvel", np.full((4, 9), np.inf))), "infinite"),
    "qpos text": (_edit_shard(_replace("qpos", np.array([["a"] * 9] * 4))), "qpos"),
    "frames float": (_edit_shard(_replace("frames", np.zeros((4, 8, 8, 3)))), "uint8"),
    "frames other size": (
        _edit_shard(_replace("frames", np.zeros((4, 9, 8, 3), np.uint8))),
        "(8, 8, 3)",
    ),  # noqa: E501
    "frames missing in shard": (
        _edit_shard(lambda a, p: _save(p, {"qpos": a["qpos"]})),
        "frames None",
    ),  # noqa: E501
    "deflate stream corrupt": (_edit_shard(_corrupt_deflate), "shard-00000.npz"),
    "a plain .npy as shard": (
        _edit_shard(lambda a, p: np.save(open(p, "wb"), a["frames"])),
        "single array",
    ),  # noqa: E501
    "random bytes as shard": (
        _edit_shard(lambda a, p: p.write_bytes(os.urandom(300))),
        "shard-00000",
    ),  # noqa: E501
    "pickled object array": (
        _edit_shard(_replace("frames", np.array([object()] * 4))),
        "shard-00000",
    ),  # noqa: E501
    "shard file gone": (_edit_shard(lambda a, p: p.unlink()), "shard-00000.npz"),
}


def _bytes(tmp_path: Path, data: bytes) -> Path:
    folder = _dataset(tmp_path)
    (folder / "manifest.json").write_bytes(data)
    return folder


@pytest.mark.parametrize("case", sorted(MANIFEST_CASES))
def test_bad_dataset_folders(tmp_path, case):
    make, named = MANIFEST_CASES[case]
    folder = make(tmp_path)
    _expect(DataError, lambda: load_frames(folder), named)


# --- checkpoints --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A finished tiny run (4 iterations, a checkpoint every one)."""
    from style_wrap.train.config import TrainConfig
    from style_wrap.train.loop import train

    root = tmp_path_factory.mktemp("run")
    a, b = make_domains(root, n=8)
    config = TrainConfig(
        domain_a=a, domain_b=b, out=str(root / "runs"), name="tiny", iters=4, ngf=4,
        n_blocks=1, ndf=8, batch_size=2, checkpoint_every=1, progress=False, threads=1,
    )  # fmt: skip
    return train(config)


def _copy_run(tiny_run: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(tiny_run, tmp_path / "runs" / "tiny"))


def _damage(kind: str, path: Path, marker: Path) -> None:
    good = path.read_bytes()
    if kind == "zero bytes":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "random":
        path.write_bytes(os.urandom(len(good)))
    elif kind == "a pickle payload":
        with open(path, "wb") as f:
            pickle.dump({"model": _Payload(marker)}, f)
    elif kind == "torch payload":
        torch.save({"model": _Payload(marker)}, path)
    elif kind == "missing keys":
        torch.save({"model": {}}, path)
    elif kind == "a list":
        torch.save([1, 2], path)
    elif kind == "wrong architecture":
        state = torch.load(path, weights_only=True)
        state["model"]["g_ab"] = GeneratorConfig(ngf=8, n_blocks=1).build().state_dict()
        torch.save(state, path)


DAMAGE = ["zero bytes", "truncated", "random", "a pickle payload", "torch payload",
          "missing keys", "a list", "wrong architecture"]  # fmt: skip


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_checkpoints_in_export(tiny_run, tmp_path, kind):
    from style_wrap.train.export import CHECKPOINT, export_run

    run = _copy_run(tiny_run, tmp_path)
    marker = tmp_path / "ran"
    _damage(kind, run / CHECKPOINT, marker)
    _expect(CheckpointError, lambda: export_run(run), "latest.pt")
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["truncated", "random", "torch payload", "wrong architecture"])
def test_a_damaged_checkpoint_on_resume_names_the_intact_one(tiny_run, tmp_path, kind):
    from style_wrap.train.config import TrainConfig
    from style_wrap.train.export import CHECKPOINT
    from style_wrap.train.loop import train

    run = _copy_run(tiny_run, tmp_path)
    marker = tmp_path / "ran"
    _damage(kind, run / CHECKPOINT, marker)
    config = TrainConfig(
        **{**load_toml(run / "config.toml"), "resume": True,
           "out": str(run.parent), "iters": 6},
    )  # fmt: skip
    given = {"resume", "iters", "out"}
    _expect(CheckpointError, lambda: train(config, given), "latest.pt", "previous.pt (step 3)")
    assert not marker.exists()


def test_resume_takes_the_newest_run_with_a_checkpoint(tiny_run, tmp_path, capsys):
    import time

    run = _copy_run(tiny_run, tmp_path)
    (run / "checkpoints" / ".latest.pt.abc123.pt").write_bytes(b"half a write")
    time.sleep(0.01)
    argv = ["train", "--domain-a", "x", "--domain-b", "y", "--out", str(run.parent)]
    assert cli([*argv, "--name", "failed", "--d-layers", "50", "--ngf", "4"]) == 2
    assert "d_layers" in capsys.readouterr().err or not (run.parent / "failed").exists()
    assert not (run.parent / "failed").exists()  # a start that fails makes no folder
    (run.parent / "stale").mkdir()
    (run.parent / "stale" / "config.toml").write_text((run / "config.toml").read_text())
    assert cli(["train", "--resume", "--out", str(run.parent), "--iters", "5"]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "stale" not in out
    assert not list((run / "checkpoints").glob(".*.pt"))  # the killed write's temp file is gone
    assert load_generator(run / "generator_a2b.safetensors")[1].step == 5


def test_a_non_finite_loss_stops_the_run_and_keeps_its_checkpoint(tiny_run, tmp_path):
    from style_wrap.errors import TrainingError
    from style_wrap.train.config import TrainConfig
    from style_wrap.train.export import CHECKPOINT
    from style_wrap.train.loop import train

    run = _copy_run(tiny_run, tmp_path)
    state = torch.load(run / CHECKPOINT, weights_only=True)
    for value in state["model"]["g_ab"].values():
        if value.is_floating_point():
            value.mul_(1e30)  # weights that overflow to inf within a step
    torch.save(state, run / CHECKPOINT)
    before = (run / CHECKPOINT).read_bytes()
    config = TrainConfig(
        **{**load_toml(run / "config.toml"), "resume": True,
           "out": str(run.parent), "iters": 8},
    )  # fmt: skip
    _expect(TrainingError, lambda: train(config, {"resume", "iters", "out"}), "step 5", "loss")
    assert (run / CHECKPOINT).read_bytes() == before


# --- media, envs, policies and outputs ----------------------------------------------------


def _media(tmp_path: Path, name: str, data: bytes | np.ndarray) -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif name.endswith(".npy"):
        np.save(path, data)
    else:
        import imageio.v3 as iio

        iio.imwrite(path, data)
    return path


MEDIA_CASES = {
    "undecodable png": ("in.png", b"\x89PNG not really", "out.png", "in.png"),
    "grayscale png": ("in.png", np.zeros((64, 64), np.uint8), "out.png", "(64, 64)"),
    "undecodable mp4": ("in.mp4", b"\x00\x00\x00 ftypmp42 broken", "out.mp4", "in.mp4"),
    "undecodable npy": ("in.npy", b"\x93NUMPY broken", "out.npy", "in.npy"),
    "npy of floats": ("in.npy", np.zeros((2, 64, 64, 3)), "out.npy", "float64"),
    "npy 2-d": ("in.npy", np.zeros((64, 64), np.uint8), "out.npy", "(64, 64)"),
    "npy of objects": ("in.npy", np.array([None, 1], object), "out.npy", "in.npy"),
    "npy of 5 channels": ("in.npy", np.zeros((64, 64, 5), np.uint8), "out.npy", "(64, 64, 5)"),
    "unknown suffix": ("in.gif", b"GIF89a", "out.gif", ".gif"),
    "kinds differ": ("in.png", np.zeros((64, 64, 3), np.uint8), "out.npy", "out.npy"),
    "output a folder": ("in.png", np.zeros((64, 64, 3), np.uint8), "folder.png", "folder"),
    "input missing": (None, None, "out.png", "in.png"),
}


@pytest.mark.parametrize("case", sorted(MEDIA_CASES))
def test_bad_media_files(tmp_path, case):
    from style_wrap.evaluation.media import translate_file
    from style_wrap.translator import Translator

    name, data, out, named = MEDIA_CASES[case]
    source = tmp_path / "in.png" if name is None else _media(tmp_path, name, data)
    if out == "folder.png":
        (tmp_path / out).mkdir()
    translator = Translator("halfcheetah-restyled-to-standard")
    _expect(ObservationError, lambda: translate_file(translator, source, tmp_path / out), named)


ENV_CASES = [
    (["collect", "--env", "NoSuchEnv-v0", "--frames", "2", "--out", "d"], "NoSuchEnv-v0"),
    (
        [
            "collect",
            "--env",
            "StyleWrap/HalfCheetah-v5",
            "--frames",
            "2",
            "--out",
            "d",
            "--env-kwarg",
            "colour=red",
        ],
        "colour",
    ),  # fmt: skip
    (
        [
            "collect",
            "--env",
            "HalfCheetah-v5",
            "--frames",
            "2",
            "--out",
            "d",
            "--env-kwarg",
            "width=[64",
        ],
        "[64",
    ),  # fmt: skip
    (
        ["collect", "--env", "HalfCheetah-v5", "--frames", "2", "--out", "d", "--env-kwarg", "=3"],
        "=3",
    ),  # fmt: skip
    (
        ["collect", "--env", "StyleWrap/HalfCheetah-v5", "--frames", "2", "--out", "file.txt"],
        "file.txt",
    ),  # fmt: skip
    (
        [
            "collect",
            "--env",
            "StyleWrap/HalfCheetah-v5",
            "--frames",
            "2",
            "--out",
            "d",
            "--env-kwarg",
            "width=32",
            "--env-kwarg",
            "height=32",
            "--policy",
            "halfcheetah-pixel-policy",
        ],
        "64x64",
    ),  # fmt: skip
    (["bench", "--env", "NoSuchEnv-v0", "--batches", "1"], "NoSuchEnv-v0"),
    (["demo", "--video", "afolder", "--episodes", "1"], "afolder"),
    (["demo", "--json", "file.txt/x.json", "--episodes", "1"], "file.txt"),
    (["demo", "--policy", "missing.safetensors", "--episodes", "1"], "missing.safetensors"),
    (["zoo", "halfcheetah-pixel-policy", "halfcheetah-pixel-policy"], "twice"),
    (["eval", "--weights", "missing.safetensors"], "missing.safetensors"),
    (["info", "missing.safetensors"], "missing.safetensors"),
]


@pytest.mark.parametrize("argv, named", ENV_CASES)
def test_bad_envs_policies_and_outputs(tmp_path, monkeypatch, capsys, argv, named):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afolder").mkdir()
    (tmp_path / "file.txt").write_text("a file")
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err, err
    assert not (tmp_path / "d").exists() or not list((tmp_path / "d").glob("shard-*"))


def test_env_kwargs_parse_as_literals_and_are_recorded(tmp_path, capsys):
    from style_wrap.commands import parse_kwargs

    assert parse_kwargs(["a=False", "b=None", "c=0.5", "d='x y'", "e=rgb_array"]) == {
        "a": False, "b": None, "c": 0.5, "d": "x y", "e": "rgb_array"
    }  # fmt: skip
    argv = ["collect", "--env", "StyleWrap/HalfCheetah-v5", "--frames", "2"]
    argv += ["--out", str(tmp_path / "d"), "--env-kwarg", "width=16", "--env-kwarg", "height=16"]
    assert cli(argv) == 0
    assert "{'width': 16, 'height': 16}" in capsys.readouterr().out
    assert load_frames(tmp_path / "d").manifest["env_kwargs"] == {"width": 16, "height": 16}


# --- collection that is killed ------------------------------------------------------------


def test_a_killed_collection_completes_with_total(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "d"
    argv = [sys.executable, "-m", "style_wrap.cli", "collect", "--env", "StyleWrap/HalfCheetah-v5",
            "--frames", "300", "--total", "--out", str(out), "--shard-size", "20", "--every", "2",
            "--env-kwarg", "width=16", "--env-kwarg", "height=16"]  # fmt: skip
    proc = subprocess.Popen(argv, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("shard-*.npz"))) < 3:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(load_frames(out)) if (out / "manifest.json").exists() else 0
    assert partial < 300
    (out / "shard-00099.npz").write_bytes(b"an orphan shard")  # a kill between shard and list
    (out / ".shard-00098.npz.xyz.npz").write_bytes(b"a killed write")
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = load_frames(out)
    assert len(data) == 300
    assert not (out / "shard-00099.npz").exists() and not list(out.glob(".shard-*"))
    assert (data.steps[1:][data.steps[1:] > 0] % 2 == 0).all()  # steps kept with --every 2
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert len(load_frames(out)) == 300  # complete: a rerun adds nothing
