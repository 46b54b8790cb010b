"""Every python block of README.md and docs/ runs as written, with its placeholders replaced by
shipped names (and the SB3 evaluation cut to one episode of one env, to stay quick).

A page's blocks run in order in one namespace, as a reader pasting them would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDERS = {
    '"path/to/generator.safetensors"': '"halfcheetah-restyled-to-standard"',
    '"generator.safetensors"': '"halfcheetah-restyled-to-standard"',
    "n_eval_episodes=10": "n_eval_episodes=1",
    "n_envs=4": "n_envs=1",
    '8, vectorization_mode="sync"': '2, vectorization_mode="sync"',
}


def _blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.S | re.M)


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.name)
def test_python_blocks_run(page, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in _blocks(page):
        for placeholder, name in PLACEHOLDERS.items():
            block = block.replace(placeholder, name)
        exec(compile(block, str(page), "exec"), namespace)  # noqa: S102
