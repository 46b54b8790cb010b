"""Shared test setup: headless rendering before anything imports MuJoCo."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")
