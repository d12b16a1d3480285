"""Thematic audits beside annual ones (issue 24, items 4 and 5): the audit-name rule,
dated ordering, the default comparison, the commands on a dated audit, small audits'
pages and the partnership's labels.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_analysis.exceptions import CycleNotFoundError, UnknownCycleError
from audit_analysis.io.cycles import (
    DataFolder,
    audit_date,
    audit_series,
    earlier_audits,
    next_cycle,
    normalise_cycle,
    parse_cycle,
    sort_audits,
)

# --------------------------------------------------------------------------- the name rule


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("2018-19", "2018-19"),
        ("2018/2019", "2018-19"),
        ("2019-06-neglect", "2019-06-neglect"),
        ("2019-06-Neglect", "2019-06-neglect"),  # typed: any case
        ("2019-11-front-door", "2019-11-front-door"),
        ("Audit 2019-06-neglect, v2", "2019-06-neglect"),  # a template's version line
        ("2019-13-neglect", None),  # no month 13
        ("2019-06-", None),  # no theme
        ("2019-06-1st", None),  # a theme starts with a letter
        ("2018-10-15", None),  # a date is not an audit
        ("neglect", None),
    ],
)
def test_an_audit_is_named_for_a_year_or_a_dated_theme(text, name):
    assert parse_cycle(text) == name


def test_a_bad_audit_name_is_refused_in_one_line():
    with pytest.raises(UnknownCycleError) as caught:
        normalise_cycle("2019-13-neglect")
    message = str(caught.value)
    assert "\n" not in message
    assert "YYYY-YY" in message and "YYYY-MM-theme" in message and "2019-13-neglect" in message


def test_a_year_cycle_is_dated_at_its_end_and_closes_its_month():
    assert audit_date("2018-19") == (2019, 3)
    assert audit_date("2019-06-neglect") == (2019, 6)
    names = ["2019-06-neglect", "2019-20", "2018-19", "2019-03-cse", "2018-10-neglect", "2017-18"]
    assert sort_audits(names) == [
        "2017-18",
        "2018-10-neglect",  # held during 2018-19: before its findings
        "2019-03-cse",  # the month 2018-19 closes: before it
        "2018-19",
        "2019-06-neglect",
        "2019-20",
    ]


def test_a_run_compares_with_the_earlier_audits_of_its_series_by_default():
    names = ["2017-18", "2018-10-neglect", "2018-19", "2019-02-cse", "2019-06-neglect", "2019-20"]
    assert earlier_audits(names, "2019-20") == ["2017-18", "2018-19"]
    assert earlier_audits(names, "2019-06-neglect") == ["2018-10-neglect"]
    assert earlier_audits(names, "2019-02-cse") == []
    # every earlier audit, of any series, by date
    assert earlier_audits(names, "2019-02-cse", series=False) == [
        "2017-18",
        "2018-10-neglect",
    ]
    assert audit_series("2018-19") == "annual"
    assert audit_series("2019-06-neglect") == "theme:neglect"


def test_a_thematic_audit_has_no_next_by_rule():
    assert next_cycle("2018-19") == "2019-20"
    with pytest.raises(UnknownCycleError, match="name the new audit"):
        next_cycle("2019-06-neglect")


def test_the_data_folder_holds_year_and_dated_audits_and_names_near_misses(tmp_path: Path):
    for name in (
        "2019-06-neglect",
        "2018-19",
        "2018-10-neglect",
        "2019-6-neglect",  # near misses of a dated theme
        "2019-06_Neglect",
        "2018-2019",  # and of a year, as before
        "notes",
    ):
        (tmp_path / name).mkdir()
    folder = DataFolder.scan(tmp_path)
    assert folder.order == ["2018-10-neglect", "2018-19", "2019-06-neglect"]
    assert sorted(folder.near_misses["2019-06-neglect"]) == ["2019-06_Neglect", "2019-6-neglect"]
    assert folder.near_misses["2018-19"] == ["2018-2019"]
    assert folder.before("2019-06-neglect") == ["2018-10-neglect", "2018-19"]
    notes = folder.notes("2019-06-neglect")
    assert notes == [
        "2019-06_Neglect/ is not read: a cycle's folder is named exactly YYYY-MM-theme "
        "(2019-06-neglect)",
        "2019-6-neglect/ is not read: a cycle's folder is named exactly YYYY-MM-theme "
        "(2019-06-neglect)",
    ]
    (tmp_path / "2019-06-neglect").rmdir()
    with pytest.raises(CycleNotFoundError) as caught:
        DataFolder.scan(tmp_path).folder("2019-06-neglect")
    assert "'2019-6-neglect'" in str(caught.value) and "\n" not in str(caught.value)
