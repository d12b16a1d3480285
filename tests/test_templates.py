"""Audit return templates, a new cycle in one command, and the compliance view.

Every cohort here is conftest's small synthetic one; every identifier is invented.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from conftest import CASES, CASES_HEADER, write_cases

from audit_analysis import load_cycle
from audit_analysis.admin.templates import (
    EVIDENCE_NEEDED,
    RATING_CHOICES,
    template_path,
    write_template,
    write_templates,
)
from audit_analysis.analysis.quality import COMPLIANCE_CODES, compliance, compliance_grid
from audit_analysis.io.agencies import resolve_agency
from audit_analysis.io.frameworks import load_framework
from audit_analysis.io.ratings import CATEGORIES, NOT_RECORDED, parse_rating, rating_words
from audit_analysis.io.returns import read_excel
from audit_analysis.pipeline.cli import main

AGENCIES = ["WMP", "CCG"]
# Every identifier of the crosswalk other than case_ref: none may appear in a template.
IDENTIFIERS = sorted({v for row in CASES for v in row[3:] if v})


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """``data/2017-18`` and ``data/2018-19``, both with conftest's cohort."""
    root = tmp_path_factory.mktemp("templates") / "data"
    for cycle in ("2017-18", "2018-19"):
        write_cases(root / cycle)
        (root / cycle / "returns").mkdir()
    return root


@pytest.fixture(scope="module")
def made(data_dir: Path):
    return write_templates(data_dir, "2018-19", data_dir.parent / "templates", agencies=AGENCIES)


def _audit(path: Path):
    return openpyxl.load_workbook(path)["Audit"]


def _table(ws) -> tuple[int, dict[str, int]]:
    """The standards table's header row and its columns (1-based)."""
    for row in ws.iter_rows():
        values = [c.value for c in row]
        if "Standard" in values and "Rating" in values:
            return row[0].row, {v: i + 1 for i, v in enumerate(values) if isinstance(v, str)}
    raise AssertionError("no standards table")


def _standard_rows(ws) -> dict[int, int]:
    """Standard number -> its row."""
    head, col = _table(ws)
    return {
        ws.cell(r, col["Standard"]).value: r
        for r in range(head + 1, ws.max_row + 1)
        if isinstance(ws.cell(r, col["Standard"]).value, int)
    }


def _fill(src: Path, dest: Path, entries: dict[int, tuple[str | None, str | None]], **head):
    """Fill a template as an auditor would: ratings, evidence, auditor and date."""
    wb = openpyxl.load_workbook(src)
    ws = wb["Audit"]
    _, col = _table(ws)
    rows = _standard_rows(ws)
    for number, (rating, evidence) in entries.items():
        ws.cell(rows[number], col["Rating"], rating)
        ws.cell(rows[number], col["Evidence"], evidence)
    labels = {
        str(c.value).rstrip(":").casefold(): c.row
        for c in ws["A"]
        if isinstance(c.value, str) and c.value.endswith(":")
    }
    ws.cell(labels["auditor"], 2, "Auditor X (synthetic)")
    ws.cell(labels["date completed"], 2, "03/09/2018")
    for label, value in head.items():
        ws.cell(labels[label.replace("_", " ")], 2, value)
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


def _fresh_cycle(tmp_path: Path, cycle: str = "2018-19") -> Path:
    folder = tmp_path / "data" / cycle
    write_cases(folder)
    (folder / "returns").mkdir()
    return folder


# --- what is written ------------------------------------------------------------------
def test_one_template_per_agency_per_case_named_for_its_reader(made, data_dir):
    out = data_dir.parent / "templates"
    expected = {template_path(out, a, "2018-19", row[0]) for a in AGENCIES for row in CASES}
    assert set(made.files) == expected and len(made.files) == 8
    assert {p.relative_to(out).as_posix() for p in made.files if p.parent.name == "WMP"} == {
        f"WMP/WMP-2018-19-C0{i}.xlsx" for i in range(1, 5)
    }
    assert made.template_version == "2018-19" and made.warnings == []


def test_header_block_is_filled_in_and_read_by_the_loader(made):
    path = next(p for p in made.files if p.name == "CCG-2018-19-C03.xlsx")
    header = read_excel(path).header  # the loader's own reading of the labels
    assert resolve_agency(header["agency"]) == "CCG"
    assert header["case_id"] == "C03" and header["case_id_type"] == "case_ref"
    assert header["audit_cycle"] == "2018-19" and header["template_version"] == "2018-19"
    assert header["auditor"] is None and header["date_completed"] is None


def test_every_standard_under_its_kloe_with_its_full_wording(made):
    fw = load_framework("2018-19")
    ws = _audit(made.files[0])
    head, col = _table(ws)
    seen, kloe = [], None
    for r in range(head + 1, ws.max_row + 1):
        first, number = ws.cell(r, 1).value, ws.cell(r, col["Standard"]).value
        if isinstance(number, int):
            std = fw.by_number(number)
            assert kloe == std.kloe, f"standard {number} is not under KLOE {std.kloe}"
            assert ws.cell(r, col["Standard wording"]).value == std.text
            seen.append(number)
        elif isinstance(first, str) and first.startswith("KLOE "):
            kloe = int(re.match(r"KLOE (\d+):", first).group(1))
            assert fw.kloe(kloe).title in first
    assert seen == [s.number for s in fw.standards]


def test_guidance_row_says_met_or_exceeded_needs_evidence(made):
    ws = _audit(made.files[0])
    head, _ = _table(ws)
    above = " ".join(str(c.value) for row in ws.iter_rows(max_row=head - 1) for c in row if c.value)
    assert "A rating of Exceeded or Met needs evidence" in above
    assert set(EVIDENCE_NEEDED) == {"Exceeded", "Met"}


def test_rating_drop_down_on_every_rating_cell_rejects_other_words(made):
    for path in made.files:
        ws = _audit(path)
        _, col = _table(ws)
        rows = _standard_rows(ws)
        lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        assert len(lists) == 1
        dv = lists[0]
        assert dv.formula1 == '"Exceeded,Met,Partially met,Not met,N/A"'
        assert dv.showErrorMessage and dv.errorStyle in (None, "stop") and dv.error
        assert dv.allow_blank  # a blank rating is "not recorded", not an error
        for r in rows.values():
            assert ws.cell(r, col["Rating"]).coordinate in dv.sqref
            assert ws.cell(r, col["Evidence"]).coordinate not in dv.sqref
        assert sum(rng.size["rows"] for rng in dv.sqref.ranges) == len(rows)


def test_every_drop_down_word_is_a_rating_and_every_rating_is_offered():
    parsed = [parse_rating(w) for w in RATING_CHOICES]
    assert None not in parsed and len(set(parsed)) == len(parsed)
    assert set(parsed) == set(CATEGORIES) - {NOT_RECORDED}


def test_only_the_input_cells_are_unlocked(made):
    wb = openpyxl.load_workbook(made.files[0])
    ws = wb["Audit"]
    assert ws.protection.sheet and wb["Guidance"].protection.sheet
    assert not ws.protection.password  # guards against slips; documented, no secret
    _, col = _table(ws)
    rows = _standard_rows(ws)
    inputs = {ws.cell(r, col[c]).coordinate for r in rows.values() for c in ("Rating", "Evidence")}
    labels = {c.value: c.row for c in ws["A"] if isinstance(c.value, str)}
    inputs |= {f"B{labels['Auditor:']}", f"B{labels['Date completed:']}"}
    anchor = {  # a merged cell belongs to its range's top-left cell
        f"{openpyxl.utils.get_column_letter(col)}{row}": rng.start_cell.coordinate
        for rng in ws.merged_cells.ranges
        for row, col in rng.cells
    }
    unlocked = {
        anchor.get(c.coordinate, c.coordinate)
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row + 5, max_col=ws.max_column + 3)
        for c in row
        if not c.protection.locked
    }
    assert unlocked == inputs
    guide = wb["Guidance"]
    assert all(c.protection.locked for row in guide.iter_rows() for c in row)


def test_printing_is_set_up_for_a4_landscape(made):
    ws = _audit(made.files[0])
    head, _ = _table(ws)
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.fitToWidth) == 1
    assert int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows == f"${head}:${head}"


def test_no_identifier_other_than_case_ref_anywhere(made):
    assert IDENTIFIERS  # carefirst, tribal and initials values of the crosswalk
    words = re.compile(r"\b(" + "|".join(map(re.escape, IDENTIFIERS)) + r")\b")
    for path in made.files:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value is not None:
                        assert not words.search(str(cell.value)), (path.name, cell.coordinate)
        with zipfile.ZipFile(path) as zf:  # headers, footers, properties, names: all of it
            for info in zf.infolist():
                text = zf.read(info).decode("utf-8")
                assert not words.search(text), (path.name, info.filename)
    assert not any(words.search(p.name) for p in made.files)


def test_templates_are_deterministic(tmp_path):
    fw = load_framework("2018-19")
    paths = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    for p in paths:
        write_template(p, fw, agency="SCH", case_ref="C09", cycle="2018-19")
    assert paths[0].read_bytes() == paths[1].read_bytes()


# --- the round trip -------------------------------------------------------------------
def test_filled_templates_round_trip_every_rating_word(made, tmp_path):
    folder = _fresh_cycle(tmp_path)
    fw = load_framework("2018-19")
    numbers = [s.number for s in fw.standards]
    spellings = [w for words in rating_words().values() for w in words]
    entered: dict[tuple[str, str], dict[int, tuple[str | None, str | None]]] = {}
    # WMP C01: the drop-down's words, each with and without evidence; one left blank.
    choices = [(w, e) for w in RATING_CHOICES for e in (f"Evidence for {w}: noted.", None)]
    entered[("WMP", "C01")] = dict(zip(numbers, [*choices, (None, None)], strict=False))
    # CCG C02: every spelling the loader accepts, typed rather than picked.
    entered[("CCG", "C02")] = {
        n: (spellings[i % len(spellings)], "Seen in the case record." if i % 3 else None)
        for i, n in enumerate(numbers)
    }
    for (agency, case_ref), entries in entered.items():
        src = next(p for p in made.files if p.name == f"{agency}-2018-19-{case_ref}.xlsx")
        _fill(src, folder / "returns" / agency / src.name, entries)

    data = load_cycle(folder.parent, "2018-19")
    assert data.rejections.empty
    assert set(data.returns["status"]) == {"loaded"}
    assert set(data.returns["template_version"]) == {"2018-19"}
    for (agency, case_ref), entries in entered.items():
        mine = data.ratings[
            (data.ratings["agency"] == agency) & (data.ratings["case_ref"] == case_ref)
        ]
        assert len(mine) == len(numbers)  # every standard row, blank ones as not recorded
        got = {
            r.standard: (r.rating, None if pd.isna(r.evidence) else r.evidence)
            for r in mine.itertuples()
        }
        for number in numbers:
            rating, evidence = entries.get(number, (None, None))
            assert got[number] == (parse_rating(rating), evidence), (agency, number)
    assert {parse_rating(w) for w, _ in choices} <= set(data.ratings["rating"].astype(str))


def test_an_earlier_template_loads_renumbered(data_dir, tmp_path):
    """An agency reusing last year's template for this year's case: the template version
    written on it makes the loader read it with last year's numbering."""
    old = write_templates(data_dir, "2017-18", tmp_path / "old", agencies=["SCH"], cases=["C02"])
    fw_old, fw_new = load_framework("2017-18"), load_framework("2018-19")
    assert len(fw_old.standards) == 23
    entries = {s.number: ("Met", f"Evidence for {s.key}.") for s in fw_old.standards}
    folder = _fresh_cycle(tmp_path)
    _fill(old.files[0], folder / "returns" / "SCH" / "reused.xlsx", entries, audit_cycle="2018-19")
    _fill(old.files[0], folder / "returns" / "SCH" / "unchanged.xlsx", entries)

    data = load_cycle(folder.parent, "2018-19")
    returns = data.returns.set_index("source_file")
    assert returns.at["returns/SCH/reused.xlsx", "template_version"] == "2017-18"
    assert returns.at["returns/SCH/reused.xlsx", "status"] == "loaded"
    ratings = data.ratings[data.ratings["source_file"] == "returns/SCH/reused.xlsx"]
    assert len(ratings) == 23
    for r in ratings.itertuples():  # each standard under this year's number, by key
        assert fw_new.by_number(r.standard).key == r.standard_key
        assert r.evidence == f"Evidence for {r.standard_key}."
    assert "roles-in-complex-cases" not in set(ratings["standard_key"])  # today's 14
    assert ratings.set_index("standard_key").at["partners-engaged", "standard"] == 5  # was 1
    # Left saying 'Audit cycle 2017-18' as last year's form does, it is read the same
    # way: its 23 rows are the same agency, case and standards, so each is a duplicate.
    assert len(data.rejections) == 23
    assert set(data.rejections["source_file"]) == {"returns/SCH/unchanged.xlsx"}
    assert data.rejections["reason"].str.contains("duplicate: SCH already rated case C02").all()


# --- the command ----------------------------------------------------------------------
def test_templates_command(data_dir, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["templates", "--data", str(data_dir), "--cycle", "2018/19", "--out", str(out)]
    assert main([*args, "--agency", "West Midlands Police", "uhb-hoeft", "--cases", "c02"]) == 0
    assert "2 templates for 2018-19" in capsys.readouterr().out
    assert sorted(p.name for p in out.rglob("*.xlsx")) == [
        "UHB-2018-19-C02.xlsx",
        "WMP-2018-19-C02.xlsx",
    ]
    for extra, message in (
        (["--agency", "Police"], "unknown agency 'Police'"),
        (["--cases", "C99"], "case 'C99' is not in cases.csv"),
        (["--agency", "WMP", "--cases", "C02"], "already exist"),
    ):
        assert main([*args, *extra]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert main([*args, "--agency", "WMP", "--cases", "C02", "--force"]) == 0
    inside = data_dir / "2018-19" / "returns" / "blank"
    assert main([*args[:-1], str(inside), "--agency", "WMP"]) == 1
    assert "overlaps the input folder" in capsys.readouterr().err
    assert not inside.exists()
    assert main(["templates", "--data", str(tmp_path / "none"), "--cycle", "2018-19",
                 "--out", str(out)]) == 1  # fmt: skip


def test_templates_need_a_cohort(tmp_path, capsys):
    folder = tmp_path / "data" / "2018-19"
    write_cases(folder, rows=[])
    assert main(["templates", "--data", str(folder.parent), "--cycle", "2018-19",
                 "--out", str(tmp_path / "out")]) == 1  # fmt: skip
    assert "cases.csv lists no cases" in capsys.readouterr().err


# --- a new cycle ----------------------------------------------------------------------
def test_new_cycle_starts_the_next_year(data_dir, tmp_path, capsys):
    root = tmp_path / "data"
    shutil.copytree(data_dir / "2018-19", root / "2018-19")
    assert main(["new-cycle", "--data", str(root), "--from", "2018-19", "--to", "2019-20"]) == 0
    out = capsys.readouterr().out
    folder = root / "2019-20"
    assert "Cycle 2019-20 started" in out and "templates --data" in out
    assert (folder / "returns").is_dir() and not any((folder / "returns").iterdir())
    header = (folder / "cases.csv").read_text(encoding="utf-8")
    assert header == "case_ref,priority,age," + ",".join(CASES_HEADER[3:]) + "\n"

    new, old = load_framework("2019-20", root), load_framework("2018-19", root)
    assert new.cycle == "2019-20" and not new.reconstructed and "Copied from" in new.note
    assert [(s.number, s.key, s.text) for s in new.standards] == [
        (s.number, s.key, s.text) for s in old.standards
    ]
    assert (folder / "framework.yaml").read_text(encoding="utf-8").startswith("# The 2019-20")

    # Refuses to overwrite; --force replaces the framework but keeps a cohort.
    assert main(["new-cycle", "--data", str(root), "--from", "2018-19"]) == 1
    err = capsys.readouterr().err
    assert "already holds cases.csv and framework.yaml" in err and "Traceback" not in err
    write_cases(folder)
    assert main(["new-cycle", "--data", str(root), "--from", "2018-19", "--force"]) == 0
    assert "kept: it already lists cases" in capsys.readouterr().out
    assert len((folder / "cases.csv").read_text(encoding="utf-8").splitlines()) == 5


def test_an_edited_framework_flows_into_templates_and_back(tmp_path):
    """The yearly routine: new cycle, edit the framework, templates out, returns in."""
    from audit_analysis.admin.newcycle import start_cycle

    root = tmp_path / "data"
    made = start_cycle(root, "2018-19")  # no 2018-19 folder: the built-in framework
    assert made.cycle == "2019-20" and made.id_columns == ("carefirst_id", "tribal_id", "initials")
    raw = yaml.safe_load(made.framework_file.read_text(encoding="utf-8"))
    kloe6 = raw["kloes"][-1]
    kloe6["standards"].append({"number": 25, "key": "escalation-recorded", "text": "New text."})
    raw["kloes"][0]["standards"] = raw["kloes"][0]["standards"][1:]  # standard 1 dropped
    made.framework_file.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    write_cases(made.folder)
    tpl = write_templates(root, "2019-20", tmp_path / "out", agencies=["EDU"], cases=["C04"])
    ws = _audit(tpl.files[0])
    assert sorted(_standard_rows(ws)) == list(range(2, 26))
    entries = {n: ("Partially met", "Some.") for n in range(2, 26)}
    _fill(tpl.files[0], made.returns_dir / "EDU" / tpl.files[0].name, entries)
    data = load_cycle(root, "2019-20")
    assert data.rejections.empty and len(data.ratings) == 24
    assert "escalation-recorded" in set(data.ratings["standard_key"])


def test_new_cycle_refusals(tmp_path, capsys):
    root = tmp_path / "data"
    for argv, message in (
        (["--from", "2018-19", "--to", "2017-18"], "must come after 2018-19"),
        (["--from", "2010-11"], "no framework for cycle 2010-11"),
        (["--from", "soon"], "not an audit cycle"),
    ):
        assert main(["new-cycle", "--data", str(root), *argv]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    assert not root.exists()


# --- the compliance view --------------------------------------------------------------
def test_compliance_shows_who_returned_what_on_which_template(made, data_dir, tmp_path, capsys):
    folder = _fresh_cycle(tmp_path)
    by_name = {p.name: p for p in made.files}
    fw = load_framework("2018-19")
    full = {s.number: ("Met", "Seen.") for s in fw.standards}
    half = {s.number: ("Met", "Seen." if s.number % 2 else None) for s in fw.standards}
    _fill(by_name["WMP-2018-19-C01.xlsx"], folder / "returns" / "WMP" / "a.xlsx", full)
    _fill(by_name["WMP-2018-19-C02.xlsx"], folder / "returns" / "WMP" / "b.xlsx", {})
    bad = {s.number: ("Maybe", None) for s in fw.standards}
    _fill(by_name["CCG-2018-19-C01.xlsx"], folder / "returns" / "CCG" / "c.xlsx", bad)
    part = dict(half) | {2: ("TBC", None)}
    _fill(by_name["CCG-2018-19-C03.xlsx"], folder / "returns" / "CCG" / "d.xlsx", part)
    old = write_templates(data_dir, "2017-18", tmp_path / "old", agencies=["SCH"], cases=["C04"])
    entries = {n: ("Exceeded", None) for n in range(1, 24)}
    _fill(old.files[0], folder / "returns" / "SCH" / "e.xlsx", entries, audit_cycle="2018-19")

    data = load_cycle(folder.parent, "2018-19")
    table = compliance(data).set_index(["case_ref", "agency"])
    assert len(table) == 4 * len(set(table.index.get_level_values("agency")))
    row = table.loc[("C01", "WMP")]
    assert (row.status, row.code, row.template_version) == ("current", "ok", "2018-19")
    assert row.evidence_share == 1.0 and row.ratings == 24
    assert table.loc[("C02", "WMP"), "status"] == "nothing rated"
    assert table.loc[("C01", "CCG"), ["status", "code"]].tolist() == ["rejected", "rej"]
    row = table.loc[("C03", "CCG")]
    assert (row.status, row.code, row.rejected_rows) == ("current", "ok*", 1)
    assert row.evidence_share == pytest.approx(12 / 23)
    row = table.loc[("C04", "SCH")]
    assert (row.status, row.code, row.template_version) == ("old template", "old", "2017-18")
    assert row.met_or_better == 23 and row.evidence_share == 0
    assert table.loc[("C04", "WMP"), "code"] == "."
    assert set(table["code"].str.rstrip("*")) <= set(COMPLIANCE_CODES.values())

    grid = compliance_grid(data).set_index("case_ref")
    assert grid.at["C01", "WMP"] == "ok" and grid.at["C04", "SCH"] == "old"
    assert grid.at["returned", "WMP"] == "2" and grid.at["old template", "SCH"] == "1"
    assert grid.at["evidence", "WMP"] == "100%" and grid.at["evidence", "SCH"] == "0%"
    assert grid.at["evidence", "NPS"] == "-"

    csv_path = tmp_path / "compliance.csv"
    argv = ["validate", str(folder.parent), "--cycle", "2018-19", "--compliance-csv", str(csv_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Returns by case and agency" in out and "old: on an earlier template" in out
    assert re.search(r"^\s+C04\b.*\bold\b", out, re.M)
    written = pd.read_csv(csv_path)
    assert len(written) == len(table) and "evidence_share" in written.columns


# --- LibreOffice ----------------------------------------------------------------------
OFFICE = shutil.which("libreoffice") or shutil.which("soffice")


def _office(tmp_path: Path, target: str, outdir: Path, source: Path) -> Path:
    profile = (tmp_path / "lo-profile").as_uri()  # a private profile: no clash, no prompts
    result = subprocess.run(
        [OFFICE, "--headless", f"-env:UserInstallation={profile}", "--convert-to", target,
         "--outdir", str(outdir), str(source)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return outdir / source.with_suffix("." + target.split(":")[0]).name


@pytest.mark.e2e
@pytest.mark.skipif(OFFICE is None, reason="LibreOffice is not installed (libreoffice-calc)")
def test_libreoffice_opens_prints_and_saves_a_template(made, tmp_path):
    pdf = _office(tmp_path, "pdf", tmp_path, made.files[0])
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    assert pdf.read_bytes().startswith(b"%PDF")

    # Filled in and saved by LibreOffice, as an auditor without Excel would: the drop-down
    # and the protection survive, and the return loads.
    filled = _fill(made.files[0], tmp_path / "filled" / made.files[0].name,
                   {1: ("Met", "Seen."), 2: ("N/A", None), 14: ("Not met", "None.")})  # fmt: skip
    folder = _fresh_cycle(tmp_path)
    saved = _office(tmp_path, "xlsx:Calc MS Excel 2007 XML", folder / "returns", filled)
    ws = _audit(saved)
    assert ws.protection.sheet
    (dv,) = ws.data_validations.dataValidation
    assert dv.formula1 == '"Exceeded,Met,Partially met,Not met,N/A"' and dv.showErrorMessage
    data = load_cycle(folder.parent, "2018-19")
    assert data.rejections.empty
    rated = data.ratings[data.ratings["rating"].astype(str) != NOT_RECORDED]
    assert dict(zip(rated["standard"], rated["rating"].astype(str), strict=True)) == {
        1: "met",
        2: "not_applicable",
        14: "unmet",
    }
