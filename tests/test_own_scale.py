"""A partnership's own rating scale (docs/own-scale.md): read from its data folder,
checked, and followed by the loader and every summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import write_bulk_csv, write_cases

from audit_analysis import load_cycle
from audit_analysis.analysis.summaries import overall_summary, standard_summary
from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.ratings import BUILTIN, read_scale, scale_for

YES_NO = {
    "scale": ["no", "yes"],
    "good": ["yes"],
    "labels": {"yes": "Yes", "no": "No"},
    "spellings": {"yes": ["y"], "no": ["n"]},
}
OFSTED = {
    "scale": ["inadequate", "requires_improvement", "good", "outstanding"],
    "good": ["good", "outstanding"],
    "labels": {
        "outstanding": "Outstanding",
        "good": "Good",
        "requires_improvement": "Requires improvement",
        "inadequate": "Inadequate",
    },
    "spellings": {"requires_improvement": ["RI", "requires improvement to be good"]},
}
BULK = ["case_id", "case_id_type", "standard", "rating", "evidence"]


def write_scale(folder: Path, content: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ratings.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def write_ratings(folder: Path, rows: list[tuple[str, int, str]], agency: str = "WMP") -> None:
    """Bulk returns: (case_ref, standard, rating word) rows for one agency."""
    write_bulk_csv(
        folder / "returns" / agency / "ratings.csv",
        BULK,
        [[case, "case_ref", standard, word, "seen"] for case, standard, word in rows],
    )


# ------------------------------------------------------------------ the scale file


def test_the_builtin_scale_is_todays():
    assert BUILTIN.levels == ("unmet", "partially_met", "met", "exceeded")
    assert BUILTIN.good == ("met", "exceeded")
    assert BUILTIN.name == "Exceeded / Met / Partially met / Not met"
    assert BUILTIN.good_words == "Met or Exceeded"
    assert BUILTIN.ordinal


def test_ofsteds_four_grades_are_a_scale(tmp_path):
    scale = read_scale(write_scale(tmp_path, OFSTED))
    assert scale.levels == ("inadequate", "requires_improvement", "good", "outstanding")
    assert scale.good == ("good", "outstanding")
    assert scale.good_words == "Good or Outstanding"
    assert scale.name == "Outstanding / Good / Requires improvement / Inadequate"
    assert scale.parse("RI") == scale.parse(" requires-improvement. ") == "requires_improvement"
    assert scale.parse("Outstanding") == "outstanding"  # a level's own words are spellings
    assert scale.parse("Met") is None  # no word of the built-in scale
    assert scale.parse("N/A") == "not_applicable" and scale.parse("  ") == "not_recorded"


def test_two_levels_are_nominal_three_or_more_ordinal(tmp_path):
    assert not read_scale(write_scale(tmp_path / "a", YES_NO)).ordinal
    assert read_scale(write_scale(tmp_path / "b", OFSTED)).ordinal


def _with(**changes) -> dict:
    return {**OFSTED, **changes}


@pytest.mark.parametrize(
    ("content", "reason", "value"),
    [
        (_with(scale=["good"], good=["good"]), "2 to 7 levels", "1"),
        (_with(scale=[f"l{i}" for i in range(8)], good=["l7"]), "2 to 7 levels", "8"),
        (_with(good=["outstanding", "requires_improvement"]), "top levels", "requires_improvement"),
        (_with(good=["excellent"]), "not on the scale", "excellent"),
        (_with(good=OFSTED["scale"]), "not all of them", "inadequate"),
        ({k: v for k, v in OFSTED.items() if k != "good"}, "lacks good", None),
        (_with(scale=["good", "good", "outstanding"]), "twice", "good"),
        (_with(spellings={"good": ["fine"], "inadequate": ["Fine."]}), "two levels", "'fine'"),
        (
            _with(spellings={"good": ["requires improvement"]}),
            "two levels",
            "'requires improvement'",
        ),
        (_with(labels={"great": "Great"}), "not on the scale", "great"),
        (_with(scale=["Bad Level", "good"], good=["good"]), "lower-case key", "Bad Level"),
        (_with(colour="red"), "unknown key", "colour"),
        ("scale: [a, b\ngood: [b]\n", "not valid YAML at line", None),
        ("- just a list\n", "not a mapping", None),
    ],
)
def test_a_bad_ratings_file_is_refused_in_one_line(tmp_path, content, reason, value):
    path = write_scale(tmp_path, content)
    with pytest.raises(AuditDataError) as caught:
        read_scale(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert reason in message
    if value is not None:
        assert value in message


def test_a_bad_ratings_file_stops_the_load_in_one_line(tmp_path):
    folder = tmp_path / "2018-19"
    write_cases(folder)
    write_scale(tmp_path, _with(good=["inadequate"]))
    with pytest.raises(AuditDataError, match=r"ratings\.yaml.*top levels.*inadequate"):
        load_cycle(tmp_path, "2018-19")


def test_an_audits_own_file_overrides_the_data_folders(tmp_path):
    write_scale(tmp_path, OFSTED)
    write_scale(tmp_path / "2019-20", YES_NO)
    assert scale_for(tmp_path, tmp_path / "2019-20").levels == ("no", "yes")
    assert list(scale_for(tmp_path, tmp_path / "2018-19").levels) == OFSTED["scale"]
    assert list(scale_for(tmp_path).levels) == OFSTED["scale"]
    assert scale_for(tmp_path / "nowhere") is BUILTIN


# ------------------------------------------------------------------ the loader


def test_the_loader_reads_the_partnerships_words_and_refuses_the_builtin_ones(tmp_path):
    folder = tmp_path / "2018-19"
    write_cases(folder)
    write_scale(tmp_path, YES_NO)
    write_ratings(
        folder, [("C01", 1, "Yes"), ("C01", 2, "n"), ("C02", 1, "N/A"), ("C02", 2, "Met")]
    )
    data = load_cycle(tmp_path, "2018-19")
    assert data.scale.levels == ("no", "yes")
    assert list(data.ratings["rating"].astype(str)) == ["yes", "no", "not_applicable"]
    assert list(data.ratings["rating"].cat.categories) == [
        "not_recorded",
        "not_applicable",
        "no",
        "yes",
    ]
    (reason,) = data.rejections["reason"]
    assert reason.endswith("unknown rating; expected yes, no or n/a")
    assert list(data.rejections["raw_value"]) == ["Met"]


def test_without_a_file_the_builtin_scale_is_used(tmp_path):
    folder = tmp_path / "2018-19"
    write_cases(folder)
    write_ratings(folder, [("C01", 1, "Met"), ("C01", 2, "partly met")])
    data = load_cycle(tmp_path, "2018-19")
    assert data.scale is BUILTIN
    assert list(data.ratings["rating"].astype(str)) == ["met", "partially_met"]


# ------------------------------------------------------------------ shares


def test_shares_on_a_custom_scale_equal_a_hand_count(tmp_path):
    """Ofsted's grades, good = Good or Outstanding: counted by hand below."""
    folder = tmp_path / "2018-19"
    write_cases(folder)
    write_scale(tmp_path, OFSTED)
    rows = [
        ("C01", 1, "Outstanding"),  # good
        ("C01", 2, "RI"),
        ("C02", 1, "Good"),  # good
        ("C02", 2, "Inadequate"),
        ("C03", 1, "requires improvement"),
        ("C03", 2, "N/A"),  # outside the scale
        ("C04", 1, "good"),  # good
        ("C04", 2, "Outstanding"),  # good
    ]
    write_ratings(folder, rows)
    data = load_cycle(tmp_path, "2018-19")
    assert data.rejections.empty
    overall = overall_summary(data.ratings).iloc[0]
    # 7 ratings on the scale, 4 of them Good or Outstanding.
    assert overall["n"] == 7 and overall["met_or_better"] == 4
    assert overall["share"] == pytest.approx(4 / 7)
    assert overall["outstanding"] == 2 and overall["good"] == 2
    assert overall["requires_improvement"] == 2 and overall["inadequate"] == 1
    assert overall["not_applicable"] == 1
    assert "met" not in overall.index and "exceeded" not in overall.index
    by_standard = standard_summary(data.ratings, data.framework).set_index("standard")
    # standard 1: Outstanding, Good, RI, good -> 3 of 4; standard 2: RI, Inadequate,
    # Outstanding (N/A left out) -> 1 of 3.
    assert by_standard.loc[1, ["met_or_better", "n"]].tolist() == [3, 4]
    assert by_standard.loc[2, ["met_or_better", "n"]].tolist() == [1, 3]
    assert by_standard.loc[1, "share"] == pytest.approx(0.75)
    assert np.isnan(by_standard.loc[3, "share"])  # no ratings: no share
