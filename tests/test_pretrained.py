"""The shipped files: they load, match their metadata, translate, and drive the demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from style_wrap.cli import main as cli
from style_wrap.envs import body_mask, render_state
from style_wrap.envs.states import rollout_states
from style_wrap.evaluation.demo import CONDITIONS
from style_wrap.evaluation.metrics import l1
from style_wrap.hub import (
    DEFAULT_POLICY,
    DEFAULT_TRANSLATOR,
    SHIPPED,
    resolve_policy,
    resolve_weights,
)
from style_wrap.posenet import PoseConfig
from style_wrap.rl.policies import frames_stacked, load_policy
from style_wrap.translator import Translator
from style_wrap.weights import read_spec

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "pretrained"
RESEARCH = ROOT / "research" / "pretrained"
#: The shipped translators, and the earlier ones kept in research/ so their results can be rerun.
TRANSLATORS = [
    DEFAULT_TRANSLATOR,
    "halfcheetah-restyled-to-standard-policyfree",
    str(RESEARCH / "halfcheetah-restyled-to-standard-round10.safetensors"),
    str(RESEARCH / "halfcheetah-restyled-to-standard-flipaware.safetensors"),
    str(RESEARCH / "halfcheetah-restyled-to-standard-policyfree-cyclegan.safetensors"),
]
POLICIES = [
    DEFAULT_POLICY,
    str(RESEARCH / "halfcheetah-pixel-policy-round10.safetensors"),
    str(RESEARCH / "halfcheetah-pixel-policy-flipaware.safetensors"),
]


def test_pretrained_folder_stays_small_and_holds_the_registry():
    total = sum(p.stat().st_size for p in PRETRAINED.rglob("*") if p.is_file())
    assert total < 5 * 2**20, f"pretrained/ holds {total / 2**20:.1f} MiB"
    shipped = {p.name for p in PRETRAINED.iterdir() if p.suffix in (".zip", ".safetensors")}
    assert shipped == {s.file for s in SHIPPED.values()}


def test_shipped_translators_match_their_metadata():
    reverse = [
        RESEARCH / f"halfcheetah-standard-to-restyled-{k}.safetensors"
        for k in ("panel", "round10", "flipaware")
    ]
    for name, source, target in [
        *((t, "restyled", "standard") for t in TRANSLATORS),
        *((str(r), "standard", "restyled") for r in reverse),
    ]:
        spec = read_spec(resolve_weights(name))
        assert (spec.domain_from, spec.domain_to) == (source, target)
        assert (spec.frame_height, spec.frame_width) == (64, 64)
        if name.endswith("-policyfree"):  # through the pose, no training step of its own
            assert isinstance(spec.architecture, PoseConfig) and spec.extra["policy_in_loss"]
        else:
            assert spec.architecture.ngf == 8 and spec.step > 0
            assert spec.architecture.temporal == name.endswith("-cyclegan.safetensors")
        translator = Translator(name)
        out = translator(np.zeros((2, 64, 64, 3), np.uint8))
        assert out.shape == (2, 64, 64, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("name", POLICIES)
def test_shipped_policies_rebuild_as_sb3_ppo(name):
    model = load_policy(resolve_policy(name))
    assert type(model).__name__ == "PPO" and frames_stacked(model) == 3
    assert model.observation_space.shape == (9, 64, 64)
    assert model.action_space.shape == (6,)
    assert model.policy.features_extractor is model.policy.pi_features_extractor  # still shared


@pytest.mark.parametrize("name", TRANSLATORS)
def test_shipped_translator_brings_restyled_frames_closer_to_the_standard_render(name):
    qpos = rollout_states(3, 10, seed=123, warmup=30, every=3).reshape(-1, 9)
    restyled = np.stack([render_state("restyled", q, width=64, height=64) for q in qpos])
    standard = np.stack([render_state("standard", q, width=64, height=64) for q in qpos])
    masks = np.stack([body_mask("standard", q, width=64, height=64) for q in qpos])
    translated = Translator(name)(restyled)
    assert l1(translated, standard) < 0.75 * l1(restyled, standard)
    assert l1(translated, standard, masks) < l1(restyled, standard, masks)


@pytest.mark.slow
def test_short_demo_on_the_shipped_files(tmp_path, capsys):
    out = tmp_path / "demo.json"
    args = ["demo", "--episodes", "1", "--max-steps", "30", "--video", str(tmp_path / "d.mp4")]
    assert cli([*args, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["returns"]) == set(CONDITIONS)
    assert {"ratio_raw", "ratio_translated"} <= set(result)
    assert (tmp_path / "d.mp4").stat().st_size > 0
    assert "(c)/(a)" in capsys.readouterr().out
