"""The synthetic demo data generator and the toolkit writers it uses."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from audit_analysis.admin.toolkit import FIXED_TIME, write_bulk_csv, write_toolkit
from audit_analysis.demo import generator as demo
from audit_analysis.io.agencies import agency_codes, resolve_agency
from audit_analysis.io.frameworks import load_framework
from audit_analysis.io.text import label_key

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data" / "demo"
REGENERATE = (
    'python -c "from pathlib import Path; from audit_analysis.demo import generate; '
    "generate(Path('data/demo'))\""
)


@pytest.fixture(scope="module")
def generations(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    """Two generations with the default seed: one here, one in another Python process
    (run at the same time, to keep the tests fast; a different process also has a
    different string-hash seed, so nothing may depend on set or hash order)."""
    here, there = tmp_path_factory.mktemp("demo-a"), tmp_path_factory.mktemp("demo-b")
    # A stale file in a cycle folder must go; a file beside the cycles must stay.
    (there / "2018-19" / "returns").mkdir(parents=True)
    (there / "2018-19" / "returns" / "stale.xlsx").write_bytes(b"old")
    (there / "keep.txt").write_text("not generated")
    code = "import sys; from pathlib import Path; from audit_analysis.demo import generate; "
    code += "generate(Path(sys.argv[1]))"
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    other = subprocess.Popen([sys.executable, "-c", code, str(there)], cwd=REPO, env=env)
    try:
        summary = demo.generate(here)
    finally:
        assert other.wait(timeout=300) == 0
    return here, summary, there


@pytest.fixture(scope="module")
def fresh(generations) -> tuple[Path, dict]:
    return generations[0], generations[1]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _raw_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in _files(root)
    }


def _content_hash(path: Path) -> str:
    """A file's bytes; for a readable zip (a workbook) its entries' names, timestamps and
    uncompressed bytes, so a zlib build that deflates differently cannot fail the test."""
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                digest.update(f"{info.filename}|{info.date_time}|".encode())
                digest.update(zf.read(info))
    except zipfile.BadZipFile:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_cases(folder: Path) -> list[dict[str, str]]:
    with (folder / "cases.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --- determinism ----------------------------------------------------------------------
def test_same_seed_gives_byte_identical_trees(generations):
    here, _, there = generations
    assert (there / "keep.txt").read_text() == "not generated"
    assert not (there / "2018-19" / "returns" / "stale.xlsx").exists()
    (there / "keep.txt").unlink()
    assert _raw_hashes(there) == _raw_hashes(here)


def test_committed_demo_data_equals_a_fresh_generation(fresh):
    first, _ = fresh
    assert COMMITTED.is_dir(), f"data/demo is missing; regenerate it with {REGENERATE}"
    committed = {p.relative_to(COMMITTED).as_posix(): _content_hash(p) for p in _files(COMMITTED)}
    generated = {p.relative_to(first).as_posix(): _content_hash(p) for p in _files(first)}
    differ = sorted(
        k for k in committed.keys() | generated.keys() if committed.get(k) != generated.get(k)
    )
    assert not differ, f"data/demo differs from the generator in {differ[:5]}; run {REGENERATE}"


def test_demo_is_modest_and_says_it_is_synthetic(fresh):
    first, summary = fresh
    assert sum(p.stat().st_size for p in _files(first)) < 4_500_000
    readme = (first / "README.md").read_text(encoding="utf-8")
    assert "ALL OF IT IS SYNTHETIC" in readme
    assert set(summary["cycles"]) == set(demo.CYCLES)


# --- the cohort -----------------------------------------------------------------------
def test_2018_19_ages_match_the_report_table(fresh):
    cases = _read_cases(fresh[0] / "2018-19")
    assert Counter(int(c["age"]) for c in cases) == {
        2: 2, 4: 2, 5: 2, 7: 2, 11: 2, 12: 2, 13: 2, 14: 2, 15: 1, 16: 2, 17: 3, 18: 1, 21: 1,
    }  # fmt: skip
    exploitation = [int(c["age"]) for c in cases if c["priority"] == "exploitation"]
    others = [int(c["age"]) for c in cases if c["priority"] != "exploitation"]
    assert min(exploitation) >= max(others)  # report 2.3.7: the teenagers


@pytest.mark.parametrize("cycle", demo.CYCLES)
def test_eight_cases_per_priority(fresh, cycle):
    cases = _read_cases(fresh[0] / cycle)
    assert [c["case_ref"] for c in cases] == [f"C{i:02d}" for i in range(1, 25)]
    assert Counter(c["priority"] for c in cases) == {
        "early_help": 8,
        "neglect": 8,
        "exploitation": 8,
    }
    assert list(cases[0]) == [
        "case_ref",
        "priority",
        "age",
        "carefirst_id",
        "tribal_id",
        "initials",
    ]
    assert all(0 <= int(c["age"]) <= 21 for c in cases)
    for column in ("carefirst_id", "tribal_id"):
        ids = [c[column] for c in cases if c[column]]
        assert len(ids) == len(set(ids))


def test_exactly_one_pair_shares_initials_in_2018_19(fresh):
    cases = _read_cases(fresh[0] / "2018-19")
    counts = Counter(c["initials"] for c in cases)
    shared = [i for i, n in counts.items() if n > 1]
    assert len(shared) == 1 and counts[shared[0]] == 2
    assert [c["case_ref"] for c in cases if c["initials"] == shared[0]] == ["C05", "C17"]


def test_agency_names_written_resolve_to_their_codes():
    assert set(demo.AGENCY_NAMES) == set(agency_codes())
    for code, name in demo.AGENCY_NAMES.items():
        assert resolve_agency(name) == code
    assert resolve_agency(demo.UNKNOWN_AGENCY) is None


# --- the toolkit writer ---------------------------------------------------------------
def _labelled_values(ws) -> dict[str, object]:
    """Label -> the next non-empty cell to its right, as docs/data-contract.md finds them."""
    found = {}
    for row in ws.iter_rows():
        for i, cell in enumerate(row):
            if isinstance(cell.value, str) and cell.value.strip().endswith(":"):
                right = [c.value for c in row[i + 1 :] if c.value not in (None, "")]
                found[label_key(cell.value)] = right[0] if right else None
    return found


def test_write_toolkit_layout(tmp_path):
    fw = load_framework("2018-19")
    path = tmp_path / "t.xlsx"
    rows = {1: ("Met", "Referral wording mirrors the threshold descriptors."), 2: ("Not met", None)}
    write_toolkit(
        path,
        fw,
        agency="CCG",
        case_id=912345,
        case_id_type="CareFirst ID",
        audit_cycle="2018-19",
        template_version="2018-19",
        auditor="Auditor A (synthetic)",
        date_completed=dt.date(2018, 9, 3),
        rows=rows,
        notes={13: "Auditor note: invented."},
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Audit", "Guidance"]
    ws = wb["Audit"]
    head = _labelled_values(ws)
    assert head["agency"] == "CCG"
    assert head["case id"] == 912345 and ws.cell(3, 2).data_type == "n"
    assert head["case id type"] == "CareFirst ID"
    assert head["audit cycle"] == "2018-19"
    assert head["template version"] == "2018-19"
    assert head["auditor"] == "Auditor A (synthetic)"
    assert head["date completed"] == dt.datetime(2018, 9, 3)

    values = [[c.value for c in r] for r in ws.iter_rows()]
    header_at = next(i for i, r in enumerate(values) if "Standard" in r and "Rating" in r)
    header = values[header_at]
    assert header[:5] == ["KLOE", "Standard", "Standard wording", "Rating", "Evidence"]
    assert all(v is None for v in values[header_at - 1])  # a blank row above the table
    col = {name: header.index(name) for name in ("Standard", "Rating", "Evidence")}
    body = [r for r in values[header_at + 1 :] if any(v is not None for v in r)]
    numbers = [r[col["Standard"]] for r in body if isinstance(r[col["Standard"]], int)]
    assert numbers == [s.number for s in fw.standards]
    by_number = {r[col["Standard"]]: r for r in body}
    assert by_number[1][col["Rating"]] == "Met"
    assert by_number[1][col["Evidence"]].startswith("Referral wording")
    assert by_number[2][col["Rating"]] == "Not met" and by_number[2][col["Evidence"]] is None
    assert by_number[3][col["Rating"]] is None  # not in rows: blank rating
    note_at = [r[col["Standard"]] for r in body].index("Auditor note: invented.")
    assert body[note_at - 1][col["Standard"]] == 13 and body[note_at][col["Rating"]] is None
    assert wb.properties.created == FIXED_TIME and wb.properties.modified == FIXED_TIME


def test_write_toolkit_is_deterministic_and_keeps_old_numbering(tmp_path):
    old = load_framework("2017-18")
    paths = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    for p in paths:
        write_toolkit(p, old, agency="SCH", case_id="AB", template_version="2017-18")
    assert paths[0].read_bytes() == paths[1].read_bytes()
    with zipfile.ZipFile(paths[0]) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    ws = openpyxl.load_workbook(paths[0])["Audit"]
    numbers = [r[1] for r in ws.iter_rows(values_only=True) if isinstance(r[1], int)]
    assert numbers == list(range(1, 24))  # 23 standards, no standard 14 of 2018-19


def test_write_bulk_csv(tmp_path):
    rows = [
        {"agency": "WMP", "case_id": "912345", "case_id_type": "CareFirst ID", "standard": 1,
         "rating": "MET", "evidence": "Officer\u2019s notes checked."},
        {"agency": "WMP", "case_id": "912345", "standard": 2, "rating": "N/A"},
    ]  # fmt: skip
    path = write_bulk_csv(tmp_path / "a.csv", rows, encoding="cp1252", include_agency=False)
    data = path.read_bytes()
    assert b"\x92" in data and data.count(b"\r\n") == 3
    lines = data.decode("cp1252").splitlines()
    assert lines[0] == "case_id,case_id_type,standard,rating,evidence"
    assert lines[2] == "912345,,2,N/A,"
    write_bulk_csv(tmp_path / "b.csv", rows, encoding="cp1252", include_agency=False)
    assert (tmp_path / "b.csv").read_bytes() == data
    with_agency = write_bulk_csv(tmp_path / "c.csv", rows).read_bytes().decode("utf-8")
    assert with_agency.startswith("agency,case_id,case_id_type,standard,rating,evidence\r\n")


# --- the generated files, as the loader reads them --------------------------------------
def test_2018_19_quirks_are_where_the_summary_says(fresh):
    first, summary = fresh
    folder = first / "2018-19"
    quirks = {q["quirk"]: q["files"] for q in summary["cycles"]["2018-19"]["quirks"]}
    wmp = folder / "returns" / "WMP" / "wmp-audit-2018-19.csv"
    data = wmp.read_bytes()
    assert b"\x92" in data  # a cp1252-only curly apostrophe
    header = data.decode("cp1252").splitlines()[0].lower()
    assert "agency" not in header
    assert (folder / "returns" / "notes.txt").is_file()
    assert any(p.name.startswith("~$") for p in (folder / "returns").rglob("*.xlsx"))
    for files in quirks.values():
        assert all((folder / f).is_file() for f in files)
    assert sum("last year's template" in q for q in quirks) == 1


def test_loading_the_2018_19_demo(fresh):
    from audit_analysis.io.dataset import load_cycle

    first, summary = fresh
    quirks = {q["quirk"]: q["files"] for q in summary["cycles"]["2018-19"]["quirks"]}

    def files_of(words: str) -> list[str]:
        return next(files for q, files in quirks.items() if words in q)

    data = load_cycle(first, "2018-19")
    assert set(data.ratings["agency"]) == set(agency_codes())
    sch = data.returns[data.returns["agency"] == "SCH"]
    assert set(sch["template_version"]) == {"2017-18", "2018-19"}
    old = data.ratings[data.ratings["source_file"].isin(files_of("last year's template"))]
    assert not old.empty and "roles-in-complex-cases" not in set(old["standard_key"])

    rejected = data.rejections
    corrupt, unknown, ambiguous = (
        files_of("corrupt workbook")[0],
        files_of("unknown agency")[0],
        files_of("ambiguous")[0],
    )
    for whole in (corrupt, unknown):
        rows = rejected[rejected["source_file"] == whole]
        assert len(rows) == 1 and rows["source_row"].isna().all()
    assert (
        "Solihull Leisure Services"
        in rejected.loc[rejected["source_file"] == unknown, "reason"].iloc[0]
    )
    amb = rejected[rejected["source_file"] == ambiguous]
    assert len(amb) > 0 and amb["reason"].str.contains("JS").all()
    assert ambiguous not in set(data.ratings["source_file"])
    assert "Met?" in set(rejected["raw_value"].astype(str))
    skipped = set(data.returns.loc[data.returns["status"] == "skipped", "source_file"])
    assert skipped == set(files_of("lock file") + files_of("text file"))
    wmp = data.ratings[data.ratings["agency"] == "WMP"]
    assert wmp["evidence"].dropna().str.contains("\u2019").any()
