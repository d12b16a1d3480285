"""A partnership's own rating scale (docs/own-scale.md): read from its data folder,
checked, and followed by the loader and every summary."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import openpyxl
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
        (_with(good=list(OFSTED["scale"])), "not all of them", "inadequate"),
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
        ("scale: [a, b\ngood: [b]\n", "cannot read: while parsing", "line 2"),
        ("scale: [a, b]\ngood: [b]\ngood: [a]\n", "given twice", "good"),
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


# ------------------------------------------------------------------ templates


def test_templates_offer_the_partnerships_scale_and_read_back(tmp_path):
    from test_templates import _audit, _fill

    from audit_analysis.admin.templates import write_templates

    data = tmp_path / "data"
    folder = data / "2018-19"
    write_cases(folder)
    write_scale(data, OFSTED)
    made = write_templates(data, "2018-19", tmp_path / "templates", agencies=["WMP"], cases=["C01"])
    ws = _audit(made.files[0])
    (dv,) = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert dv.formula1 == '"Outstanding,Good,Requires improvement,Inadequate,N/A"'
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    guide = " ".join(
        str(c.value)
        for row in openpyxl.load_workbook(made.files[0])["Guidance"].iter_rows()
        for c in row
        if c.value
    )
    for words in (text, guide):
        assert "A rating of Outstanding or Good needs evidence" in words
        assert not BUILTIN_WORDS.search(words), BUILTIN_WORDS.search(words)
    choices = dv.formula1.strip('"').split(",")
    entries = {n: (word, "seen") for n, word in enumerate(choices, start=1)}
    _fill(made.files[0], folder / "returns" / "WMP" / made.files[0].name, entries)
    loaded = load_cycle(data, "2018-19")
    assert loaded.rejections.empty
    rated = loaded.ratings.set_index("standard")["rating"].astype(str)
    assert [rated[n] for n in range(1, 6)] == [
        "outstanding",
        "good",
        "requires_improvement",
        "inadequate",
        "not_applicable",
    ]


# ------------------------------------------------------------------ end to end

# Any word of the built-in scale a page could show.
BUILTIN_WORDS = re.compile(
    r"\bexceed(?:ed|s)?\b|\bpartially met\b|\bpartly met\b|\bnot met\b|\bunmet\b|\bmet or\b"
    r"|\bmet against\b|\bMet\b",
    re.IGNORECASE,
)
YES_NO_WORDS = ["No", "n", "No", "Yes", "y", "Yes", "N/A"]


def _page_text(path: Path) -> str:
    """A page's words as a reader sees them (markup, scripts and styles left out)."""
    return _words(path.read_text(encoding="utf-8"))


def _words(markup: str) -> str:
    """The words of HTML ``markup`` as a reader sees them, alt texts and titles too."""
    from html.parser import HTMLParser

    class Words(HTMLParser):
        def __init__(self):
            super().__init__()
            self.skip = 0
            self.words: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style")
            for name, value in attrs:
                if name in ("alt", "title", "aria-label") and value:
                    self.words.append(value)

        def handle_endtag(self, tag):
            self.skip -= tag in ("script", "style")

        def handle_data(self, data):
            if not self.skip:
                self.words.append(data)

    parser = Words()
    parser.feed(markup)
    return " ".join(parser.words)


@pytest.fixture(scope="module")
def yes_no_run(tmp_path_factory):
    """The study (tests/study.py) rated Yes / No in every audit, run end to end."""
    from study import build_study

    from audit_analysis.pipeline.runner import run_annual, run_case_packs

    root = tmp_path_factory.mktemp("yes-no")
    data = root / "data"
    words = dict.fromkeys(("2017-18", "2018-19", "2019-20"), YES_NO_WORDS)
    build_study(data, words=words, disagree=("Yes", "No"))
    write_scale(data, YES_NO)
    progress = data / "2019-20" / "progress.csv"
    progress.write_text(progress.read_text().replace(",met", ",carried forward"))
    out = run_annual(data, "2019-20", out=root / "out", progress=False)
    packs = run_case_packs(data, "2019-20", out=root / "out", progress=False)
    return data, out, packs


@pytest.mark.e2e
@pytest.mark.slow
def test_a_two_level_scale_runs_end_to_end_with_no_word_of_the_builtin_scale(yes_no_run):
    data, out, packs = yes_no_run
    pages = sorted(out.rglob("*.html"))
    assert pages and any(p.is_relative_to(packs) for p in pages)
    for page in pages:
        # "met" is also a status of an area for development (docs/data-contract.md,
        # progress.csv), not a rating: the study's statuses are made "carried forward"
        # below, and the one sentence that names the statuses is left out
        text = " ".join(_page_text(page).split()).replace("recorded as met or dropped", "")
        found = BUILTIN_WORDS.search(text)
        assert found is None, (
            f"{page.name}: ...{text[max(found.start() - 80, 0) : found.end() + 80]}..."
        )
    from pypdf import PdfReader

    pdf = next(out.glob("executive*.pdf"))
    printed = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    printed = printed.replace("recorded as met or dropped", "")
    assert "rated Yes" in printed
    found = BUILTIN_WORDS.search(printed)
    assert found is None, printed[max(found.start() - 80, 0) : found.end() + 80]
    executive = _page_text(next(p for p in pages if p.name.startswith("executive")))
    assert "were rated Yes" in executive
    # the manifest names the scale the run read, with its hash
    import hashlib
    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (scale,) = [i for i in manifest["inputs"] if i["path"] == "ratings.yaml"]
    want = hashlib.sha256((data / "ratings.yaml").read_bytes()).hexdigest()
    assert scale["cycle"] is None and scale["sha256"] == want
    # the shares the pages show are counted on the Yes / No scale: check one by hand
    loaded = load_cycle(data, "2019-20")
    rated = loaded.ratings["rating"].astype(str)
    on_scale = rated.isin(["yes", "no"])
    hand = (rated == "yes").sum() / on_scale.sum()
    overall = overall_summary(loaded.ratings).iloc[0]
    assert overall["share"] == pytest.approx(hand)
    assert f"{hand:.0%} of their" in executive


def test_a_change_of_scale_between_audits_compares_the_share_rated_good_with_a_note(
    tmp_path_factory,
):
    """The note and the shares, by hand; that the pages of a run carry the note is checked
    on the second demo's audit on a changed scale (tests/test_demo_thematic.py)."""
    from study import build_study

    from audit_analysis.analysis.trends import overall_trend, scale_note

    root = tmp_path_factory.mktemp("scale-change")
    data = root / "data"
    build_study(data, words={"2019-20": YES_NO_WORDS})
    write_scale(data / "2019-20", YES_NO)  # the partnership moved to Yes / No this year
    current = load_cycle(data, "2019-20")
    earlier = [load_cycle(data, c) for c in ("2017-18", "2018-19")]
    assert current.scale.levels == ("no", "yes") and earlier[0].scale is BUILTIN
    note = scale_note(current, earlier)
    assert "2017-18 and 2018-19 on Exceeded / Met / Partially met / Not met" in note
    assert "good means Met or Exceeded" in note
    assert "2019-20 on Yes / No, where good means Yes" in note
    # each audit's share rated good on its own scale, counted by hand
    trend = overall_trend(current, earlier).iloc[0]
    for d in (*earlier, current):
        rated = d.ratings["rating"].astype(str)
        good = rated.isin(d.scale.good).sum() / rated.isin(d.scale.levels).sum()
        assert trend[f"share_{d.cycle}"] == pytest.approx(good)


def test_validate_refuses_a_bad_scale_in_one_line(tmp_path, capsys):
    from audit_analysis.pipeline.cli import main

    write_cases(tmp_path / "2018-19")
    path = write_scale(tmp_path, _with(scale=["only"], good=["only"]))
    assert main(["validate", str(tmp_path), "--cycle", "2018-19"]) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    line = next(x for x in err.splitlines() if "ratings.yaml" in x)
    assert str(path) in line and "2 to 7 levels" in line


@pytest.mark.e2e
@pytest.mark.slow
def test_the_explorer_speaks_the_scale_in_every_view(yes_no_run, tmp_path):
    from test_explore import set_control

    from audit_analysis.explore import Explorer
    from audit_analysis.explore.state import VIEWS

    data, _, _ = yes_no_run
    cycles = {c: load_cycle(data, c) for c in ("2017-18", "2018-19", "2019-20")}
    ex = Explorer(cycles, "2019-20", ["2017-18", "2018-19"], export_dir=tmp_path, view="summary")
    for name in VIEWS:
        set_control(ex, "view", name)
        text = " ".join(_words(ex._out["answer"].value).split())
        assert not BUILTIN_WORDS.search(text), (name, BUILTIN_WORDS.search(text))
        assert "yes" in text.lower(), name
    set_control(ex, "view", "summary")
    assert set(ex.table.columns) >= {"yes", "no", "met_or_better"}
    assert "exceeded" not in ex.table.columns


def test_agreement_on_two_levels_is_krippendorffs_nominal_alpha_by_hand(tmp_path):
    """Two agencies, four cases, one standard on Yes / No: A says yes, yes, no, no and B
    yes, no, no, no. Coincidences: yes-yes 2, yes-no 2 (both ways), no-no 4; n_yes 3,
    n_no 5, n 8. Alpha = 1 - (n - 1) * 2 / (2 * n_yes * n_no) = 1 - 14 / 30."""
    from audit_analysis.analysis.agreement import agreement_overall

    folder = tmp_path / "2018-19"
    write_cases(folder)
    write_scale(tmp_path, YES_NO)
    cases = ["C01", "C02", "C03", "C04"]
    write_ratings(
        folder, [(c, 1, w) for c, w in zip(cases, ["yes", "yes", "no", "no"], strict=True)]
    )
    b = [(c, 1, w) for c, w in zip(cases, ["yes", "no", "no", "no"], strict=True)]
    write_ratings(folder, b, agency="CCG")
    data = load_cycle(tmp_path, "2018-19")
    assert data.rejections.empty
    row = agreement_overall(data.ratings, data.framework, n_boot=0).iloc[0]
    assert row["pct_agree"] == pytest.approx(3 / 4)
    assert row["alpha"] == pytest.approx(1 - 14 / 30)


def test_agreement_on_four_grades_is_ordinal_as_on_the_builtin_scale(tmp_path):
    """The same pattern of ratings, written as Ofsted's grades and as the built-in
    scale's words, gives one ordinal alpha: the levels are coded by position."""
    from audit_analysis.analysis.agreement import agreement_overall

    builtin = ["Not met", "Partially met", "Met", "Exceeded"]
    grades = ["Inadequate", "RI", "Good", "Outstanding"]
    a = [0, 1, 2, 3, 2, 1, 3, 0]
    b = [0, 2, 2, 3, 1, 1, 2, 1]
    cases = [f"K{i}" for i in range(8)]
    alphas = []
    for name, words in (("builtin", builtin), ("ofsted", grades)):
        root = tmp_path / name
        write_cases(root / "2018-19", rows=[[c, "neglect", "9", "", "", ""] for c in cases])
        if name == "ofsted":
            write_scale(root, OFSTED)
        for agency, levels in (("WMP", a), ("CCG", b)):
            rows = [(c, 1, words[x]) for c, x in zip(cases, levels, strict=True)]
            write_ratings(root / "2018-19", rows, agency=agency)
        data = load_cycle(root, "2018-19")
        assert data.rejections.empty
        alphas.append(agreement_overall(data.ratings, data.framework, n_boot=0).iloc[0]["alpha"])
    assert not np.isnan(alphas[0])
    assert alphas[1] == pytest.approx(alphas[0])


def test_a_runs_cached_cycles_are_read_again_when_the_scale_changes(tmp_path):
    """The run's load cache (io/cache.py) keys on the partnership's ratings.yaml too."""
    from audit_analysis.io.cache import fingerprint

    folder = tmp_path / "2018-19"
    write_cases(folder)
    before = fingerprint(tmp_path, folder)
    path = write_scale(tmp_path, YES_NO)
    added = fingerprint(tmp_path, folder)
    assert added != before
    path.write_text(yaml.safe_dump(OFSTED), encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert fingerprint(tmp_path, folder) != added


def test_validate_names_the_partnerships_scale_and_counts_on_it(tmp_path, capsys):
    from audit_analysis.pipeline.cli import main

    folder = tmp_path / "2018-19"
    write_cases(folder)
    path = write_scale(tmp_path, YES_NO)
    write_ratings(folder, [("C01", 1, "Yes"), ("C01", 2, "Met"), ("C02", 1, "no")])
    main(["validate", str(tmp_path), "--cycle", "2018-19"])
    out = capsys.readouterr().out
    assert f"rated on Yes / No, good meaning Yes ({path})" in out
    assert "Ratings: 2 accepted; 1 rows rejected" in out
    assert "unknown rating; expected yes, no or n/a" in out
    assert not re.search(r"\bexceeded\b|\bpartially met\b", out, re.IGNORECASE)
