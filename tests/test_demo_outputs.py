"""The demo run's tables, byte for byte: a restructure of the code must not change a
result. ``tests/golden/demo-2018-19-tables.sha256`` holds the SHA-256 of every table the
annual run writes for the demo's 2018-19 cycle. When a result changes on purpose, say
why in the commit and regenerate it with::

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_demo_outputs.py
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from audit_analysis.pipeline.runner import run_annual

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "demo-2018-19-tables.sha256"


def test_the_demo_run_writes_the_same_tables(tmp_path):
    out = run_annual(ROOT / "data" / "demo", "2018-19", out=tmp_path, progress=False)
    got = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "tables").glob("*.csv"))
    }
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text("".join(f"{h}  {n}\n" for n, h in got.items()), encoding="utf-8")
    expected = dict(
        reversed(line.split("  ", 1)) for line in GOLDEN.read_text(encoding="utf-8").splitlines()
    )
    assert sorted(got) == sorted(expected)
    changed = sorted(n for n in got if got[n] != expected[n])
    assert changed == [], f"tables changed: {changed}"
