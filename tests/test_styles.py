from __future__ import annotations

import pytest

from style_wrap import StyleError
from style_wrap.envs.styles import DOMAINS, Style, get_style, resolve_style, sample_style


def test_standard_is_the_default_style():
    assert get_style("standard") == Style()
    assert not Style().changes_geometry


def test_restyled_differs_in_look_and_geometry():
    restyled = get_style("restyled")
    assert restyled.changes_geometry
    assert restyled.thickness > 1.0
    assert restyled.checker_repeat > Style().checker_repeat  # smaller squares
    assert restyled.body_rgb != Style().body_rgb


def test_sampler_is_seeded():
    assert sample_style(11) == sample_style(11)
    assert len({sample_style(s) for s in range(20)}) == 20
    assert get_style("randomized", 5) == sample_style(5)
    assert get_style("randomized") == sample_style(0)


def test_round_trip_through_dict():
    style = sample_style(2)
    assert Style.from_dict(style.to_dict()) == style


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"thickness": -1.0}, "'thickness' = -1.0"),
        ({"thickness": 0.0}, "'thickness' = 0.0"),
        ({"body_rgb": (1.2, 0.0, 0.0)}, "'body_rgb'"),
        ({"body_rgb": (0.5, 0.5)}, "'body_rgb'"),
        ({"checker_rgb1": "red"}, "'checker_rgb1'"),
        ({"light_diffuse": 2.0}, "'light_diffuse' = 2.0"),
        ({"head_length": "long"}, "'head_length' = 'long'"),
        ({"colour": (0, 0, 0)}, "unknown style field 'colour'"),
    ],
)
def test_bad_fields_name_the_value(changes, needle):
    with pytest.raises(StyleError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        Style().replace(**changes)
    with pytest.raises(StyleError):
        resolve_style(changes)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seed(seed):
    with pytest.raises(StyleError, match="style_seed"):
        sample_style(seed)


def test_unknown_domain_and_misplaced_seed():
    with pytest.raises(
        StyleError, match="unknown domain 'cartoon'.*standard, restyled, randomized"
    ):
        get_style("cartoon")
    with pytest.raises(StyleError, match="style_seed = 3"):
        get_style("restyled", 3)
    with pytest.raises(StyleError, match="expected a domain name"):
        resolve_style(42)  # type: ignore[arg-type]
    assert DOMAINS == ("standard", "restyled", "randomized")
