"""Frameworks, the agency register and cycle names, as data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.agencies import agencies, agency_codes, resolve_agency
from audit_analysis.io.cycles import next_cycle, parse_cycle
from audit_analysis.io.frameworks import (
    load_framework,
    map_standard,
    parse_framework,
    standard_crosswalk,
)


@pytest.mark.parametrize(
    ("text", "cycle"),
    [
        ("2018-19", "2018-19"),
        ("2018/19", "2018-19"),
        ("2018/2019", "2018-19"),
        ("2018-2019", "2018-19"),
        ("Template 2017/18 v2", "2017-18"),
        ("1999-00", "1999-00"),
        ("2018-20", None),
        ("2018", None),
        ("", None),
        (None, None),
    ],
)
def test_cycle_names(text, cycle):
    assert parse_cycle(text) == cycle


def test_next_cycle():
    assert next_cycle("2018/2019") == "2019-20"
    assert next_cycle("1999-00") == "2000-01"


def test_2018_19_framework_matches_the_report():
    fw = load_framework("2018-19")
    assert not fw.reconstructed
    assert [len(k.standards) for k in fw.kloes] == [4, 4, 4, 6, 4, 2]
    assert [s.number for s in fw.standards] == list(range(1, 25))
    assert fw.by_number(14).text.startswith("Where there are complex needs/multiple plans")
    assert fw.by_number(13).key == "smart-plans"
    assert fw.kloe(6).question.startswith("Are practitioners resolving professional disputes")
    assert len({s.key for s in fw.standards}) == 24


@pytest.mark.parametrize("cycle", ["2016-17", "2017-18"])
def test_earlier_frameworks_are_marked_reconstructions(cycle):
    fw = load_framework(cycle)
    assert fw.reconstructed and "RECONSTRUCTION" in fw.note
    assert len(fw.standards) == 23
    assert fw.kloe(1).key == "information-sharing" and fw.kloe(2).key == "thresholds"


# docs/data-contract.md: 1-4 = today's 5-8, 5-8 = today's 1-4, 9-12 = 9-12, 13 = 13,
# 14-17 = today's 15-18, 18-21 = 19-22, 22-23 = 23-24.
OLD_TO_NEW = {
    **{o: o + 4 for o in range(1, 5)},
    **{o: o - 4 for o in range(5, 9)},
    **{o: o for o in range(9, 14)},
    **{o: o + 1 for o in range(14, 24)},
}


@pytest.mark.parametrize("old", ["2016-17", "2017-18"])
def test_mapping_between_cycles_by_key(old):
    for number, new in OLD_TO_NEW.items():
        assert map_standard(number, old, "2018-19") == new
        assert map_standard(new, "2018-19", old) == number
    assert map_standard(14, "2018-19", old) is None


def test_crosswalk_shows_standards_absent_in_a_year():
    table = standard_crosswalk(["2016-17", "2017-18", "2018-19"]).set_index("standard_key")
    assert table.loc["roles-in-complex-cases"].isna().tolist() == [True, True, False]
    assert table.loc["threshold-guidance"].tolist() == [5, 5, 1]


def test_a_partnerships_own_framework_takes_precedence(tmp_path):
    fw = yaml.safe_load(Path(load_framework("2018-19").source).read_text(encoding="utf-8"))
    fw["cycle"] = "2019-20"
    fw["kloes"][5]["standards"].append({"number": 25, "key": "new-thing", "text": "New."})
    (tmp_path / "2019-20").mkdir()
    (tmp_path / "2019-20" / "framework.yaml").write_text(yaml.safe_dump(fw), encoding="utf-8")
    mine = load_framework("2019/20", tmp_path)
    assert len(mine.standards) == 25
    assert map_standard(25, "2019-20", "2018-19", tmp_path) is None


def test_a_framework_without_cycle_is_its_folders(tmp_path):
    """``cycle:`` may be left out (or left empty): the folder names the cycle. A file with
    no cycle and no folder to name one is still an error."""
    fw = yaml.safe_load(Path(load_framework("2018-19").source).read_text(encoding="utf-8"))
    del fw["cycle"]
    for cycle, text in (
        ("2019-20", yaml.safe_dump(fw)),
        ("2020-21", "cycle:\n" + yaml.safe_dump(fw)),
    ):
        (tmp_path / cycle).mkdir()
        (tmp_path / cycle / "framework.yaml").write_text(text, encoding="utf-8")
        mine = load_framework(cycle.replace("-", "/"), tmp_path)
        assert mine.cycle == cycle
        assert [s.key for s in mine.standards] == [
            s.key for s in load_framework("2018-19").standards
        ]
    with pytest.raises(AuditDataError, match="'cycle' is not a cycle name"):
        parse_framework(fw, source="framework.yaml")


def test_a_framework_left_with_last_years_cycle_is_a_clear_error(tmp_path, capsys):
    """Copied from the 2018-19 folder and not updated: its ratings would be labelled
    2018-19 inside the 2019-20 cycle. Loading stops, naming the file and both cycles."""
    from conftest import write_cases

    from audit_analysis import load_cycle
    from audit_analysis.pipeline.cli import main

    fw = yaml.safe_load(Path(load_framework("2018-19").source).read_text(encoding="utf-8"))
    folder = tmp_path / "2019-20"
    write_cases(folder)
    (folder / "returns").mkdir()
    (folder / "framework.yaml").write_text(yaml.safe_dump(fw), encoding="utf-8")
    with pytest.raises(AuditDataError, match="says it is for 2018-19 but is the framework of"):
        load_framework("2019-20", tmp_path)
    with pytest.raises(AuditDataError) as caught:
        load_cycle(tmp_path, "2019-20")
    assert caught.value.file == str(folder / "framework.yaml")
    assert main(["validate", str(tmp_path), "--cycle", "2019-20"]) != 0
    err = capsys.readouterr().err
    assert "framework.yaml" in err and "2018-19" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {
                "cycle": "2019-20",
                "kloes": [
                    {
                        "number": 1,
                        "key": "a",
                        "standards": [{"number": 1, "key": "x"}, {"number": 1, "key": "y"}],
                    }
                ],
            },
            "appears twice",
        ),
        (
            {
                "cycle": "2019-20",
                "kloes": [
                    {
                        "number": 1,
                        "key": "a",
                        "standards": [{"number": 1, "key": "x"}, {"number": 2, "key": "x"}],
                    }
                ],
            },
            "appears twice",
        ),
        ({"cycle": "next year", "kloes": []}, "not a cycle name"),
        ({"cycle": "2019-20", "kloes": []}, "no standards"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_malformed_frameworks_are_clear_errors(raw, message):
    with pytest.raises(AuditDataError, match=message):
        parse_framework(raw, source="framework.yaml")


def test_unknown_cycle_has_no_framework():
    with pytest.raises(AuditDataError, match="no framework for cycle 2030-31"):
        load_framework("2030-31")


def test_agency_register_holds_the_reports_organisations():
    table = agencies()
    assert agency_codes() == [
        "CCG",
        "BSMHF",
        "CRC",
        "EDU",
        "CSC-EH",
        "CSC-SW",
        "SIAS",
        "SWFT",
        "NPS",
        "SCH",
        "UHB",
        "VCS",
        "WMP",
    ]
    assert set(table.columns) == {"code", "name", "abbreviation", "sector"}
    assert table.set_index("code").loc["UHB", "abbreviation"] == "UHB-HoEFT"
    assert table["sector"].str.len().gt(0).all()
    for row in table.itertuples():
        assert resolve_agency(row.code) == row.code
        assert resolve_agency(f"  {row.name.upper()} ") == row.code
        if row.abbreviation:
            assert resolve_agency(row.abbreviation.lower()) == row.code
    assert resolve_agency("Solihull Leisure") is None
