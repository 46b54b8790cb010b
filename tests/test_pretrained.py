"""The shipped files: they load, match their metadata, translate, and drive the demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from style_wrap.cli import main as cli
from style_wrap.demo import (
    CONDITIONS,
    FLIP_AWARE_POLICY,
    FLIP_AWARE_TRANSLATOR,
    ROUND10_POLICY,
    ROUND10_TRANSLATOR,
    SHIPPED_POLICY,
    SHIPPED_TRANSLATOR,
    shipped_policy,
)
from style_wrap.domains import body_mask, render_state
from style_wrap.domains.envs import rollout_states
from style_wrap.metrics import l1
from style_wrap.policy import frames_stacked, load_policy
from style_wrap.translator import Translator
from style_wrap.weights import list_pretrained, read_spec, resolve_weights

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"


def test_pretrained_folder_stays_small():
    total = sum(p.stat().st_size for p in PRETRAINED.rglob("*") if p.is_file())
    assert total < 20 * 2**20, f"pretrained/ holds {total / 2**20:.1f} MiB"


def test_shipped_translators_match_their_metadata():
    assert {SHIPPED_TRANSLATOR, FLIP_AWARE_TRANSLATOR} <= set(list_pretrained())
    for name, source, target in (
        (SHIPPED_TRANSLATOR, "restyled", "standard"),
        ("halfcheetah-standard-to-restyled-panel", "standard", "restyled"),
        (ROUND10_TRANSLATOR, "restyled", "standard"),
        ("halfcheetah-standard-to-restyled", "standard", "restyled"),
        (FLIP_AWARE_TRANSLATOR, "restyled", "standard"),
        ("halfcheetah-standard-to-restyled-flipaware", "standard", "restyled"),
    ):
        spec = read_spec(resolve_weights(name))
        assert (spec.domain_from, spec.domain_to) == (source, target)
        assert (spec.frame_height, spec.frame_width) == (64, 64)
        assert spec.architecture.ngf == 8 and spec.step > 0
        translator = Translator(name)
        out = translator(np.zeros((2, 64, 64, 3), np.uint8))
        assert out.shape == (2, 64, 64, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("name", [SHIPPED_POLICY, FLIP_AWARE_POLICY, ROUND10_POLICY])
def test_shipped_policies_load_with_sb3(name):
    from stable_baselines3 import PPO

    path = shipped_policy(name)
    model = PPO.load(path, device="cpu")
    assert frames_stacked(model) == 3
    assert model.observation_space.shape == (9, 64, 64)
    assert model.action_space.shape == (6,)
    assert type(load_policy(path)).__name__ == "PPO"


@pytest.mark.parametrize("name", [SHIPPED_TRANSLATOR, FLIP_AWARE_TRANSLATOR, ROUND10_TRANSLATOR])
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
