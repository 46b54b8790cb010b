from __future__ import annotations

import numpy as np
import torch
from helpers import paint, shapes_and_poses

from style_wrap.nets import to_model_input
from style_wrap.train.pose import fit_pose_regressor, pose_targets


def test_pose_targets_drop_the_unseen_x():
    assert pose_targets(np.arange(9.0)).tolist() == list(np.arange(1.0, 9.0))


def test_regressor_reads_the_pose_far_better_than_the_mean():
    masks, poses = shapes_and_poses(256, 16, seed=3)
    frames = to_model_input(torch.from_numpy(paint(masks, "B")))
    targets = torch.from_numpy(pose_targets(poses))
    net = fit_pose_regressor(frames, targets, steps=300, width=8, lr=3e-3)
    assert not any(p.requires_grad for p in net.parameters()) and not net.training
    test_masks, test_poses = shapes_and_poses(64, 16, seed=4)
    with torch.no_grad():
        pred = net.predict(to_model_input(torch.from_numpy(paint(test_masks, "B")))).numpy()
    truth = pose_targets(test_poses)
    error = np.abs(pred - truth).mean()
    baseline = np.abs(truth - truth.mean(0)).mean()
    assert error < 0.5 * baseline, (error, baseline)
