"""Judging a translator on any pair of looks, without ground truth (``style-wrap eval
--source-frames A --target-frames B``).

A pair that nobody can render in both looks has no paired truth, so these measures compare
distributions: how far translated frames are from real target frames against how far the raw
source frames are (the gap to close), each with its noise floor (two halves of the target set).

- **Colour histograms**: total variation between per-channel 32-bin histograms (0: same colours,
  1: disjoint).
- **A domain classifier** trained here on real source (0) against real target (1) frames (a small
  CNN; there are no pretrained networks to download): its held-out accuracy, and the mean
  probability it gives translated frames of being target frames (the verdict; real target frames
  get the same measure for reference).
- **KID** (kernel inception distance, with that classifier's features instead of Inception's):
  the unbiased MMD^2 of a cubic polynomial kernel, averaged over subsets.
- **Flicker**: the mean absolute change between consecutive frames (runs of consecutive steps in
  the dataset), translated against the source's own (the same motion).

With a policy and envs, the returns as in ``style-wrap demo``: any env pair, any pixel policy.

**The paired hook.** When you can draw one physics state in both looks, pass the function that
does (``render_pair="file.py:function"``, called ``function(look, qpos, qvel)`` with ``look``
``"source"`` or ``"target"``, returning an HWC uint8 frame): the source folder's recorded states
(``collect`` records them for MuJoCo envs) are drawn in both looks, and the translation of each
source frame is scored against its true target frame (L1, PSNR, SSIM, with the untranslated
source as the baseline) and its flicker against the truth's, as ``eval`` does on the cheetahs.

Example:
    >>> import numpy as np
    >>> histogram_distance(np.zeros((2, 4, 4, 3), np.uint8), np.zeros((3, 4, 4, 3), np.uint8))
    0.0
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import torch
from torch import nn

from style_wrap.errors import DataError
from style_wrap.io import atomic_write_bytes, check_output_path
from style_wrap.settings import check_at_least
from style_wrap.translator import Translator, episode_starts

__all__ = ["evaluate_unpaired", "histogram_distance", "kid", "unpaired_table"]


def histogram_distance(a: np.ndarray, b: np.ndarray, bins: int = 32) -> float:
    """Total variation between the per-channel colour histograms of two frame sets, averaged."""
    edges = np.linspace(0, 256, bins + 1)
    out = []
    for c in range(3):
        ha = np.histogram(a[..., c], edges)[0] / a[..., c].size
        hb = np.histogram(b[..., c], edges)[0] / b[..., c].size
        out.append(0.5 * np.abs(ha - hb).sum())
    return round(float(np.mean(out)), 6)


def kid(x: np.ndarray, y: np.ndarray, subsets: int = 10, size: int = 200, seed: int = 0) -> float:
    """Unbiased MMD^2 of the kernel ``(x.y / d + 1) ** 3`` between feature sets, over subsets."""
    rng = np.random.default_rng(seed)
    m = min(size, len(x), len(y))
    if m < 2:
        raise DataError(f"KID needs at least 2 frames a side; got {len(x)} and {len(y)}")
    d = x.shape[1]
    values = []
    for _ in range(subsets):
        a = x[rng.choice(len(x), m, replace=False)]
        b = y[rng.choice(len(y), m, replace=False)]
        kxx, kyy, kxy = ((p @ q.T / d + 1) ** 3 for p, q in ((a, a), (b, b), (a, b)))
        off = 1 - np.eye(m)
        values.append(
            (kxx * off).sum() / (m * (m - 1)) + (kyy * off).sum() / (m * (m - 1)) - 2 * kxy.mean()
        )
    return round(float(np.mean(values)), 6)


class _Classifier(nn.Module):
    """Source (0) against target (1), on frames of any size; ``features`` for KID."""

    def __init__(self, width: int = 16):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for k in range(3):
            layers += [nn.Conv2d(channels, width * 2**k, 4, 2, 1), nn.LeakyReLU(0.2)]
            channels = width * 2**k
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(channels, 1)

    def features(self, frames: torch.Tensor) -> torch.Tensor:
        return self.body(frames.permute(0, 3, 1, 2).float() / 127.5 - 1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(frames))[:, 0]


def _fit_classifier(
    source: np.ndarray, target: np.ndarray, steps: int, seed: int
) -> tuple[_Classifier, float]:
    """A classifier fitted on 80% of each set; its accuracy on the other 20%."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = _Classifier()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    split_s, split_t = int(0.8 * len(source)), int(0.8 * len(target))
    train = (torch.from_numpy(source[:split_s]), torch.from_numpy(target[:split_t]))
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        a = train[0][rng.integers(0, len(train[0]), 32)]
        b = train[1][rng.integers(0, len(train[1]), 32)]
        logits = net(torch.cat([a, b]))
        labels = torch.cat([torch.zeros(len(a)), torch.ones(len(b))])
        opt.zero_grad()
        loss_fn(logits, labels).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        held_s = _probabilities(net, source[split_s:])
        held_t = _probabilities(net, target[split_t:])
    accuracy = float(np.concatenate([held_s < 0.5, held_t >= 0.5]).mean())
    return net, accuracy


def _probabilities(net: _Classifier, frames: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate(
            [
                torch.sigmoid(net(torch.from_numpy(frames[i : i + 256]))).numpy()
                for i in range(0, len(frames), 256)
            ]
        )


def _features(net: _Classifier, frames: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate(
            [
                net.features(torch.from_numpy(frames[i : i + 256])).numpy()
                for i in range(0, len(frames), 256)
            ]
        ).astype(np.float64)


def _flicker(frames: np.ndarray, steps: np.ndarray) -> float | None:
    """Mean absolute change between consecutive frames of one episode (``None``: no such pair)."""
    pairs = np.flatnonzero(np.diff(steps) == 1)
    pairs = pairs[steps[pairs] >= 0]
    if not len(pairs):
        return None
    diff = frames[pairs + 1].astype(np.int16) - frames[pairs].astype(np.int16)
    return round(float(np.abs(diff).mean()), 4)


def _subsample(data: Any, limit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``limit`` frames in runs (so consecutive pairs survive), with their steps."""
    n = len(data.frames)
    if n <= limit:
        return data.frames, data.steps
    start = np.random.default_rng(seed).integers(0, n - limit + 1)
    return data.frames[start : start + limit], data.steps[start : start + limit]


def evaluate_unpaired(
    weights: str | os.PathLike[str],
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    device: str = "auto",
    max_frames: int = 2000,
    classifier_steps: int = 300,
    seed: int = 0,
    policy: str | None = None,
    episodes: int = 3,
    demo: dict[str, Any] | None = None,
    json_path: str | os.PathLike[str] | None = None,
    render_pair: str | None = None,
) -> dict[str, Any]:
    """Measure ``weights`` on the frames of ``source`` (its input look) against ``target``.

    Args:
        weights: The translator (source -> target).
        source: A dataset folder of source-look frames (``style-wrap collect``; ideally frames
            the translator was not trained on).
        target: A dataset folder of target-look frames.
        device: Where to translate.
        max_frames: Frames used from each folder (a contiguous run, so that consecutive frames
            stay together for flicker).
        classifier_steps: Adam steps of the domain classifier.
        seed: Seeds the subsets, the classifier and the episodes.
        policy: A pixel policy of the target look: with ``demo``, its returns through the
            translator.
        episodes: Episodes per condition for the policy.
        demo: Keywords for :func:`~style_wrap.evaluation.demo.run_demo` (``source_env``,
            ``target_env``, ``env_kwargs``, ``pixels``).
        json_path: Also write the result here.
        render_pair: The paired hook (``"module:function"`` / ``"file.py:function"``, above).
    """
    from style_wrap.train.data import load_frames

    check_at_least({"max_frames": max_frames, "classifier_steps": classifier_steps}, 10)
    check_at_least({"episodes": episodes}, 1)
    check_at_least({"seed": seed}, 0)
    if json_path is not None:
        check_output_path(json_path)
    data_s, data_t = load_frames(source), load_frames(target)
    translator = Translator(weights, device=device)
    translator.check_frame_shape(tuple(data_s.frames.shape[1:]), f"frames of {source}")
    if data_t.frames.shape[1:] != data_s.frames.shape[1:]:
        raise DataError(
            f"{target} holds frames of {data_t.frames.shape[1:]}, {source} of "
            f"{data_s.frames.shape[1:]}; expected one frame size"
        )
    frames_s, steps_s = _subsample(data_s, max_frames, seed)
    frames_t, steps_t = _subsample(data_t, max_frames, seed + 1)
    # Frames sampled across the folder: one at a time as episode starts for a temporal
    # translator (the paired hook, below, translates runs of consecutive states in order).
    translated = translator.translate_episodes(frames_s, np.ones(len(frames_s), bool))
    net, accuracy = _fit_classifier(frames_s, frames_t, classifier_steps, seed)
    feats = {k: _features(net, f) for k, f in
             (("source", frames_s), ("target", frames_t), ("translated", translated))}  # fmt: skip
    half = len(frames_t) // 2
    result: dict[str, Any] = {
        "weights": str(weights),
        "source": str(source),
        "target": str(target),
        "frames": [len(frames_s), len(frames_t)],
        "histogram_distance": {
            "source": histogram_distance(frames_s, frames_t),
            "translated": histogram_distance(translated, frames_t),
            "target_halves": histogram_distance(frames_t[:half], frames_t[half:]),
        },
        "classifier_accuracy": round(accuracy, 4),
        "target_verdict": {
            "source": round(float(_probabilities(net, frames_s).mean()), 4),
            "translated": round(float(_probabilities(net, translated).mean()), 4),
            "target": round(float(_probabilities(net, frames_t).mean()), 4),
        },
        "kid": {
            "source": kid(feats["source"], feats["target"], seed=seed),
            "translated": kid(feats["translated"], feats["target"], seed=seed),
            "target_halves": kid(feats["target"][:half], feats["target"][half:], seed=seed),
        },
        "flicker": {
            "source": _flicker(frames_s, steps_s),
            "translated": _flicker(translated, steps_s),
            "target": _flicker(frames_t, steps_t),
        },
    }
    if render_pair is not None:
        result["paired"] = _paired(translator, render_pair, data_s, max_frames, seed)
    if policy is not None and demo:
        from style_wrap.evaluation.demo import run_demo

        outcome = run_demo(
            policy=policy, weights=weights, episodes=episodes, seed=seed, device=device,
            video=None, **demo,
        )  # fmt: skip
        result["policy"] = {"file": str(policy), **outcome.to_dict()}
    if json_path is not None:
        atomic_write_bytes(json_path, json.dumps(result, indent=2).encode())
    return result


def _paired(translator: Translator, hook: str, data: Any, limit: int, seed: int) -> dict[str, Any]:
    """The source folder's recorded states drawn in both looks by ``hook``; the translation
    scored against the truth (the untranslated source as the baseline)."""
    from style_wrap.evaluation.metrics import flicker, l1, psnr, ssim
    from style_wrap.making import load_object

    render = load_object(hook, "render_pair") if ":" in hook else None
    if not callable(render):
        raise DataError(f"render_pair {hook!r}; expected 'module:function' or 'file.py:function'")
    if data.qpos is None or data.qvel is None:
        raise DataError(
            f"render_pair {hook!r} needs recorded states; the source folder has none "
            "(collect records them for MuJoCo envs)"
        )
    n = len(data.frames)
    start = 0 if n <= limit else int(np.random.default_rng(seed).integers(0, n - limit + 1))
    part = slice(start, start + min(limit, n))
    qpos, qvel, steps = data.qpos[part], data.qvel[part], data.steps[part]
    drawn = {
        look: np.stack([np.asarray(render(look, q, v), np.uint8) for q, v in zip(qpos, qvel)])
        for look in ("source", "target")
    }
    source, truth = drawn["source"], drawn["target"]
    translator.check_frame_shape(tuple(source.shape[1:]), f"frames drawn by {hook}")
    translated = translator.translate_episodes(source, episode_starts(steps))
    runs = np.split(np.arange(len(steps)), np.flatnonzero(np.diff(steps) != 1) + 1)
    runs = [r for r in runs if len(r) > 1]
    out: dict[str, Any] = {"states": len(source)}
    for prefix, frames in (("", translated), ("baseline_", source)):
        out[f"{prefix}l1"] = l1(frames, truth)
        out[f"{prefix}psnr"] = psnr(frames, truth)
        out[f"{prefix}ssim"] = ssim(frames, truth)
    if runs:
        out["flicker_translated"] = float(np.mean([flicker(translated[r]) for r in runs]))
        out["flicker_true"] = float(np.mean([flicker(truth[r]) for r in runs]))
    return out


def unpaired_table(result: dict[str, Any]) -> str:
    """The measures as a small text table: source (raw), translated, and the reference."""
    rows = ["measure                         source  translated   reference"]
    h, v, k, f = (result[x] for x in ("histogram_distance", "target_verdict", "kid", "flicker"))

    def cell(x: Any) -> str:
        return f"{x:10.4f}" if isinstance(x, float) else f"{'-':>10s}"

    rows.append(f"colour histogram TV           {cell(h['source'])}  {cell(h['translated'])}  "
                f"{cell(h['target_halves'])} (target halves)")  # fmt: skip
    rows.append(f"classifier P(target)          {cell(v['source'])}  {cell(v['translated'])}  "
                f"{cell(v['target'])} (target frames)")  # fmt: skip
    rows.append(f"KID (classifier features)     {cell(k['source'])}  {cell(k['translated'])}  "
                f"{cell(k['target_halves'])} (target halves)")  # fmt: skip
    rows.append(f"flicker |x_t - x_t-1|         {cell(f['source'])}  {cell(f['translated'])}  "
                f"{cell(f['target'])} (target frames)")  # fmt: skip
    rows.append(f"classifier held-out accuracy: {result['classifier_accuracy']:.3f}")
    if "paired" in result:
        q = result["paired"]
        rows.append(
            f"paired ({q['states']} states drawn in both looks): PSNR {q['psnr']:.2f} dB "
            f"(untranslated {q['baseline_psnr']:.2f}), SSIM {q['ssim']:.3f} "
            f"(untranslated {q['baseline_ssim']:.3f}), L1 {q['l1']:.2f}"
            + (
                f", flicker {q['flicker_translated']:.3f} (truth {q['flicker_true']:.3f})"
                if "flicker_true" in q
                else ""
            )
        )
    if "policy" in result:
        p = result["policy"]
        rows.append(
            f"policy returns: target {p['mean']['standard']:.1f}, source raw "
            f"{p['mean']['restyled']:.1f}, translated {p['mean']['restyled_translated']:.1f}; "
            f"ratio translated {p['ratio_translated']:.3f}, raw {p['ratio_raw']:.3f}"
        )
    return "\n".join(rows)
