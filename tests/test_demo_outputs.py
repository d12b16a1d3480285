"""The demo run's tables, to their published precision: a restructure of the code must not
change a result. ``tests/golden/demo-2018-19/`` holds every table the annual run writes for
the demo's 2018-19 cycle; they are compared as tables (``tests/tables.py``): text exactly,
numbers within one unit of their sixth significant digit, so the test holds on any machine.
When a result changes on purpose, say why in the commit and regenerate them with::

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_demo_outputs.py
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tables import compare_folders, refresh

from audit_analysis.pipeline.runner import run_annual

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "demo-2018-19"


def test_the_demo_run_writes_the_same_tables(tmp_path):
    out = run_annual(ROOT / "data" / "demo", "2018-19", out=tmp_path, progress=False)
    refresh(out / "tables", GOLDEN)
    assert compare_folders(out / "tables", GOLDEN) == []
