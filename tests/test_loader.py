"""The loader against every rule of docs/data-contract.md, on small synthetic files built here."""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import write_bulk_csv, write_cases, write_toolkit

from audit_analysis import load_cycle
from audit_analysis.exceptions import AuditDataError, CycleNotFoundError
from audit_analysis.io.ratings import CATEGORIES

RETURNS = "returns"


def load(folder: Path, cycle: str = "2018-19"):
    return load_cycle(folder.parent, cycle)


def assert_accounted(data) -> None:
    """Every standard row read is one rating or one row rejection."""
    files = set(data.returns["source_file"])
    rejected_rows = data.rejections[
        data.rejections["source_file"].isin(files) & data.rejections["source_row"].notna()
    ]
    assert data.returns["rows"].sum() == len(data.ratings) + rejected_rows["count"].sum()


def reasons(data) -> list[str]:
    return list(data.rejections["reason"])


# ----------------------------------------------------------------- cycles and folders


@pytest.mark.parametrize("spelling", ["2018-19", "2018/19", "2018/2019", "2018-2019"])
def test_cycle_spellings_name_the_same_cycle(cycle_dir, spelling):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")])
    data = load(cycle_dir, spelling)
    assert data.cycle == "2018-19"
    assert list(data.ratings["cycle"]) == ["2018-19"]


def test_a_folder_spelling_the_cycle_otherwise_is_named_never_read(tmp_path):
    folder = tmp_path / "2018-2019"
    write_cases(folder)
    write_toolkit(folder / RETURNS / "a.xlsx", [(1, "met", "e")])
    with pytest.raises(CycleNotFoundError, match="found '2018-2019', which is not read"):
        load_cycle(tmp_path, "2018-19")


def test_missing_folder_or_cases_is_the_only_fatal_error(tmp_path):
    with pytest.raises(CycleNotFoundError, match="no such data folder"):
        load_cycle(tmp_path / "nowhere", "2018-19")
    with pytest.raises(CycleNotFoundError, match="no folder for cycle 2018-19"):
        load_cycle(tmp_path, "2018-19")
    (tmp_path / "2018-19").mkdir()
    with pytest.raises(CycleNotFoundError, match="no cases.csv"):
        load_cycle(tmp_path, "2018-19")
    with pytest.raises(AuditDataError, match="not an audit cycle"):
        load_cycle(tmp_path, "last year")


def test_a_cycle_without_returns_loads_empty(cycle_dir):
    data = load(cycle_dir)
    assert data.ratings.empty and data.returns.empty and data.rejections.empty
    assert len(data.cases) == 4


# ----------------------------------------------------------------- cases.csv


def test_cases_headers_match_ignoring_case_spaces_underscores(tmp_path):
    folder = tmp_path / "2018-19"
    write_cases(
        folder,
        header=["Case Ref", "PRIORITY", " Age ", "CareFirst ID", "Tribal_ID", "Initials"],
    )
    write_toolkit(
        folder / RETURNS / "a.xlsx", [(1, "met", "e")], case_id="TR-103", case_id_type="tribal id"
    )
    data = load_cycle(tmp_path, "2018-19")
    assert list(data.ratings["case_ref"]) == ["C03"]
    assert list(data.cases.columns) == ["case_ref", "priority", "age"]


def test_identifier_columns_never_leave_the_loader(cycle_dir):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")], case_id="900101")
    data = load(cycle_dir)
    text = "".join(df.to_csv() for df in (data.ratings, data.cases, data.returns))
    for identifier in ("900101", "900102", "TR-101", "TR-104", "KM"):
        assert identifier not in text
    assert not hasattr(data, "crosswalk")


def test_duplicate_case_ref_and_bad_fields_in_cases_csv_are_logged(tmp_path):
    folder = tmp_path / "2018-19"
    write_cases(
        folder,
        rows=[
            ["C01", "early_help", "4", "1", "", ""],
            ["c01", "neglect", "5", "2", "", ""],
            ["C02", "teenagers", "4.5", "3", "", ""],
            ["", "neglect", "5", "4", "", ""],
        ],
    )
    data = load_cycle(tmp_path, "2018-19")
    assert list(data.cases["case_ref"]) == ["C01", "C02"]
    log = data.rejections.set_index("source_row")
    assert "duplicate case_ref 'c01'" in log.loc[3, "reason"]
    assert set(log.loc[4, "raw_value"]) == {"teenagers", "4.5"}
    assert "no case_ref" in log.loc[5, "reason"]
    assert data.cases.set_index("case_ref").loc["C02"].isna().all()  # kept, fields blanked


# ----------------------------------------------------------------- toolkit layout


def test_toolkit_parts_are_found_by_label_wherever_they_are(cycle_dir):
    path = write_toolkit(
        cycle_dir / RETURNS / "a.xlsx",
        [(1, "met", "e")],
        title_rows=5,
        label_col=6,
        table_header=("Notes", "KLOE", "x", "Standard", "Text", "Outcome", "Rationale"),
    )
    wb = openpyxl.load_workbook(path)
    ws = wb["Audit"]
    ws.merge_cells("F6:G6")  # label merged over its neighbour: value is still found
    wb.save(path)
    data = load(cycle_dir)
    assert data.ratings.loc[0, ["agency", "case_ref", "standard", "evidence"]].tolist() == [
        "WMP",
        "C01",
        1,
        "e",
    ]


@pytest.mark.parametrize("rating_heading", ["Rating", "Judgement", "Outcome", "RATING"])
@pytest.mark.parametrize("evidence_heading", ["Evidence", "Comments", "Rationale"])
def test_toolkit_heading_synonyms(cycle_dir, rating_heading, evidence_heading):
    write_toolkit(
        cycle_dir / RETURNS / "a.xlsx",
        [(7, "met", "why")],
        table_header=("Standard", rating_heading, evidence_heading),
    )
    data = load(cycle_dir)
    assert data.ratings.loc[0, ["standard", "rating", "evidence"]].tolist() == [7, "met", "why"]


def test_labels_ignore_case_and_trailing_colon(cycle_dir):
    header = [
        ("AGENCY :", "wmp"),
        ("case id:", "C02"),
        ("CASE ID TYPE", "case_ref"),
        ("audit cycle:", "2018/19"),
    ]
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")], header=header)
    assert load(cycle_dir).ratings.loc[0, ["agency", "case_ref"]].tolist() == ["WMP", "C02"]


@pytest.mark.parametrize(
    "written", [14, 14.0, "14", "14.0", "S14", "s 14", "Standard 14", " standard 14 "]
)
def test_standard_number_forms(cycle_dir, written):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(written, "met", "e")])
    assert load(cycle_dir).ratings["standard"].tolist() == [14]


def test_blank_rows_and_notes_are_skipped_and_bad_standards_rejected(cycle_dir):
    write_toolkit(
        cycle_dir / RETURNS / "a.xlsx",
        [
            (1, "met", "a"),
            None,
            ("KLOE 2 - information sharing", None, None),
            ("Auditor note: the plan was reviewed late", None, "extra words"),
            ("fourteen", "met", "b"),
            (None, "met", "c"),
            (None, None, "orphan evidence"),
            (2.5, "met", None),
            (25, "met", None),
            (3, "", None),
        ],
    )
    data = load(cycle_dir)
    assert data.ratings["standard"].tolist() == [1, 3]
    assert data.ratings["rating"].tolist() == ["met", "not_recorded"]
    log = data.rejections.set_index("source_row")
    assert "unreadable standard number" in log.loc[15, "reason"]
    assert log.loc[15, "raw_value"] == "fourteen"
    assert "no standard number" in log.loc[16, "reason"]
    assert "no standard number" in log.loc[17, "reason"]
    assert log.loc[18, "raw_value"] == "2.5"
    assert "standard 25 is not in the 2018-19 framework" in log.loc[19, "reason"]
    assert data.returns.loc[0, ["rows", "status"]].tolist() == [7, "partial"]
    assert_accounted(data)


def test_other_sheets_are_ignored_and_the_toolkit_may_be_on_any_sheet(cycle_dir):
    write_toolkit(
        cycle_dir / RETURNS / "a.xlsx",
        [(1, "met", "e")],
        extra_sheets=("Guidance", "Lists", "Cover"),
    )
    data = load(cycle_dir)
    assert len(data.ratings) == 1 and data.rejections.empty


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ([("Case ID", "C01")], "no 'Agency' label"),
        ([("Agency", "WMP")], "no 'Case ID' label"),
        ([("Agency", None), ("Case ID", "C01")], "'Agency' label has no value"),
    ],
)
def test_required_labels(cycle_dir, header, message):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")], header=header)
    data = load(cycle_dir)
    assert data.ratings.empty
    assert message in data.rejections.loc[0, "reason"]
    assert "sheet 'Audit'" in data.rejections.loc[0, "reason"]
    assert pd.isna(data.rejections.loc[0, "source_row"])


def test_sheet_without_its_table_header_row(cycle_dir):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")], table_header=())
    data = load(cycle_dir)
    assert "no standards table" in data.rejections.loc[0, "reason"]
    assert "sheet 'Audit'" in data.rejections.loc[0, "reason"]


def test_a_table_with_no_rows_is_rejected(cycle_dir):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [])
    data = load(cycle_dir)
    assert data.returns.loc[0, "status"] == "rejected"
    assert "no rows" in data.rejections.loc[0, "reason"]


# ----------------------------------------------------------------- template versions


def test_last_years_template_is_renumbered_by_key(cycle_dir):
    # 2017-18 numbering: 1-4 information sharing (today 5-8), 5-8 thresholds (today 1-4),
    # 13 SMART plans (13), 14-17 (today 15-18), 22-23 dispute resolution (today 23-24).
    rows = [
        (1, "met", "a"),
        (5, "unmet", "b"),
        (13, "met", "c"),
        (14, "met", "d"),
        (17, "met", "e"),
        (18, "met", "f"),
        (23, "exceeded", "g"),
    ]
    write_toolkit(cycle_dir / RETURNS / "old.xlsx", rows, template_version="2017/18")
    data = load(cycle_dir)
    got = dict(zip(data.ratings["evidence"], data.ratings["standard"], strict=True))
    assert got == {"a": 5, "b": 1, "c": 13, "d": 15, "e": 18, "f": 19, "g": 24}
    assert 14 not in set(data.ratings["standard"])  # the old template never had it
    assert data.returns.loc[0, "template_version"] == "2017-18"
    assert data.rejections.empty


def test_a_standard_with_no_counterpart_in_the_cycle_is_rejected(tmp_path):
    import yaml

    from audit_analysis.io.frameworks import framework_path

    folder = tmp_path / "2018-19"
    write_cases(folder)
    # The cycle's own framework drops 2018-19's standard 15 (2017-18's 14).
    raw = yaml.safe_load(framework_path("2018-19").read_text(encoding="utf-8"))
    for kloe in raw["kloes"]:
        kloe["standards"] = [s for s in kloe["standards"] if s["key"] != "interventions-assessed"]
    (folder / "framework.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    write_toolkit(
        folder / RETURNS / "old.xlsx",
        [(13, "met", "a"), (14, "met", "b")],
        template_version="2017-18",
    )
    data = load_cycle(tmp_path, "2018-19")
    assert data.ratings["standard"].tolist() == [13]
    assert (
        "standard 14 of the 2017-18 template (interventions-assessed) has no counterpart"
        in (data.rejections.loc[0, "reason"])
    )
    assert_accounted(data)


def test_unknown_template_version_rejects_the_return(cycle_dir):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")], template_version="v3")
    write_toolkit(cycle_dir / RETURNS / "b.xlsx", [(1, "met", "e")], template_version="2010-11")
    data = load(cycle_dir)
    assert data.ratings.empty
    assert data.rejections["raw_value"].tolist() == ["v3", "2010-11"]
    assert all("unknown template version" in r for r in reasons(data))


def test_a_return_for_another_cycle_is_rejected(cycle_dir):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")], audit_cycle="2017-18")
    data = load(cycle_dir)
    assert "is for audit cycle 2017-18" in data.rejections.loc[0, "reason"]


# ----------------------------------------------------------------- bulk tables


def test_bulk_csv_in_each_encoding(cycle_dir):
    header = ["Agency", "Case ID", "Case ID type", "Std", "Judgement", "Comments"]
    rows = [["WMP", "900101", "CareFirst ID", "1", "met", "Officer’s note – café"]]
    write_bulk_csv(cycle_dir / RETURNS / "a.csv", header, rows, encoding="utf-8")
    write_bulk_csv(
        cycle_dir / RETURNS / "b.csv", header, [["SCH", *rows[0][1:]]], encoding="utf-8-sig"
    )
    write_bulk_csv(
        cycle_dir / RETURNS / "c.csv", header, [["CCG", *rows[0][1:]]], encoding="cp1252"
    )
    data = load(cycle_dir)
    assert data.ratings["evidence"].tolist() == ["Officer’s note – café"] * 3
    assert data.ratings["agency"].tolist() == ["WMP", "SCH", "CCG"]


def test_bulk_header_is_the_first_nonblank_row_and_rows_count_like_a_spreadsheet(cycle_dir):
    path = cycle_dir / RETURNS / "a.csv"
    path.write_text(
        "\n,,\nagency,case_id,standard,rating\nWMP,C01,1,met\n\nWMP,C01,2,TBC\n", encoding="utf-8"
    )
    data = load(cycle_dir)
    assert data.ratings["source_row"].tolist() == [4]
    assert data.rejections["source_row"].tolist() == [6]


def test_bulk_agency_from_folder_when_there_is_no_agency_column(cycle_dir):
    write_bulk_csv(
        cycle_dir / RETURNS / "West Midlands Police" / "audit.csv",
        ["case_id", "standard", "rating"],
        [["C01", "1", "met"]],
    )
    write_bulk_csv(
        cycle_dir / RETURNS / "stray.csv", ["case_id", "standard", "rating"], [["C01", "1", "met"]]
    )
    write_bulk_csv(
        cycle_dir / RETURNS / "Leisure" / "x.csv",
        ["case_id", "standard", "rating"],
        [["C01", "1", "met"]],
    )
    data = load(cycle_dir)
    assert data.ratings["agency"].tolist() == ["WMP"]
    assert len(data.rejections) == 2
    assert all("no agency column" in r for r in reasons(data))


def test_bulk_one_sheet_xlsx(cycle_dir):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([])
    ws.append(["Agency", "Case ID", "Standard", "Rating", "Evidence"])
    ws.append(["CCG", "C02", "S13", "Not met", "No contingency plan"])
    ws.append(["Nobody", "C02", "S13", "met", None])
    path = cycle_dir / RETURNS / "bulk.xlsx"
    wb.save(path)
    data = load(cycle_dir)
    assert data.ratings.loc[0, ["agency", "standard", "rating", "source_row"]].tolist() == [
        "CCG",
        13,
        "unmet",
        3,
    ]
    assert data.returns.loc[0, "form"] == "bulk"
    assert "unknown agency 'Nobody'" in data.rejections.loc[0, "reason"]
    assert data.rejections.loc[0, "source_row"] == 4


def test_bulk_without_required_columns_is_rejected_whole(cycle_dir):
    write_bulk_csv(
        cycle_dir / RETURNS / "a.csv", ["agency", "case_id", "rating"], [["WMP", "C01", "met"]]
    )
    data = load(cycle_dir)
    assert "lacks the column(s) standard" in data.rejections.loc[0, "reason"]


# ----------------------------------------------------------------- agencies


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("WMP", "WMP"),
        (" wmp ", "WMP"),
        ("West Midlands Police", "WMP"),
        ("UHB-HoEFT", "UHB"),
        ("uhb", "UHB"),
        ("Education and Early Years", "EDU"),
        ("CSC-EH", "CSC-EH"),
        ("Solihull Integrated Addiction Services", "SIAS"),
        ("National Probation Service", "NPS"),
    ],
)
def test_agency_by_code_name_or_abbreviation(cycle_dir, name, code):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")], agency=name)
    assert load(cycle_dir).ratings["agency"].tolist() == [code]


def test_unknown_agency_rejects_a_toolkit_whole(cycle_dir):
    write_toolkit(
        cycle_dir / RETURNS / "a.xlsx",
        [(1, "met", "e"), (2, "met", "f")],
        agency="Solihull Leisure",
    )
    data = load(cycle_dir)
    assert len(data.rejections) == 1
    assert data.rejections.loc[0, "raw_value"] == "Solihull Leisure"
    assert data.returns.loc[0, ["status", "rows"]].tolist() == ["rejected", 0]


# ----------------------------------------------------------------- case identifiers


@pytest.mark.parametrize(
    ("case_id", "case_id_type", "expected"),
    [
        ("900103", "CareFirst ID", "C03"),
        (900103, "carefirst", "C03"),  # a number cell
        (900103.0, None, "C03"),  # Excel's 900103.0, no type
        (" tr-104 ", "Tribal ID", "C04"),
        ("ab", "initials", "C01"),
        ("c02", None, "C02"),  # case_ref itself
        ("KM", None, "C04"),
    ],
)
def test_case_ids_resolve_through_the_crosswalk(cycle_dir, case_id, case_id_type, expected):
    write_toolkit(
        cycle_dir / RETURNS / "a.xlsx",
        [(1, "met", "e")],
        case_id=case_id,
        case_id_type=case_id_type,
    )
    assert load(cycle_dir).ratings["case_ref"].tolist() == [expected]


@pytest.mark.parametrize(
    ("case_id", "case_id_type", "message"),
    [
        ("JS", "initials", "case ID 'JS' is ambiguous: it matches cases C02, C03 (in initials)"),
        ("JS", None, "case ID 'JS' is ambiguous"),
        ("999999", None, "case ID '999999' matches no case"),
        ("900101", "Tribal ID", "case ID '900101' matches no case in cases.csv (in tribal_id)"),
        ("900101", "NHS number", "case ID type 'NHS number' is not a column of cases.csv"),
    ],
)
def test_unresolved_case_ids_reject_every_row_naming_the_identifier(
    cycle_dir, case_id, case_id_type, message
):
    write_toolkit(
        cycle_dir / RETURNS / "a.xlsx",
        [(1, "met", "e"), (2, "met", "f")],
        case_id=case_id,
        case_id_type=case_id_type,
    )
    data = load(cycle_dir)
    assert data.ratings.empty
    assert len(data.rejections) == 2
    assert all(message in r for r in reasons(data))
    assert data.rejections["raw_value"].tolist() == [case_id] * 2
    assert_accounted(data)


# ----------------------------------------------------------------- ratings


SPELLINGS = {
    "exceeded": ["exceeded", "Exceeds", "STANDARD EXCEEDED", "exceeded."],
    "met": ["met", "Yes", "achieved", "Standard met", "fully-met", "\xa0Met\xa0", "met."],
    "partially_met": ["partially met", "Partly_met", "partial"],
    "unmet": ["unmet", "Not Met", "Not-Met", "no", "not achieved", "standard not met."],
    "not_applicable": ["N/A", "na", "Not applicable", "no opportunity"],
    "not_recorded": [None, "", "   "],
}


def test_every_rating_spelling(cycle_dir):
    flat = [(cat, word) for cat, words in SPELLINGS.items() for word in words]
    for start, case in ((0, "C01"), (20, "C02")):  # 24 standards a case: use two cases
        rows = [(i + 1, word, None) for i, (_, word) in enumerate(flat[start : start + 20])]
        write_toolkit(cycle_dir / RETURNS / f"{case}.xlsx", rows, case_id=case)
    data = load(cycle_dir)
    assert data.ratings["rating"].tolist() == [cat for cat, _ in flat]


def test_unknown_rating_is_rejected_with_its_raw_text(cycle_dir):
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "Met?", "e"), (2, "mostly", None)])
    data = load(cycle_dir)
    assert data.rejections["raw_value"].tolist() == ["Met?", "mostly"]
    assert all("unknown rating" in r for r in reasons(data))


# ----------------------------------------------------------------- what loading gives back


def test_tables_have_the_contracts_columns_and_types(cycle_dir):
    write_toolkit(cycle_dir / RETURNS / "x" / "a.xlsx", [(13, "met", "  <script>x</script>\n")])
    data = load(cycle_dir)
    assert list(data.ratings.columns) == [
        "cycle",
        "agency",
        "case_ref",
        "kloe",
        "standard",
        "standard_key",
        "rating",
        "evidence",
        "source_file",
        "source_row",
    ]
    assert list(data.returns.columns) == [
        "source_file",
        "agency",
        "case_ref",
        "form",
        "template_version",
        "status",
        "rows",
    ]
    assert list(data.rejections.columns) == [
        "source_file",
        "source_row",
        "code",
        "reason",
        "raw_value",
        "count",
    ]
    rating = data.ratings["rating"].dtype
    assert rating.ordered and list(rating.categories) == list(CATEGORIES)
    row = data.ratings.iloc[0]
    assert (row.kloe, row.standard, row.standard_key) == (4, 13, "smart-plans")
    assert row.evidence == "  <script>x</script>\n"  # exactly as written
    assert row.source_file == "returns/x/a.xlsx"
    assert row.source_row == 11  # 2 title rows, 6 labels, a blank row, the header


def test_first_accepted_row_wins_in_code_point_order(cycle_dir):
    # "B" (U+0042) sorts before "a" (U+0061): code-point order, not a locale's.
    write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "unmet", "late"), (2, "met", None)])
    write_toolkit(cycle_dir / RETURNS / "B.xlsx", [(1, "bogus", None), (1, "met", "first")])
    data = load(cycle_dir)
    kept = data.ratings.set_index("standard").loc[1]
    assert (kept.evidence, kept.source_file) == ("first", "returns/B.xlsx")
    dup = data.rejections[data.rejections["reason"].str.contains("duplicate")]
    assert dup["source_file"].tolist() == ["returns/a.xlsx"]
    assert "returns/B.xlsx row 12, which is kept" in dup["reason"].iloc[0]
    assert_accounted(data)


def test_other_files_are_listed_as_skipped(cycle_dir):
    (cycle_dir / RETURNS / "~$a.xlsx").write_bytes(b"lock")
    (cycle_dir / RETURNS / "notes.txt").write_text("call back CRC")
    (cycle_dir / RETURNS / "minutes.pdf").write_bytes(b"%PDF")
    data = load(cycle_dir)
    assert sorted(data.returns["source_file"]) == [
        "returns/minutes.pdf",
        "returns/notes.txt",
        "returns/~$a.xlsx",
    ]
    assert set(data.returns["status"]) == {"skipped"} and data.rejections.empty


# ----------------------------------------------------------------- bad files


def test_broken_files_are_one_rejection_each_and_take_nothing_else_down(cycle_dir):
    r = cycle_dir / RETURNS
    write_toolkit(r / "good.xlsx", [(1, "met", "e")])
    (r / "corrupt.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    (r / "empty.xlsx").write_bytes(b"")
    (r / "protected.xlsx").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504)
    (r / "text.xlsx").write_text("this is not a workbook")
    openpyxl.Workbook().save(r / "blank.xlsx")
    (r / "empty.csv").write_bytes(b"")
    (r / "binary.csv").write_bytes(bytes(range(256)) * 4)
    data = load(cycle_dir)
    assert len(data.ratings) == 1
    by_file = dict(zip(data.rejections["source_file"], data.rejections["reason"], strict=True))
    assert "corrupt or unreadable" in by_file["returns/corrupt.xlsx"]
    assert "empty" in by_file["returns/empty.xlsx"]
    assert "password-protected" in by_file["returns/protected.xlsx"]
    assert "not an Excel workbook" in by_file["returns/text.xlsx"]
    assert "no data" in by_file["returns/blank.xlsx"]
    assert "empty" in by_file["returns/empty.csv"]
    assert "returns/binary.csv" in by_file
    assert data.rejections["source_row"].isna().all()


def test_a_stray_file_of_several_gigabytes_is_never_read_whole(cycle_dir):
    r = cycle_dir / RETURNS
    for name in ("huge.xlsx", "huge.csv"):
        with open(r / name, "wb") as fh:  # sparse: takes no disk, reads as zeros
            fh.truncate(3 * 1024**3)
    write_toolkit(r / "good.xlsx", [(1, "met", "e")])
    data = load(cycle_dir)
    assert len(data.ratings) == 1
    by_file = dict(zip(data.rejections["source_file"], data.rejections["reason"], strict=True))
    assert "far larger than an audit return" in by_file["returns/huge.xlsx"]
    assert "over 1 MB" in by_file["returns/huge.csv"]


def test_unreadable_file_is_rejected(cycle_dir):
    if os.geteuid() == 0:
        pytest.skip("root reads every file, so permissions cannot make one unreadable")
    path = write_toolkit(cycle_dir / RETURNS / "a.xlsx", [(1, "met", "e")])
    path.chmod(0)
    data = load(cycle_dir)
    assert data.ratings.empty and len(data.rejections) == 1
