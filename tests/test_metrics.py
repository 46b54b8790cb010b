from __future__ import annotations

import math

import numpy as np
import pytest

from style_wrap import ObservationError
from style_wrap.envs import body_mask, render_state
from style_wrap.evaluation.metrics import flicker, l1, psnr, ssim


def _frames(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(20, 230, (2, 32, 32, 3), dtype=np.uint8)


def test_identical_frames():
    a = _frames()
    assert l1(a, a) == 0.0 and psnr(a, a) == math.inf
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-6)


def test_known_perturbation():
    a = _frames()
    b = a + np.uint8(10)
    assert l1(a, b) == pytest.approx(10.0)
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 100))
    noisy = np.clip(a.astype(int) + np.random.default_rng(1).normal(0, 40, a.shape), 0, 255)
    assert ssim(a, noisy.astype(np.uint8)) < ssim(a, b) < 1.0


def test_masks_restrict_the_average():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0] = 100
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = True
    assert l1(a, b, mask) == pytest.approx(100.0)
    assert l1(a, b, ~mask) == 0.0
    assert l1(a, b) == pytest.approx(100 / 16)
    with pytest.raises(ObservationError, match="mask of shape"):
        l1(a, b, np.zeros((3, 3), bool))


def test_flicker():
    still = np.repeat(_frames()[:1], 5, axis=0)
    assert flicker(still) == 0.0
    blink = np.stack([np.zeros((4, 4, 3)), np.full((4, 4, 3), 10)] * 3).astype(np.uint8)
    assert flicker(blink) == pytest.approx(10.0)
    with pytest.raises(ObservationError):
        flicker(still[:1])


def test_bad_shapes():
    with pytest.raises(ObservationError, match="expected two equal"):
        l1(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)))


def test_body_mask_covers_the_body():
    qpos = np.zeros(9)
    standard, restyled = (
        body_mask("standard", qpos, dilate=0),
        body_mask("restyled", qpos, dilate=0),
    )
    assert 0.005 < standard.mean() < 0.3
    assert restyled.sum() > standard.sum()  # the restyled links are drawn thicker
    assert body_mask("standard", qpos, dilate=1).sum() > standard.sum()
    frame = render_state("standard", qpos).astype(int)
    # body pixels have the body's colours, floor pixels the floor's: they differ on average
    assert np.abs(frame[standard].mean(0) - frame[~standard].mean(0)).max() > 20
