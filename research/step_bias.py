"""Where a pose encoder's x step goes wrong (issue 18): its steps on the floor against the truth,
summed per bin of the true step, the root's height and its pitch, on recorded every-step frames.

    python research/step_bias.py ENCODER DATA...

ENCODER: a translator file (``style-wrap fit-pose``'s, or a shipped name) or a research folder's
``encoder.safetensors``. DATA: folders of ``style-wrap collect`` kept at every step, e.g. the
shipped policy's closed loop through a translator on the restyled env (``style-wrap collect --env
StyleWrap/HalfCheetahRestyled-v5 --policy halfcheetah-pixel-policy --translator
halfcheetah-restyled-to-standard-policyfree --deterministic --frames 1000 --max-episode-steps
250 --seed 31 --out data/student-loop-restyled``), used to judge only.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from safetensors.torch import load_file

from style_wrap.posenet import POSE_SIZE, PoseEncoder
from style_wrap.train.data import load_frames
from style_wrap.weights import load_generator

BINS = {
    "step": [(-1.0, 0.05), (0.05, 0.15), (0.15, 0.2), (0.2, 0.25), (0.25, 0.3), (0.3, 1.0)],
    "height": [(-0.3, -0.15), (-0.15, -0.1), (-0.1, -0.05), (-0.05, 0.0), (0.0, 0.3)],
    "pitch": [(-1.0, -0.2), (-0.2, 0.0), (0.0, 0.2), (0.2, 1.0)],
}


def load_encoder(path: str) -> PoseEncoder:
    if path.endswith("encoder.safetensors"):
        enc = PoseEncoder()
        enc.load_state_dict({k: v.float() for k, v in load_file(path).items()})
    else:
        enc = load_generator(path)[0].encoder
    return enc.eval()


@torch.no_grad()
def bias(enc: PoseEncoder, folder: str, limit: int = 3000) -> dict:
    d = load_frames(folder)
    q, s = d.qpos, d.steps
    i = np.arange(1, len(s))
    i = i[(s[1:] == s[:-1] + 1) & (np.abs(q[1:, 0]) < 38)][:limit]  # on the floor
    x = torch.from_numpy(d.frames).permute(0, 3, 1, 2).float() / 127.5 - 1
    est = torch.cat([enc(x[j - 1], x[j])[:, POSE_SIZE] for j in torch.from_numpy(i).split(256)])
    est, true = est.numpy(), q[i, 0] - q[i - 1, 0]
    out = {"pairs": len(i), "ratio": float(est.sum() / true.sum())}
    moving = true > 0.08
    for name, value in (("step", true), ("height", q[i, 1]), ("pitch", q[i, 2])):
        rows = []
        for lo, hi in BINS[name]:
            b = (value >= lo) & (value < hi) & (moving if name != "step" else True)
            if b.sum() >= 10:
                rows.append(
                    {
                        "bin": [lo, hi],
                        "n": int(b.sum()),
                        "ratio": float(est[b].sum() / true[b].sum()),
                    }
                )
        out[name] = rows
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("encoder")
    p.add_argument("data", nargs="+")
    p.add_argument("--out", default="")
    args = p.parse_args()
    torch.set_num_threads(1)
    enc = load_encoder(args.encoder)
    result = {"encoder": args.encoder, "data": {f: bias(enc, f) for f in args.data}}
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
