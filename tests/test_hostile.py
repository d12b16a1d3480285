"""Issue 13: hostile files, hostile names, hard stops. One test (or more) per numbered
item of the issue, each on small hostile inputs built here; workbook bombs are generated
in the test (tests/bombs.py), never committed."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bombs import far_cells, rows_bomb, sheet_xml, strings_bomb, write_book
from conftest import write_bulk_csv, write_cases, write_toolkit

from audit_analysis import load_cycle
from audit_analysis.exceptions import AuditDataError, CycleNotFoundError
from audit_analysis.io.workbooks import Budgets, WorkbookRefused, check_package, read_isolated

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


def _late_dimension(path: Path, ref: str) -> Path:
    """A sheet whose <dimension> stands 3,000 bytes in, behind a long <sheetPr>: past
    the first bytes the checks look in, within the head they read before parsing."""
    xml = sheet_xml([("A1", "x")], dimension=ref)
    padding = f'<sheetPr codeName="{"x" * 3000}"/>'
    return write_book(path, xml.replace("<dimension", padding + "<dimension", 1))


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (strings_bomb, "uniqueCount=2,000,000,000"),
        (lambda p: far_cells(p, "XFD1048576"), "(17,179,869,184 cells), over the budget"),
        (lambda p: far_cells(p, "CV1048576"), "over the budget of 2,000,000 cells"),
        (lambda p: far_cells(p, "Z1000000"), "over the budget of 2,000,000 cells"),
        (lambda p: far_cells(p, "A1048577"), "beyond Excel's limits"),
        (lambda p: write_book(p, sheet_xml([("A1", "x")]), extra_parts=1001), "parts"),
        (lambda p: _late_dimension(p, "A1:XFD1048576"), "(17,179,869,184 cells), over the budget"),
    ],
    ids=["strings", "XFD1048576", "CV1048576", "Z1000000", "row-1048577", "parts", "late"],
)
def test_a_bomb_is_refused_before_any_parser_sees_it(tmp_path, build, words):
    path = build(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 200_000
    with pytest.raises(WorkbookRefused, match=re.escape(words)):
        check_package(path)


def test_size_and_ratio_budgets_use_the_unpacked_size(tmp_path):
    path = rows_bomb(
        tmp_path / "rows.xlsx", rows=40_000, cells_per_row=4
    )  # about 4 MB of XML, 70 KB zipped
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
    path = rows_bomb(tmp_path / "long.xlsx", rows=1_048_577, cells_per_row=1)  # no <dimension>
    ((_, refused),) = list(read_isolated([path]))
    assert isinstance(refused, WorkbookRefused)
    assert "1,048,577 rows" in refused.reason and "beyond Excel's limits" in refused.reason


def test_a_slow_workbook_is_stopped_at_its_time_budget(tmp_path, monkeypatch):
    import audit_analysis.io.workbooks as workbooks

    slow = write_book(tmp_path / "slow.xlsx", sheet_xml([("A1", "x")]))
    good = write_book(tmp_path / "then.xlsx", sheet_xml([("A1", "y")]))
    # The child sleeps on the file named slow.xlsx: a stand-in for a reader that hangs.
    monkeypatch.setattr(
        workbooks,
        "_BOOT",
        "import sys, time, builtins; sys.path.insert(0, sys.argv[1]); "
        "src = open(sys.argv[2]).read().replace("
        "'result: tuple = (\"ok\", read_sheets(path, budgets, lazy=parse))', "
        '\'result: tuple = (time.sleep(30) if path.endswith("slow.xlsx") else None, '
        '("ok", read_sheets(path, budgets, lazy=parse)))[1]\'); '
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
    rows_bomb(r / "bombs" / "rows.xlsx", rows=1_100_000, cells_per_row=1)
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
        from audit_analysis.io.workbooks import stop_readers
        data = load_cycle({str(folder.parent)!r}, "2018-19")
        stop_readers()  # waited for, so that the children's peak below counts every one
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
    from audit_analysis.pipeline.cli import main

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
    from audit_analysis.pipeline.cli import main

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


# ================================================================ shared: a hostile run

LEAKS = ("CFLEAK77310", "TRLEAK88120")  # identifiers on a cases.csv row with no case_ref
ESCAPING_REF = "../../../../x{y}"  # a case_ref that is a path, with papermill's braces
FORMULA_EVIDENCE = 'first line\r=HYPERLINK("http://evil.invalid")\n+1+1'
AGENCIES = ("WMP", "CRC", "CCG", "EDU")
RATINGS = ("met", "unmet", "Exceeded", "partially met")


def build_hostile_cycle(root: Path) -> Path:
    """A one-cycle study with a hostile case_ref, identifiers on a row with no case_ref,
    formulas behind line breaks, and a link to a secret outside the folder."""
    folder = root / "data" / "2018-19"
    cases = [[f"C{i:02d}", "neglect", str(3 + i), f"90010{i}", f"TR-10{i}", "AB"] for i in range(6)]
    cases.append([ESCAPING_REF, "early_help", "12", "900199", "TR-199", "ZZ"])
    cases.append(["", "neglect", "7", LEAKS[0], LEAKS[1], "QQ"])
    write_cases(folder, rows=cases)
    refs = [c[0] for c in cases[:-1]]
    rng = random.Random(13)
    for agency in AGENCIES:
        for i, ref in enumerate(refs):
            rows = []
            for s in range(1, 25):
                rating = rng.choice(RATINGS)
                evidence = FORMULA_EVIDENCE if s == 13 else f"Seen in record {s}."
                rows.append((s, rating, evidence))
            # Agencies name files by their own case IDs: the manifest must not repeat them.
            write_toolkit(
                folder / "returns" / agency / f"{cases[i][3]}.xlsx",
                rows,
                agency=agency,
                case_id=ref,
                case_id_type="case_ref",
            )
    write_bulk_csv(
        folder / "returns" / "EDU" / "late.csv",
        ["agency", "case_id", "standard", "rating"],
        [["EDU", "C01", 1, "pending\r=1+1"], ["EDU", "C01", 2, "@SUM(A1)"]],
    )
    outside = root / "outside"
    outside.mkdir()
    (outside / "environ.csv").write_text(
        f"agency,case_id,standard,rating\nWMP,C01,1,{SECRET}\n", encoding="utf-8"
    )
    os.symlink(outside / "environ.csv", folder / "returns" / "WMP" / "environ.csv")
    (folder / "deep_dive.csv").write_text(
        f"case_ref,discussed\n{ESCAPING_REF},yes\nC01,yes\n", encoding="utf-8"
    )
    return folder


def tree(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``root`` except ``skip``'s: path -> (size, mtime)."""
    found = {}
    for path in root.rglob("*"):
        if skip == path or skip in path.parents:
            continue
        info = path.lstat()
        found[str(path)] = (info.st_size, info.st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The annual run and the case packs on the hostile cycle, with a --out holding
    braces: (root, out folder, the run's folder, the packs' folder, the tree before)."""
    from audit_analysis.pipeline.runner import run_annual, run_case_packs

    root = tmp_path_factory.mktemp("hostile")
    build_hostile_cycle(root)
    out = root / "out{cycle}{0}"
    before = tree(root, out)
    final = run_annual(root / "data", "2018-19", out=out, compare=[], progress=False)
    packs = run_case_packs(root / "data", "2018-19", out=out, progress=False)
    return root, out, final, packs, before


def _runs(cell: str) -> bool:
    """Would a spreadsheet run this cell? Text starting like a formula; numbers (-0.5)
    are numbers."""
    cell = cell.strip()
    if not cell.startswith(("=", "+", "-", "@", "＝", "＋", "－", "＠")):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def formula_cells(paths: list[Path]) -> list[tuple[str, str]]:
    """Cells of these CSVs that a spreadsheet would run: read with the csv module, and
    read as a careless importer would (a new record at any line break)."""
    found = []
    for path in paths:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for row in csv.reader(fh):
                found += [(path.name, c) for c in row if _runs(c)]
        text = path.read_text(encoding="utf-8-sig")
        for line in re.split(r"\r\n|\r|\n", text):
            for row in csv.reader([line]):
                found += [(path.name, line) for c in row if _runs(c)]
    return found


def libreoffice_formulas(paths: list[Path], tmp: Path) -> list[tuple[str, str]]:
    """Cells LibreOffice Calc makes formulas of, importing these CSVs with formulas
    evaluated (its default); skips the test when LibreOffice is not installed."""
    import shutil

    import openpyxl

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    converted = tmp / "converted"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp / 'lo-profile'}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--infilter=CSV:44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(converted),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = []
    for path in paths:
        book = openpyxl.load_workbook(converted / (path.stem + ".xlsx"))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                found += [(path.name, str(c.value)) for c in row if c.data_type == "f"]
    return found


# ================================================================ 2. hostile names


@pytest.mark.parametrize(
    "text",
    ["../../../../x", "a/b\\c", "{x}", ".", "..", "", "CON", "nul.txt", "é" * 300, "C07", "\x00"],
)
def test_safe_name_is_one_plain_name(text):
    from audit_analysis.paths import safe_name

    name = safe_name(text)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,79}", name), name
    assert name.split(".")[0].casefold() not in {"con", "nul"}
    reserved = text.split(".")[0].casefold() in {"con", "nul"}
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text) and not reserved:
        assert name == text  # ordinary references keep their names


def test_safe_names_of_different_texts_differ():
    from audit_analysis.paths import safe_name

    texts = ["C 01", "C_01", "C/01", "C?01", "C01", "../C01", "C01."]
    assert len({safe_name(t) for t in texts}) == len(texts)


def test_a_resolved_path_must_stay_inside_its_folder(tmp_path):
    from audit_analysis.paths import inside

    assert inside(tmp_path, "a.html") == (tmp_path / "a.html").resolve()
    for parts in (("..", "x"), ("/etc/passwd",), ("",)):
        with pytest.raises(AuditDataError, match="outside the output folder"):
            inside(tmp_path, *parts)
    os.symlink(tmp_path.parent, tmp_path / "up")
    with pytest.raises(AuditDataError, match="outside the output folder"):
        inside(tmp_path, "up", "x.html")


@pytest.mark.e2e  # the annual run and case packs: papermill kernels
def test_a_case_ref_that_is_a_path_writes_only_inside_out(hostile):
    root, out, final, packs, before = hostile
    assert tree(root, out) == before  # nothing written, or changed, outside --out
    assert packs == out.resolve() / "2018-19" / "case-packs"
    pages = sorted(p.name for p in packs.glob("*.html"))
    assert len(pages) == 2 and "C01.html" in pages
    (odd,) = [p for p in pages if p != "C01.html"]
    assert re.fullmatch(r"x_y-[0-9a-f]{8}\.html", odd)
    assert "Case pack: ../../../../x{y}" in (packs / odd).read_text(encoding="utf-8")
    assert (final / "index.html").is_file()  # papermill took the braces of --out as text


# ================================================================ 3. CSV formulas


HOSTILE_CELLS = [
    "pending\r=1+1",
    "note\n+SUM(A1)",
    "a\r\n@cmd",
    '=HYPERLINK("http://x")',
    "-2+3",
    "\tx",
    "＝1+1",
    "fine, = not a formula",
]


def test_csv_cells_never_become_formulas_whatever_line_breaks_they_hold(tmp_path):
    import pandas as pd

    from audit_analysis.render.outputs import write_csv

    frame = pd.DataFrame({"text": HOSTILE_CELLS, "n": range(len(HOSTILE_CELLS))})
    path = write_csv(frame, tmp_path / "t.csv")
    assert formula_cells([path]) == []
    back = pd.read_csv(path, dtype={"text": str})
    assert back["n"].tolist() == list(range(len(HOSTILE_CELLS)))  # numbers stay numbers
    assert back["text"][0] == "'pending\r'=1+1".replace("'p", "p")
    # The check itself can fail: the same cells written plainly hold formulas.
    naive = tmp_path / "naive.csv"
    frame.to_csv(naive, index=False, lineterminator="\n")
    assert formula_cells([naive])


def test_libreoffice_finds_no_formula_in_our_csv(tmp_path):
    import pandas as pd

    from audit_analysis.render.outputs import write_csv

    frame = pd.DataFrame({"text": HOSTILE_CELLS, "n": range(len(HOSTILE_CELLS))})
    ours = write_csv(frame, tmp_path / "ours.csv")
    naive = tmp_path / "naive.csv"
    frame.to_csv(naive, index=False, lineterminator="\n")
    assert libreoffice_formulas([naive], tmp_path)  # LibreOffice does run the plain ones
    assert libreoffice_formulas([ours], tmp_path) == []


@pytest.mark.e2e  # the annual run and case packs: papermill kernels
def test_no_csv_of_a_run_or_of_validate_holds_a_formula(hostile, tmp_path, capsys):
    from audit_analysis.pipeline.cli import main

    root, out, final, packs, _ = hostile
    log, grid = tmp_path / "rejections.csv", tmp_path / "compliance.csv"
    args = ["validate", str(root / "data"), "--cycle", "2018-19"]
    assert main([*args, "--rejections-csv", str(log), "--compliance-csv", str(grid)]) == 0
    capsys.readouterr()
    tables = sorted((final / "tables").glob("*.csv"))
    assert {"rejections.csv", "disagreement-register.csv"} <= {p.name for p in tables}
    register = (final / "tables" / "disagreement-register.csv").read_text(encoding="utf-8-sig")
    assert "HYPERLINK" in register  # the hostile evidence is there, defused
    assert "pending" in log.read_text(encoding="utf-8-sig")
    csvs = [*tables, log, grid]
    assert formula_cells(csvs) == []
    assert libreoffice_formulas(csvs, tmp_path) == []


# ================================================================ 4. templates


def _framework_with_text(folder: Path, text: str) -> None:
    import yaml

    from audit_analysis.io.frameworks import load_framework

    raw = yaml.safe_load(Path(load_framework("2018-19").source).read_text(encoding="utf-8"))
    raw["kloes"][0]["standards"][0]["text"] = text
    (folder / "framework.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def test_template_cells_from_data_are_always_text(tmp_path):
    import openpyxl

    from audit_analysis.admin.templates import write_templates

    folder = tmp_path / "data" / "2018-19"
    ref = '=HYPERLINK("http://evil.invalid","C09")'
    rows = [["C01", "neglect", "5", "1", "T1", "AB"], [ref, "neglect", "6", "2", "T2", "CD"]]
    write_cases(folder, rows=rows)
    _framework_with_text(folder, "=1+1 and the plan is SMART")
    made = write_templates(tmp_path / "data", "2018-19", tmp_path / "t", agencies=["WMP"])
    assert len(made.files) == 2
    texts = []
    for path in made.files:
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
                    texts.append(str(cell.value))
    assert ref in texts and "=1+1 and the plan is SMART" in texts
    assert any(f.name.startswith("WMP-2018-19-HYPERLINK") for f in made.files)


def test_a_control_character_is_caught_before_any_template_is_written(tmp_path, capsys):
    from audit_analysis.pipeline.cli import main

    folder = tmp_path / "data" / "2018-19"
    write_cases(
        folder, rows=[["C01", "neglect", "5", "1", "T1", "AB"], ["C\x0702", "", "", "", "", ""]]
    )
    out = tmp_path / "t"
    args = ["templates", "--data", str(tmp_path / "data"), "--cycle", "2018-19", "--out", str(out)]
    assert main([*args, "--agency", "WMP"]) == 0
    captured = capsys.readouterr()
    assert "row 3: case_ref holds a control or invisible character" in captured.err
    assert "\x07" not in captured.err + captured.out
    assert [p.name for p in (out / "WMP").iterdir()] == ["WMP-2018-19-C01.xlsx"]
    _framework_with_text(folder, "Plans are SMART\x07")
    out2 = tmp_path / "t2"
    args[-1] = str(out2)
    assert main([*args, "--agency", "WMP"]) == 1
    err = capsys.readouterr().err
    assert "standard 1 holds a control character" in err and "no template was written" in err
    assert "Traceback" not in err
    assert not list(out2.rglob("*.xlsx"))


# ================================================================ 6. identifiers


def test_a_rejected_cases_row_names_its_number_never_its_identifiers(tmp_path):
    import pandas as pd

    folder = tmp_path / "data" / "2018-19"
    write_cases(
        folder, rows=[["C01", "neglect", "5", "1", "T1", "AB"], ["", "neglect", "7", *LEAKS, "QQ"]]
    )
    data = load_cycle(folder.parent, "2018-19")
    row = data.rejections.iloc[0]
    assert (row["source_file"], row["source_row"]) == ("cases.csv", 3)
    assert "no case_ref" in row["reason"] and pd.isna(row["raw_value"])
    assert not any(leak in data.rejections.to_csv() for leak in LEAKS)


@pytest.mark.e2e  # the annual run and case packs: papermill kernels
def test_no_identifier_or_environment_value_in_any_output(hostile):
    _, out, final, packs, _ = hostile
    texts = every_file_text(out)
    assert len(texts) > 30
    for path, text in texts.items():
        for value in (*LEAKS, SECRET):
            assert value not in text, (path, value)
    quality = (final / "01-data-quality.html").read_text(encoding="utf-8")
    assert "cases.csv" in quality and "row has no case_ref" in quality


@pytest.mark.e2e  # the annual run and case packs: papermill kernels
def test_the_manifest_shows_safe_paths_and_hashes_and_says_who_may_read_it(hostile):
    root, _, final, _, _ = hostile
    manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    assert "QA group" in manifest["readers"]
    paths = {i["path"] for i in manifest["inputs"]}
    assert {"cases.csv", "deep_dive.csv"} <= paths
    returns = paths - {"cases.csv", "deep_dive.csv"}
    assert len(returns) == 4 * 7 + 1  # every toolkit and the bulk table; not the link
    assert all(
        re.fullmatch(r"returns/(WMP|CRC|CCG|EDU)/file-\d{4}\.(xlsx|csv)", p) for p in returns
    )
    text = json.dumps(manifest)
    for case in range(6):  # the returns are named by the agencies' CareFirst IDs
        assert f"90010{case}" not in text
    assert "environ" not in text  # a link is no input
    by_path = {i["path"]: i for i in manifest["inputs"]}
    cases = root / "data" / "2018-19" / "cases.csv"
    import hashlib

    assert by_path["cases.csv"]["sha256"] == hashlib.sha256(cases.read_bytes()).hexdigest()


@pytest.mark.e2e  # the annual run and case packs: papermill kernels
def test_outputs_that_can_name_cases_are_owner_only(hostile, tmp_path, capsys):
    from audit_analysis.pipeline.cli import main

    root, out, final, packs, _ = hostile
    for path in [final, *final.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    log = tmp_path / "new" / "rejections.csv"
    args = ["validate", str(root / "data"), "--cycle", "2018-19", "--rejections-csv", str(log)]
    assert main(args) == 0
    capsys.readouterr()
    assert log.stat().st_mode & 0o777 == 0o600
    assert log.parent.stat().st_mode & 0o777 == 0o700


# ================================================================ 7. YAML


BILLION_LAUGHS = """\
cycle: 2018-19
note: &a9 [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]
"""


def test_a_framework_with_aliases_is_refused_at_once(tmp_path):
    folder = tmp_path / "data" / "2018-19"
    write_cases(folder)
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        levels.append(f"a{i}: &a{i} [{refs}]")
    (folder / "framework.yaml").write_text(
        "cycle: 2018-19\n" + "\n".join(levels) + "\nnote: *a9\nkloes: []\n", encoding="utf-8"
    )
    script = (
        "import resource, sys\n"
        "from audit_analysis.pipeline.cli import main\n"
        f"status = main(['validate', {str(folder.parent)!r}, '--cycle', '2018-19'])\n"
        "print(status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    status, peak_kb = done.stdout.split()
    assert status == "1"
    assert "anchors and aliases" in done.stderr and "framework.yaml" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert int(peak_kb) * 1024 < 1e9


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("note: " + "x" * 20_000 + "\n", "20,000 characters long"),
        ("note: " + "[" * 5000 + "]" * 5000 + "\n", "nested"),
        ("note: x\n" + "#" * (1 << 20) + "\n", "over the 1,048,576"),
    ],
    ids=["long-text", "deep", "large-file"],
)
def test_a_framework_too_long_or_deep_is_one_line(tmp_path, text, words):
    folder = tmp_path / "data" / "2018-19"
    write_cases(folder)
    (folder / "framework.yaml").write_text("cycle: 2018-19\n" + text, encoding="utf-8")
    with pytest.raises(AuditDataError, match=words):
        load_cycle(folder.parent, "2018-19")


# ================================================================ 8. hard stops


def _marked(mark: str) -> list[int]:
    """Live processes whose environment holds ``mark`` (zombies have none to read)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _is_kernel(pid: int) -> bool:
    """A notebook kernel: forked from its worker (named so), or started as ipykernel."""
    from audit_analysis.pipeline.kernels import KERNEL_NAME

    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return name == KERNEL_NAME or "ipykernel" in _cmdline(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_after_sigkill_of_run_no_worker_or_kernel_stays_and_the_next_run_cleans_up(tmp_path):
    import signal
    import time
    import uuid

    build_hostile_cycle(tmp_path)
    out = tmp_path / "out"
    mark = f"AUDIT_TEST_MARK={uuid.uuid4().hex}"
    env = {**os.environ, mark.split("=")[0]: mark.split("=")[1]}
    command = [sys.executable, "-m", "audit_analysis", "run", "--data", str(tmp_path / "data")]
    run = subprocess.Popen(
        [*command, "--cycle", "2018-19", "--out", str(out), "--compare", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        kernels: list[int] = []
        while time.monotonic() < deadline and run.poll() is None:
            kernels = [p for p in _marked(mark) if _is_kernel(p)]
            if kernels and list(out.glob(".2018-19-*/.cache")):
                break
            time.sleep(0.1)
        assert run.poll() is None and kernels, "the run ended before its kernels started"
        assert len(_marked(mark)) >= 3  # the run, its workers, their kernels
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 60
        while _marked(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = {p: _cmdline(p) for p in _marked(mark)}
        assert not left, f"still running after the run was killed: {left}"
    finally:
        for pid in _marked(mark):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    stale = list(out.glob(".2018-19-*"))
    assert stale and (stale[0] / ".cache").exists()  # what a killed run leaves
    # The next run cleans it up at its start, under the lock, even when it then refuses.
    (tmp_path / "data" / "2018-19" / "returns").rename(tmp_path / "returns-away")
    done = subprocess.run(
        [*command, "--cycle", "2018-19", "--out", str(out), "--compare"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "no notebook was run" in done.stderr
    assert not list(out.glob(".2018-19-*"))


def test_two_runs_on_one_out_take_turns(tmp_path):
    import threading

    from audit_analysis.pipeline.runner import output_lock

    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom pathlib import Path\n"
            "from audit_analysis.pipeline.runner import output_lock\n"
            "with output_lock(Path(sys.argv[1])):\n"
            "    print('held', flush=True)\n    sys.stdin.readline()\n",
            str(out),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    (out / ".2018-19-abcd1234").mkdir()  # left by a run killed before the holder started
    taken = threading.Event()

    def second() -> None:
        with output_lock(out):
            taken.set()

    thread = threading.Thread(target=second, daemon=True)
    thread.start()
    assert not taken.wait(1.0)  # waits while the other run holds the lock
    assert (out / ".2018-19-abcd1234").exists()  # and touches nothing meanwhile
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.wait(30) == 0
    assert taken.wait(30)
    assert not (out / ".2018-19-abcd1234").exists()


def test_pool_workers_are_set_to_die_with_the_run():
    """The initializer every pool worker of a run gets: the worker ends when the process
    that started it is gone (as the runner does, it is given the run's process id, taken
    before the worker starts: the run may be gone before the initializer runs)."""
    script = textwrap.dedent(
        """
        import os, sys, time
        from audit_analysis.pipeline.runner import _worker_start
        pid = os.fork()
        if pid == 0:                 # the would-be run
            run = os.getpid()
            worker = os.fork()
            if worker == 0:          # its worker, holding no pipe of the test's open
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
                _worker_start(run)
                time.sleep(60)       # outlives the test's deadline unless it is ended
                os._exit(0)
            print(worker, flush=True)
            os._exit(0)              # the run dies at once, without waiting
        os.waitpid(pid, 0)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    worker = int(done.stdout.strip())
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{worker}/stat")
        if not stat.exists() or stat.read_text().split(") ")[1].startswith("Z"):
            break
        time.sleep(0.05)
    else:
        os.kill(worker, 9)
        pytest.fail("the worker outlived its parent")


# ================================================================ 9. errors a user can cause


@pytest.fixture
def readonly(tmp_path) -> Path:
    """A folder nothing can be written in (root writes anywhere chmod allows: /sys/fs)."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if not Path("/sys/fs").is_dir():
        pytest.skip("no read-only folder for root to write in")
    yield Path("/sys/fs")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit_analysis", *args], capture_output=True, text=True
    )


def _one_line(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_readonly_or_full_output_is_one_line_naming_the_file(cycle_dir, readonly, tmp_path):
    write_toolkit(cycle_dir / "returns" / "a.xlsx", GOOD_ROWS)
    data = str(cycle_dir.parent)
    log = readonly / "audit-rejections.csv"
    _one_line(_cli("validate", data, "--cycle", "2018-19", "--rejections-csv", str(log)), str(log))
    _one_line(
        _cli("validate", data, "--cycle", "2018-19", "--compliance-csv", "/dev/full"),
        "/dev/full",
        "No space left on device",
    )
    out = str(readonly / "audit-out")
    _one_line(_cli("run", "--data", data, "--cycle", "2018-19", "--out", out), out)
    _one_line(
        _cli(
            "case-packs", "--data", data, "--cycle", "2018-19", "--cases", "C01", "--out", str(out)
        ),
        str(out),
    )
    _one_line(_cli("templates", "--data", data, "--cycle", "2018-19", "--out", str(out)), str(out))
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    _one_line(
        _cli("validate", data, "--cycle", "2018-19", "--rejections-csv", str(blocked / "r.csv")),
        str(blocked),
    )


def test_a_field_over_the_csv_limit_is_a_rejected_row_not_a_traceback(cycle_dir, capsys):
    from audit_analysis.pipeline.cli import main

    huge = "x" * 200_000
    write_cases(
        cycle_dir, rows=[["C01", "neglect", "4", "1", "T1", "AB"], ["C02", huge, "5", "2", "", ""]]
    )
    (cycle_dir / "deep_dive.csv").write_text(
        f"case_ref,discussed,themes\nC01,yes,{huge}\nC01,no,\n", encoding="utf-8"
    )
    write_bulk_csv(
        cycle_dir / "returns" / "bulk.csv",
        ["agency", "case_id", "standard", "rating", "evidence"],
        [["WMP", "C01", 1, "met", huge], ["WMP", "C01", 2, "met", "fine"]],
    )
    assert main(["validate", str(cycle_dir.parent), "--cycle", "2018-19"]) == 0
    out = capsys.readouterr().out
    assert "Ratings: 1 accepted" in out
    for where in ("cases.csv, row 3", "deep_dive.csv, row 2", "returns/bulk.csv, row 2"):
        assert f"{where}: a cell is longer than 131,072 characters" in out
    data = load_cycle(cycle_dir.parent, "2018-19")
    assert_accounted(data)
    assert list(data.cases["case_ref"]) == ["C01"]


def test_validate_into_a_closed_pipe_ends_quietly(cycle_dir):
    rows = [["WMP", "C01", 1, f"word{i}"] for i in range(4000)]  # a report of 300 KB
    write_bulk_csv(
        cycle_dir / "returns" / "a.csv", ["agency", "case_id", "standard", "rating"], rows
    )
    command = f"{sys.executable} -m audit_analysis validate {cycle_dir.parent} --cycle 2018-19"
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -n 1"], capture_output=True, text=True
    )
    assert done.stdout.startswith("Audit cycle 2018-19")
    assert done.stderr == ""
    assert done.returncode == 141


# ================================================================ 10. terminal escapes


def test_control_characters_are_escaped_before_printing(cycle_dir, capsys):
    from audit_analysis.pipeline.cli import main

    write_cases(
        cycle_dir,
        rows=[["C01", "neglect", "4", "1", "T1", "AB"], ["C\x1b[2J02", "neglect", "5", "", "", ""]],
    )
    write_toolkit(cycle_dir / "returns" / "evil\x1b]0;title\x07\u202e.xlsx", GOOD_ROWS, agency="?")
    header = ["agency", "case_id", "standard", "rating"]
    write_bulk_csv(cycle_dir / "returns" / "b.csv", header, [["WMP", "C01", 1, "\x1b[31mmet"]])
    (cycle_dir / "returns" / "note\x1b[1A.txt").write_text("x")
    assert main(["validate", str(cycle_dir.parent), "--cycle", "2018-19"]) == 0
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert "\x1b" not in printed and "\x07" not in printed and "\u202e" not in printed
    assert "returns/evil\\x1b]0;title\\x07\\u202e.xlsx" in printed
    assert "returns/note\\x1b[1A.txt" in printed
    assert "C\\x1b[2J02" in printed and "\\x1b[31mmet" in printed


# ================================================================ 11. nothing to analyse


@pytest.mark.parametrize("returns", ["none", "all-rejected", "all-n/a"])
def test_a_cycle_with_nothing_to_analyse_is_refused_before_any_notebook(cycle_dir, returns):
    r = cycle_dir / "returns"
    if returns == "all-rejected":
        write_toolkit(r / "a.xlsx", [(1, "TBC", None), (2, "pending", None)])
        strings_bomb(r / "b.xlsx")
    elif returns == "all-n/a":
        write_toolkit(r / "a.xlsx", [(1, "N/A", None), (2, None, None)])
    out = cycle_dir.parent.parent / "out"
    (out / "2018-19").mkdir(parents=True)
    (out / "2018-19" / "keep.txt").write_text("last year's run")
    done = _cli("run", "--data", str(cycle_dir.parent), "--cycle", "2018-19", "--out", str(out))
    _one_line(done, "no rating (exceeded, met, partially met or unmet) was accepted for 2018-19")
    assert "no notebook was run" in done.stderr
    assert sorted(p.name for p in out.rglob("*")) == ["2018-19", "keep.txt"]
