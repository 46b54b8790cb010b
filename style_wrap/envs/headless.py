"""Choose a headless OpenGL backend for MuJoCo before MuJoCo is imported.

MuJoCo reads ``MUJOCO_GL`` once, when its rendering module is imported. On a machine with no
display the default (GLFW) cannot open a context, so when the variable is unset and no display
exists we pick EGL, then OSMesa, by looking for their shared libraries. A user's own setting always
wins. If rendering still fails, :func:`render_backend_error` builds the error that names
``MUJOCO_GL`` and what to try.

Example:
    >>> from style_wrap.envs.headless import choose_gl_backend
    >>> choose_gl_backend({"MUJOCO_GL": "osmesa"})  # an explicit choice is kept
    'osmesa'
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import MutableMapping

from style_wrap.errors import RenderBackendError

__all__ = ["choose_gl_backend", "mujoco_gl_in_use", "render_backend_error"]

_LIBRARIES = {"egl": "EGL", "osmesa": "OSMesa"}


def choose_gl_backend(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Set ``MUJOCO_GL`` to a headless backend when none is set and there is no display.

    Args:
        environ: The environment to read and update; ``os.environ`` by default.

    Returns:
        The backend in force afterwards (``None`` when a display exists and nothing was set).
    """
    env = os.environ if environ is None else environ
    chosen = env.get("MUJOCO_GL", "").strip().lower()
    if chosen:
        return chosen
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    for backend, library in _LIBRARIES.items():
        if ctypes.util.find_library(library):
            env["MUJOCO_GL"] = backend
            # PyOpenGL must agree with MuJoCo on the platform or it loads GLX symbols.
            env.setdefault("PYOPENGL_PLATFORM", backend)
            return backend
    return None


def mujoco_gl_in_use() -> str | None:
    """The ``MUJOCO_GL`` value MuJoCo read when its GL module was imported (``None``: not yet)."""
    module = sys.modules.get("mujoco.rendering.classic.gl_context")
    return None if module is None else str(getattr(module, "_MUJOCO_GL", ""))


def render_backend_error(cause: BaseException) -> RenderBackendError:
    """The error to raise when MuJoCo cannot create a rendering context.

    Args:
        cause: The exception MuJoCo raised.

    Returns:
        A :class:`RenderBackendError` naming ``MUJOCO_GL`` and the backends to try.
    """
    current = os.environ.get("MUJOCO_GL", "<unset>")
    chosen = mujoco_gl_in_use()
    if chosen is not None and chosen != os.environ.get("MUJOCO_GL", "").strip().lower():
        return RenderBackendError(
            f"MuJoCo could not create an OpenGL context ({cause}): mujoco was imported before "
            f"style_wrap, with MUJOCO_GL={chosen or '<unset>'!r}, and keeps the backend it chose "
            f"then (MUJOCO_GL is now {current!r}). Expected style_wrap imported before mujoco "
            "(or gymnasium's MuJoCo envs), or MUJOCO_GL=egl set before starting Python."
        )
    return RenderBackendError(
        f"MuJoCo could not create an OpenGL context with MUJOCO_GL={current!r} ({cause}). "
        "Expected a working headless backend: set MUJOCO_GL=egl (needs libEGL, e.g. the "
        "Debian package libegl1) or MUJOCO_GL=osmesa (needs libOSMesa, e.g. libosmesa6) "
        "before importing mujoco or style_wrap."
    )
