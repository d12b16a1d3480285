"""The golden tables hold on any machine and still catch a real change (issue 18).

``tests/tables.py`` compares tables cell by cell: text exactly, numbers within one unit of
the sixth significant digit that the published CSVs carry. Proved here three ways: a
published value moved by one unit in its last place (what another CPU's summation order
does) still matches; a value moved beyond the tolerance fails, naming the table, the row
and the column; and the in-process golden test passes again in a fresh interpreter with
another numeric set-up (one BLAS thread, numpy's widest SIMD paths switched off, another
hash seed), with the committed demo data regenerated the same way: the guard that keeps
a machine-dependent comparison from coming back unseen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tables import compare_tables, read_table

from audit_analysis.pipeline.notebook import open_session
from audit_analysis.render import outputs
from audit_analysis.sections import consistency

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "demo-2018-19"
TABLE = "agreement-by-standard"


@pytest.fixture(scope="module")
def agreement_table(tmp_path_factory) -> pd.DataFrame:
    """The agreement-by-standard table as the consistency section computes it, unrounded."""
    session = open_session(ROOT / "data" / "demo", "2018-19", tmp_path_factory.mktemp("out"))
    section = consistency.Consistency(session).build()
    (frame,) = [figure.data for figure in section.figures() if figure.name == TABLE]
    return frame


def _written(frame: pd.DataFrame, tmp_path: Path) -> list[list[str]]:
    return read_table(outputs.write_csv(frame, tmp_path / f"{TABLE}.csv"))


def test_the_table_as_computed_matches_the_golden_one(agreement_table, tmp_path):
    got = _written(agreement_table, tmp_path)
    assert compare_tables(TABLE, got, read_table(GOLDEN / f"{TABLE}.csv")) == []


def test_a_value_moved_by_one_ulp_still_matches(agreement_table, tmp_path):
    moved = agreement_table.copy()
    for column in ("alpha", "ac1", "pct_agree"):
        moved[column] = np.nextafter(moved[column].to_numpy(), np.inf)
    assert (moved["alpha"] != agreement_table["alpha"]).any()
    got = _written(moved, tmp_path)
    assert compare_tables(TABLE, got, read_table(GOLDEN / f"{TABLE}.csv")) == []


def test_a_value_moved_beyond_the_tolerance_is_named(agreement_table, tmp_path):
    moved = agreement_table.copy()
    moved.loc[moved.index[2], "alpha"] += 1e-3
    got = _written(moved, tmp_path)
    problems = compare_tables(f"{TABLE}.csv", got, read_table(GOLDEN / f"{TABLE}.csv"))
    assert len(problems) == 1
    label = agreement_table["label"].iloc[2]
    assert problems[0].startswith(f"{TABLE}.csv row 3 (label={label!r}) column 'alpha': ")


def test_text_and_shape_are_compared_exactly():
    want = [["label", "n", "share"], ["Met", "3", "0.5"], ["Not met", "1", "0.25"]]
    assert compare_tables("t", [r[:] for r in want], want) == []
    assert compare_tables("t", [want[0], ["Met", "3", "0.5"]], want) == ["t: 1 rows != 2"]
    renamed = [want[0], ["Met ", "3", "0.5"], want[2]]
    assert compare_tables("t", renamed, want) == [
        "t row 1 (label='Met') column 'label': 'Met ' != 'Met'"
    ]
    counted = [want[0], ["Met", "4", "0.5"], want[2]]
    assert compare_tables("t", counted, want) == ["t row 1 (label='Met') column 'n': '4' != '3'"]
    assert compare_tables("t", [["label", "n"], *want[1:]], want)[0].startswith("t: columns")


def test_published_numbers_carry_six_significant_digits():
    assert outputs.published_number(0.173832780688295) == "0.173833"
    assert outputs.published_number(3134.0) == "3134"
    assert outputs.published_number(123456789.0) == "123456789"
    assert outputs.published_number(2.5e-7) == "2.5e-07"
    assert outputs.published_number(float("nan")) == ""


def _widest_simd() -> str:
    from numpy._core import _multiarray_umath as m

    return " ".join(t for t in m.__cpu_dispatch__ if m.__cpu_features__.get(t))


@pytest.mark.e2e
@pytest.mark.slow
def test_the_golden_tables_hold_under_another_numeric_set_up():
    env = {k: v for k, v in os.environ.items() if k != "UPDATE_GOLDEN"}
    env.update(
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONHASHSEED=str(np.random.default_rng().integers(1, 2**31)),
        AUDIT_ANALYSIS_TEST_TABLES_ONLY="1",  # the tables, not the charts: numbers only
    )
    if simd := _widest_simd():
        env["NPY_DISABLE_CPU_FEATURES"] = simd
    tests = [
        "tests/test_sections.py::test_rendering_every_section_here_gives_the_annual_runs_tables",
        "tests/test_demo.py::test_committed_demo_data_equals_a_fresh_generation",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
