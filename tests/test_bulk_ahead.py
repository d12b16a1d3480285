"""Issue 25: a cycle's CSV bulk tables are read and their rows judged before the
workbooks (``_Loader.prepare``, while the reader's child reads them); what depends on
the files before them (the first of two ratings kept, the log in file order) is done at
their turn. The tables are those of loading each file at its turn."""

from __future__ import annotations

import pytest
from conftest import write_bulk_csv, write_toolkit

import audit_analysis.io.dataset as dataset
from audit_analysis import load_cycle

ROWS = [(1, "met", "seen"), (2, "unmet", None), (3, "Exceeded", "plan"), (4, "bogus", "x")]
HEADER = ["agency", "case_id", "standard", "rating", "evidence"]


@pytest.fixture
def cycle(cycle_dir):
    returns = cycle_dir / "returns"
    write_toolkit(returns / "WMP" / "C01.xlsx", ROWS)
    write_toolkit(returns / "SCH" / "C02.xlsx", ROWS, agency="SCH", case_id="C02")
    # before the workbooks in file order (A < S < W), and after them (a < ...)
    write_bulk_csv(
        returns / "AAA.csv",
        HEADER,
        [
            ["SCH", "C02", 1, "met", "first"],
            ["SCH", "C02", 99, "met", ""],
            ["SCH", "C01", 5, "??", ""],
        ],
    )  # the first kept before C02.xlsx's, then a standard not in the framework, a bad rating
    write_bulk_csv(
        returns / "all.csv",
        HEADER,
        [
            ["WMP", "C01", 1, "unmet", "rated in C01.xlsx already"],
            ["WMP", "C03", 2, "met", "kept"],
            ["WMP", "C03", 2, "unmet", "rated on the row above"],
            ["NOPE", "C03", 3, "met", ""],
            ["WMP", "C03", "x", "met", ""],
        ],
    )
    write_bulk_csv(returns / "zz.csv", ["case_id", "standard"], [["C01", 1]])  # no rating column
    return cycle_dir


def load(cycle_dir):
    data = load_cycle(cycle_dir.parent, "2018-19")
    return data.ratings, data.returns, data.rejections


def test_bulk_tables_judged_ahead_load_as_at_their_turn(cycle, monkeypatch):
    prepared = []
    real = dataset._Loader.prepare

    def spy(self, path, rel):
        prepared.append(rel)
        return real(self, path, rel)

    monkeypatch.setattr(dataset._Loader, "prepare", spy)
    ahead = load(cycle)
    assert prepared == ["returns/AAA.csv", "returns/all.csv", "returns/zz.csv"]
    monkeypatch.setattr(dataset._Loader, "prepare", lambda self, path, rel: None)
    at_turn = load(cycle)
    for mine, theirs in zip(ahead, at_turn, strict=True):
        assert mine.equals(theirs) and list(mine.dtypes) == list(theirs.dtypes)


def test_the_first_rating_in_file_order_is_kept_whichever_was_judged_first(cycle):
    ratings, returns, rejections = load(cycle)
    kept = ratings.set_index(["agency", "case_ref", "standard"])["source_file"]
    assert kept[("SCH", "C02", 1)] == "returns/AAA.csv"  # a bulk table before the workbook
    assert kept[("WMP", "C01", 1)] == "returns/WMP/C01.xlsx"  # and one after it
    assert kept[("WMP", "C03", 2)] == "returns/all.csv"
    duplicates = rejections[rejections["code"] == "duplicate"]
    assert list(duplicates["source_file"]) == [
        "returns/SCH/C02.xlsx",
        "returns/all.csv",
        "returns/all.csv",
    ]
    assert "in returns/AAA.csv row 2, which is kept" in duplicates["reason"].iloc[0]
    # the log is in file order, each file's rows in row order
    order = list(returns["source_file"])
    position = rejections["source_file"].map(order.index)
    assert position.is_monotonic_increasing
    assert list(rejections[rejections["source_file"] == "returns/all.csv"]["source_row"]) == [
        2,
        4,
        5,
        6,
    ]
    assert returns.set_index("source_file").loc["returns/zz.csv", "status"] == "rejected"


def test_a_table_with_no_duplicate_is_kept_in_one_step_and_one_with_any_row_by_row(
    cycle, monkeypatch
):
    """AAA.csv rates what no earlier file rated: kept whole (``_keep_ahead``). all.csv
    rates C01's standard 1 again and one key twice: row by row (``_keep``), which logs
    each duplicate. The tables are those of the test above (each file at its turn)."""
    row_by_row = []
    real = dataset._Loader._keep

    def spy(self, rel, where, judged, record):
        row_by_row.append(rel)
        return real(self, rel, where, judged, record)

    monkeypatch.setattr(dataset._Loader, "_keep", spy)
    ratings, returns, rejections = load(cycle)
    bulk = [rel for rel in row_by_row if rel.endswith(".csv")]
    assert bulk == ["returns/all.csv"]
    assert len(ratings[ratings["source_file"] == "returns/AAA.csv"]) == 1
    assert returns.set_index("source_file").loc["returns/AAA.csv", "status"] == "partial"
    mine = rejections[rejections["source_file"] == "returns/AAA.csv"]
    assert list(mine["source_row"]) == [3, 4] and list(mine["code"]) == [
        "standard",
        "unknown-rating",
    ]
