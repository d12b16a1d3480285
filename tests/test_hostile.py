"""Issue 13: hostile files, hostile names, hard stops. One test (or more) per numbered
item of the issue, each on small hostile inputs built here; workbook bombs are generated
in the test (tests/bombs.py), never committed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bombs import far_cells, rows_bomb, sheet_xml, strings_bomb, write_book
from conftest import write_bulk_csv, write_cases, write_toolkit

from audit_analysis import load_cycle
from audit_analysis.exceptions import CycleNotFoundError
from audit_analysis.workbooks import Budgets, WorkbookRefused, check_package, read_isolated

TESTS = Path(__file__).resolve().parent
SECRET = "s3cr3t-value-9f2c41"  # stands for an environment variable's value
GOOD_ROWS = [(1, "met", "seen"), (2, "unmet", None), (3, "Exceeded", "plan")]


def assert_accounted(data) -> None:
    """Every standard row read is one rating or one row rejection."""
    files = set(data.returns["source_file"])
    rows = data.rejections[
        data.rejections["source_file"].isin(files) & data.rejections["source_row"].notna()
    ]
    assert data.returns["rows"].sum() == len(data.ratings) + len(rows)


def by_file(data) -> dict[str, str]:
    return dict(zip(data.rejections["source_file"], data.rejections["reason"], strict=False))


def every_file_text(root: Path) -> dict[Path, str]:
    """Every file under ``root``, as text (binary parts decoded loosely)."""
    return {
        p: p.read_bytes().decode("utf-8", "replace")
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


# ================================================================ 1. workbook bombs


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (strings_bomb, "uniqueCount=2,000,000,000"),
        (lambda p: far_cells(p, "XFD1048576"), "(17,179,869,184 cells), over the budget"),
        (lambda p: far_cells(p, "CV1048576"), "over the budget of 2,000,000 cells"),
        (lambda p: far_cells(p, "Z1000000"), "over the budget of 2,000,000 cells"),
        (lambda p: far_cells(p, "A1048577"), "beyond Excel's limits"),
        (lambda p: write_book(p, sheet_xml([("A1", "x")]), extra_parts=1001), "parts"),
    ],
    ids=["strings", "XFD1048576", "CV1048576", "Z1000000", "row-1048577", "parts"],
)
def test_a_bomb_is_refused_before_any_parser_sees_it(tmp_path, build, words):
    path = build(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 200_000
    with pytest.raises(WorkbookRefused, match=re.escape(words)):
        check_package(path)


def test_size_and_ratio_budgets_use_the_unpacked_size(tmp_path):
    path = rows_bomb(tmp_path / "rows.xlsx", rows=40_000)  # about 4 MB of XML, 70 KB zipped
    check_package(path)  # within the default budgets
    with pytest.raises(WorkbookRefused, match="unpacks to .* over the budget of 1 MB"):
        check_package(path, Budgets(max_uncompressed_mb=1))
    with pytest.raises(WorkbookRefused, match="expands 9 times, .* a zip bomb"):
        check_package(path, Budgets(max_ratio=5))


def test_budgets_are_settings_read_from_the_environment():
    assert Budgets.from_env({}) == Budgets()
    env = {"AUDIT_ANALYSIS_MAX_CELLS": "5000", "AUDIT_ANALYSIS_MEMORY_MB": "nonsense"}
    assert Budgets.from_env(env) == Budgets(max_cells=5000)
    with pytest.raises(TypeError):
        Budgets(no_such_budget=1)


def test_a_reader_crash_is_one_rejection_and_the_next_file_still_loads(tmp_path):
    """No <dimension>: only reading finds the far corner, and python-calamine aborts its
    process asking for 549 GB. It is the child that dies; the next file is read."""
    bomb = far_cells(tmp_path / "a.xlsx", "XFD1048576", declare=False)
    check_package(bomb)  # nothing to see before reading
    good = write_book(tmp_path / "b.xlsx", sheet_xml([("A1", "fine")]))
    results = list(read_isolated([bomb, good]))
    assert [Path(p).name for p, _ in results] == ["a.xlsx", "b.xlsx"]
    refused = results[0][1]
    assert isinstance(refused, WorkbookRefused)
    assert "ran out of its memory budget" in refused.reason and "549.8 GB" in refused.reason
    assert results[1][1] == [("Audit", [["fine"]])]


def test_rows_beyond_excels_limit_are_refused_after_reading(tmp_path):
    path = rows_bomb(tmp_path / "long.xlsx", rows=1_048_577)  # no <dimension>
    ((_, refused),) = list(read_isolated([path]))
    assert isinstance(refused, WorkbookRefused)
    assert "1,048,577 rows" in refused.reason and "beyond Excel's limits" in refused.reason


def test_a_slow_workbook_is_stopped_at_its_time_budget(tmp_path, monkeypatch):
    import audit_analysis.workbooks as workbooks

    slow = write_book(tmp_path / "slow.xlsx", sheet_xml([("A1", "x")]))
    good = write_book(tmp_path / "then.xlsx", sheet_xml([("A1", "y")]))
    # The child sleeps on the file named slow.xlsx: a stand-in for a reader that hangs.
    monkeypatch.setattr(
        workbooks,
        "_BOOT",
        "import sys, time, builtins; sys.path.insert(0, sys.argv[1]); "
        "src = open(sys.argv[2]).read().replace("
        "'result: tuple = (\"ok\", read_sheets(path, budgets))', "
        '\'result: tuple = (time.sleep(30) if path.endswith("slow.xlsx") else None, '
        '("ok", read_sheets(path, budgets)))[1]\'); '
        "exec(compile(src, sys.argv[2], 'exec'), "
        "{'__name__': '__audit_analysis_reader__', '__file__': sys.argv[2]})",
    )
    results = list(read_isolated([slow, good], Budgets(seconds_per_file=2)))
    assert "longer than the budget of 2 s" in results[0][1].reason
    assert results[1][1] == [("Audit", [["y"]])]


def _bomb_cycle(root: Path) -> Path:
    folder = root / "data" / "2018-19"
    write_cases(folder)
    r = folder / "returns"
    write_toolkit(r / "WMP" / "good-1.xlsx", GOOD_ROWS)
    write_toolkit(r / "CRC" / "good-2.xlsx", GOOD_ROWS, agency="CRC", case_id="C02")
    write_bulk_csv(
        r / "EDU" / "bulk.csv",
        ["agency", "case_id", "standard", "rating"],
        [["EDU", "C03", 1, "met"], ["EDU", "C03", 2, "TBC"]],
    )
    strings_bomb(r / "bombs" / "strings.xlsx")
    far_cells(r / "bombs" / "xfd.xlsx", "XFD1048576")
    far_cells(r / "bombs" / "xfd-undeclared.xlsx", "XFD1048576", declare=False)
    far_cells(r / "bombs" / "cv-undeclared.xlsx", "CV1048576", declare=False)
    far_cells(r / "bombs" / "z-undeclared.xlsx", "Z1000000", declare=False)
    rows_bomb(r / "bombs" / "rows.xlsx", rows=1_100_000)
    write_toolkit(r / "zz" / "good-3.xlsx", GOOD_ROWS, agency="SCH", case_id="C04")
    return folder


def test_bombs_beside_good_returns_within_1_gb_with_exact_accounting(tmp_path):
    """In a fresh process (its children's peak memory is the load's own): every good
    return loads, every bomb is one rejection, the accounting is exact."""
    folder = _bomb_cycle(tmp_path)
    script = textwrap.dedent(
        f"""
        import json, resource
        from audit_analysis import load_cycle
        data = load_cycle({str(folder.parent)!r}, "2018-19")
        files = set(data.returns["source_file"])
        rows = data.rejections[data.rejections["source_file"].isin(files)
                               & data.rejections["source_row"].notna()]
        print(json.dumps({{
            "ratings": len(data.ratings),
            "statuses": dict(zip(data.returns["source_file"], data.returns["status"])),
            "reasons": dict(zip(data.rejections["source_file"], data.rejections["reason"])),
            "accounted": int(data.returns["rows"].sum()) == len(data.ratings) + len(rows),
            "children_peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            "self_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["ratings"] == 3 * 3 + 1  # three good toolkits and the bulk table's one
    statuses = got["statuses"]
    assert statuses["returns/WMP/good-1.xlsx"] == "loaded"
    assert statuses["returns/zz/good-3.xlsx"] == "loaded"
    assert statuses["returns/EDU/bulk.csv"] == "partial"
    bombs = [f for f in statuses if f.startswith("returns/bombs/")]
    assert len(bombs) == 6 and all(statuses[f] == "rejected" for f in bombs)
    reasons = got["reasons"]
    assert "uniqueCount" in reasons["returns/bombs/strings.xlsx"]
    assert "17,179,869,184 cells" in reasons["returns/bombs/xfd.xlsx"]
    for name in ("xfd", "cv", "z"):
        assert "memory budget" in reasons[f"returns/bombs/{name}-undeclared.xlsx"]
    assert "beyond Excel's limits" in reasons["returns/bombs/rows.xlsx"]
    assert got["accounted"]
    assert got["children_peak_kb"] * 1024 < 1e9
    assert got["self_peak_kb"] * 1024 < 1e9


def test_validate_names_each_bomb_and_carries_on(tmp_path, capsys):
    from audit_analysis.cli import main

    folder = tmp_path / "data" / "2018-19"
    write_cases(folder)
    strings_bomb(folder / "returns" / "a-bomb.xlsx")
    write_toolkit(folder / "returns" / "b-good.xlsx", GOOD_ROWS)
    assert main(["validate", str(folder.parent), "--cycle", "2018-19"]) == 0
    out = capsys.readouterr().out
    assert "Ratings: 3 accepted" in out
    assert "returns/a-bomb.xlsx: the workbook's shared-string table declares" in out


# ================================================================ 5. links and special files


def _linked_cycle(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "environ.csv").write_text(
        f"agency,case_id,standard,rating\nWMP,C01,1,{SECRET}\n", encoding="utf-8"
    )
    write_toolkit(outside / "elsewhere.xlsx", [(1, SECRET, SECRET)])
    folder = tmp_path / "data" / "2018-19"
    write_cases(folder)
    r = folder / "returns"
    write_toolkit(r / "WMP" / "good.xlsx", GOOD_ROWS)
    os.symlink(outside / "environ.csv", r / "WMP" / "environ.csv")
    os.symlink(outside / "elsewhere.xlsx", r / "WMP" / "linked.xlsx")
    os.symlink(outside, r / "folder-link")
    os.symlink(tmp_path / "nothing-here.csv", r / "dangling.csv")
    os.symlink("/dev/zero", r / "zero.csv")
    os.mkfifo(r / "pipe.csv")
    return folder


def test_links_pipes_and_devices_are_listed_as_skipped_and_never_read(tmp_path, capsys):
    from audit_analysis.cli import main

    folder = _linked_cycle(tmp_path)
    data = load_cycle(folder.parent, "2018-19")
    status = dict(zip(data.returns["source_file"], data.returns["status"], strict=True))
    assert status == {
        "returns/WMP/environ.csv": "skipped",
        "returns/WMP/good.xlsx": "loaded",
        "returns/WMP/linked.xlsx": "skipped",
        "returns/dangling.csv": "skipped",
        "returns/folder-link": "skipped",
        "returns/pipe.csv": "skipped",
        "returns/zero.csv": "skipped",
    }
    assert len(data.ratings) == 3 and data.rejections.empty
    log = tmp_path / "rejections.csv"
    assert (
        main(["validate", str(folder.parent), "--cycle", "2018-19", "--rejections-csv", str(log)])
        == 0
    )
    out = capsys.readouterr().out
    assert SECRET not in out
    for name, words in [
        ("returns/WMP/environ.csv", "symbolic link (to a file): not followed"),
        ("returns/folder-link", "symbolic link (to a folder): not followed"),
        ("returns/dangling.csv", "symbolic link to nothing (dangling)"),
        ("returns/zero.csv", "symbolic link"),
        ("returns/pipe.csv", "a named pipe (FIFO)"),
    ]:
        assert f"  {name}: {words}" in out


def test_linked_cohort_and_records_are_refused(tmp_path):
    folder = _linked_cycle(tmp_path)
    (folder / "cases.csv").rename(tmp_path / "outside" / "cases.csv")
    os.symlink(tmp_path / "outside" / "cases.csv", folder / "cases.csv")
    with pytest.raises(CycleNotFoundError, match="cases.csv is not read: symbolic link"):
        load_cycle(folder.parent, "2018-19")
    (folder / "cases.csv").unlink()
    write_cases(folder)
    os.symlink(tmp_path / "outside" / "environ.csv", folder / "deep_dive.csv")
    os.mkfifo(folder / "family_feedback.csv")
    data = load_cycle(folder.parent, "2018-19")
    reasons = by_file(data)
    assert "symbolic link" in reasons["deep_dive.csv"]
    assert "named pipe" in reasons["family_feedback.csv"]
    assert SECRET not in data.rejections.to_csv()


def test_rejections_quote_a_short_clean_excerpt(cycle_dir):
    long_rating = "\x1b[31mRED\x1b[0m " + "x" * 5000
    write_bulk_csv(
        cycle_dir / "returns" / "a.csv",
        ["agency", "case_id", "standard", "rating"],
        [["WMP", "C01", 1, long_rating]],
    )
    data = load_cycle(cycle_dir.parent, "2018-19")
    (value,) = data.rejections["raw_value"]
    assert len(value) <= 200 and value.endswith("…")
    assert "\x1b" not in value and value.startswith("\\x1b[31mRED")
