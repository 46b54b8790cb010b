from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from style_wrap import WeightsError
from style_wrap.hub import list_pretrained, resolve_weights
from style_wrap.nets import GeneratorConfig, PatchDiscriminator, ResnetGenerator
from style_wrap.weights import GeneratorSpec, load_generator, read_spec, save_generator

SPEC = GeneratorSpec(
    GeneratorConfig(ngf=4, n_blocks=1, upsample="resize"), 16, 24, "x", "y", 7, {"run": "t"}
)


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
@pytest.mark.parametrize(("h", "w"), [(16, 16), (64, 64), (84, 84), (32, 48)])
def test_generator_shapes(upsample, h, w):
    g = ResnetGenerator(ngf=4, n_blocks=1, upsample=upsample)
    y = g(torch.rand(2, 3, h, w) * 2 - 1)
    assert y.shape == (2, 3, h, w) and y.abs().max() <= 1


@pytest.mark.parametrize(("size", "layers"), [(64, 2), (84, 2), (128, 3)])
def test_discriminator_depth_follows_frame_size(size, layers):
    d = PatchDiscriminator.for_frame_size(size, ndf=4)
    assert d.n_layers == layers
    assert d(torch.zeros(1, 3, size, size)).shape[-1] > 1  # a map of patches, not one score


def test_round_trip(tmp_path):
    g = SPEC.architecture.build()
    save_generator(tmp_path / "g.safetensors", g, SPEC)
    loaded, spec = load_generator(tmp_path / "g.safetensors")
    assert spec == SPEC
    x = torch.rand(1, 3, 16, 24)
    with torch.no_grad():
        assert torch.equal(loaded(x), g.eval()(x))
    assert read_spec(tmp_path / "g.safetensors").extra == {"run": "t"}


def test_half_precision_file_is_smaller(tmp_path):
    g = SPEC.architecture.build()
    save_generator(tmp_path / "f32.safetensors", g, SPEC)
    save_generator(tmp_path / "f16.safetensors", g, SPEC, dtype=torch.float16)
    assert (tmp_path / "f16.safetensors").stat().st_size < 0.6 * (
        tmp_path / "f32.safetensors"
    ).stat().st_size
    loaded, _ = load_generator(tmp_path / "f16.safetensors")
    assert next(loaded.parameters()).dtype == torch.float32


def test_bad_files(tmp_path):
    with pytest.raises(WeightsError, match="neither a file nor a shipped model"):
        load_generator(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        load_generator(tmp_path / "junk.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(WeightsError, match="metadata 'format' is None"):
        load_generator(tmp_path / "other.safetensors")
    # a discriminator's tensors under a generator's header
    d = PatchDiscriminator(ndf=4, n_layers=2)
    save_file(d.state_dict(), str(tmp_path / "d.safetensors"), metadata=SPEC.to_metadata())
    with pytest.raises(WeightsError, match="not match (the architecture|its tensors)"):
        load_generator(tmp_path / "d.safetensors")
    # right names, wrong widths
    wide = GeneratorConfig(ngf=8, n_blocks=1, upsample="resize").build()
    save_file(wide.state_dict(), str(tmp_path / "wide.safetensors"), metadata=SPEC.to_metadata())
    with pytest.raises(WeightsError, match="has shape"):
        load_generator(tmp_path / "wide.safetensors")
    meta = {**SPEC.to_metadata(), "format_version": "99"}
    save_file(
        SPEC.architecture.build().state_dict(), str(tmp_path / "v.safetensors"), metadata=meta
    )
    with pytest.raises(WeightsError, match="format_version '99'"):
        load_generator(tmp_path / "v.safetensors")


def test_architecture_must_match_spec(tmp_path):
    with pytest.raises(WeightsError, match="differs from spec"):
        save_generator(tmp_path / "g.safetensors", ResnetGenerator(ngf=2, n_blocks=1), SPEC)
    assert not (tmp_path / "g.safetensors").exists()


def test_registry_resolves_names_and_lists_what_a_user_can_wrap():
    assert list_pretrained() == [
        "halfcheetah-restyled-to-standard",
        "halfcheetah-restyled-to-standard-policyfree",
    ]
    assert list_pretrained("policy") == ["halfcheetah-pixel-policy"]
    assert resolve_weights("halfcheetah-restyled-to-standard").name == (
        "halfcheetah-restyled-to-standard.safetensors"
    )
    with pytest.raises(WeightsError, match="expected a .safetensors path or one of"):
        resolve_weights("no-such-model")
    with pytest.raises(WeightsError, match="expected a .safetensors path"):  # a policy, not weights
        resolve_weights("halfcheetah-pixel-policy")
