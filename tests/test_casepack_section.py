"""The case pack as a section, tested without a kernel: :class:`CasePack` returns the
case's ratings and evidence as blocks and shows, draws and writes nothing; the one
renderer escapes every piece of text; the ◆ rows are the disagreements; and the
markup is the very page body the hand-written HTML gave (hashes pinned before the
change)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from audit_analysis import load_cycle
from audit_analysis.io.ratings import MET_OR_BETTER, SCALE
from audit_analysis.render import present
from audit_analysis.render.present import Report, block_html, section_html
from audit_analysis.render.section import (
    Bullets,
    Emphasis,
    Grid,
    Group,
    Heading,
    Row,
    RowGroup,
    Section,
    Strong,
    Table,
    Text,
)
from audit_analysis.sections.casepack import SHORT, CasePack, case_pack_html, flagged_cases

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "<script>alert(1)</script>"
# sha256 of case_pack_html for the demo's flagged cases, taken from the hand-written
# HTML before the case pack became a section: the section's markup is byte-identical.
GOLDEN = {
    "C17": "e64b70fc79ea048c9fa28cb583890f78968280daa93d864fda1c2c61edc2ef65",
    "C18": "e9a0400df7bd7654cd32bdf57442ff21ef1b2b1f69be9fe9510dcdb350089c10",
    "C19": "fe3577bbd7862e8efac5992ea998c34b168a2dfc32971f900a09ea6ec9e89f34",
    "C20": "95fb74cb250d02ff8f11c7f8a3fa6b2e50bff088ba3ea8e3c394496905f2e03f",
    "C21": "3cd82a405e999386c207dc7753ea48bafce21df5a2130a8d45304d0142997a6a",
    "C22": "a33b5bd59902c49658f3da370951ff69fd2cd1fa474a1afed45eee37d4c5a9af",
    "C23": "3ec59daa8b5652af8045c1e3fa370dd887bd82ee388b95fb71c76336d91d7959",
    "C24": "40545e692661f9d89b59351745b4314bfb4ebbf0ea8d2467d51ca065265e717b",
}


@pytest.fixture(scope="module")
def data():
    return load_cycle(ROOT / "data" / "demo", "2018-19")


def _grid(section: Section) -> Grid:
    (grid,) = [b for b in section.blocks("grid") if isinstance(b, Grid)]
    return grid


def _rows(section: Section) -> dict[int, Row]:
    """The grid's rows by standard number (their label is ``<standard>. <wording>``)."""
    return {int(row.label.split(".")[0]): row for g in _grid(section).groups for row in g.rows}


def _evidence(section: Section) -> dict[int, Bullets]:
    """Each evidence group's list, by standard number."""
    out = {}
    for block in section.blocks("evidence"):
        if isinstance(block, Group):
            heading, bullets = block.blocks
            assert isinstance(heading, Heading) and heading.level == 3
            out[int(heading.text.split(".")[0])] = bullets
    return out


def _strings(value) -> list[str]:
    """Every string a block holds, however deep (frames aside)."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_demo_cycle_has_packs_to_test(data):
    assert flagged_cases(data) == sorted(GOLDEN)


def test_building_shows_draws_and_writes_nothing(data, monkeypatch, tmp_path):
    def refuse(markup):
        raise AssertionError("the case pack builder displayed something")

    monkeypatch.setattr(present, "display_html", refuse)
    monkeypatch.chdir(tmp_path)
    plt.close("all")
    section = CasePack(data, "C17").build()
    assert isinstance(section, Section) and section.name == "case-pack"
    assert list(section.parts) == ["case", "disagree", "grid", "evidence"]
    assert plt.get_fignums() == [] and list(tmp_path.iterdir()) == []
    # blocks hold text, never markup: the demo's words have no angle brackets
    held = _strings(list(section.blocks()))
    assert held and not [s for s in held if "<" in s or ">" in s]


def test_the_blocks_hold_the_cases_ratings_and_evidence(data):
    seen_blank = False
    for case in GOLDEN:
        section = CasePack(data, case).build()
        mine = data.ratings[data.ratings["case_ref"] == case]
        agencies = sorted(mine["agency"].unique())
        grid = _grid(section)
        assert grid.columns == ("Standard", *agencies)
        rows, evidence = _rows(section), _evidence(section)
        assert sorted(rows) == sorted(data.framework.to_frame()["standard"])
        assert sorted(evidence) == sorted(mine["standard"].unique())
        for r in mine.itertuples():
            assert rows[r.standard].cells[agencies.index(r.agency)] == SHORT[str(r.rating)]
            said = evidence[r.standard].items
            given = r.evidence if isinstance(r.evidence, str) else Emphasis("no evidence given")
            assert (Strong(r.agency), f" ({SHORT[str(r.rating)]}): ", given) in said
            seen_blank |= not isinstance(r.evidence, str)
        for standard, row in rows.items():  # an agency that did not rate it: a blank cell
            rated = set(mine.loc[mine["standard"] == standard, "agency"])
            assert [c == "" for c in row.cells] == [a not in rated for a in agencies]
        assert f"Case pack: {case}" in [b.text for b in section["case"] if isinstance(b, Heading)]
    assert seen_blank  # "no evidence given" was exercised


def test_sentences_are_plain_text(data):
    sentences = CasePack(data, "C17").build().sentences()
    assert any(s.startswith("Returned nothing for this case (of the agencies") for s in sentences)
    assert all(isinstance(s, str) for s in sentences)


def test_the_markup_is_unchanged(data):
    for case, digest in GOLDEN.items():
        markup = case_pack_html(data, case)
        assert hashlib.sha256(markup.encode("utf-8")).hexdigest() == digest, case
        assert markup == section_html(CasePack(data, case).build())


def _hostile(data):
    """The demo cycle with hostile text wherever C20's pack quotes the data."""
    ratings = data.ratings.copy()
    ratings.loc[ratings["case_ref"] == "C20", "evidence"] = HOSTILE
    cases = data.cases.copy()
    cases.loc[cases["case_ref"] == "C20", "priority"] = HOSTILE
    deep = data.deep_dive.copy()
    deep.loc[deep["case_ref"] == "C20", "themes"] = HOSTILE
    return dataclasses.replace(data, ratings=ratings, cases=cases, deep_dive=deep)


def test_hostile_text_is_held_as_data_and_escaped_when_rendered(data, tmp_path):
    hostile = _hostile(data)
    section = CasePack(hostile, "C20").build()
    assert HOSTILE in _strings(list(section.blocks()))  # the builder does not escape
    markup = section_html(section)
    assert "<script>" not in markup and "alert(1)</" not in markup
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    mine = hostile.ratings[hostile.ratings["case_ref"] == "C20"]
    assert markup.count(escaped) == len(mine) + 2  # every quote, the priority, the themes
    for r in mine.itertuples():
        assert f"<li><strong>{r.agency}</strong> ({SHORT[str(r.rating)]}): {escaped}</li>" in markup
    assert f"Priority theme: {escaped};" in markup and f"themes: {escaped};" in markup
    # the one renderer: a Report renders every block as section_html does
    report = Report(tmp_path / "out", "2018-19")
    shown = "\n".join(m for m in map(report.html, section.blocks()) if m)
    assert shown == markup
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []  # nothing written


def test_every_new_block_escapes_its_text():
    evil = '<b x="1">&'
    safe = "&lt;b x=&quot;1&quot;&gt;&amp;"
    assert block_html(Heading(evil, 2)) == f"<h2>{safe}</h2>"
    assert block_html(Text((Strong(evil), evil, Emphasis(evil)), css="note")) == (
        f'<p class="note"><strong>{safe}</strong>{safe}<em>{safe}</em></p>'
    )
    assert block_html(Bullets(((Strong(evil), ": ", Emphasis(evil)),))) == (
        f"<ul><li><strong>{safe}</strong>: <em>{safe}</em></li></ul>"
    )
    grid = Grid(
        (evil, evil),
        (RowGroup(evil, (Row(evil, (evil,), css="disagree", mark="◆"),), css="kloe"),),
        css="grid",
    )
    assert block_html(grid) == (
        f'<table class="grid"><thead><tr><th scope="col">{safe}</th><th scope="col">{safe}'
        f'</th></tr></thead><tbody><tr class="kloe"><th colspan="2" scope="rowgroup">{safe}'
        f'</th></tr><tr class="disagree"><th scope="row">◆ {safe}</th><td>{safe}</td></tr>'
        "</tbody></table>"
    )
    assert block_html(Group((Heading(evil, 3), Bullets((evil,))))) == (
        f"<h3>{safe}</h3><ul><li>{safe}</li></ul>"
    )
    with pytest.raises(ValueError):
        Heading("too deep", 7)
    with pytest.raises(TypeError, match="writes files"):
        block_html(Table(pd.DataFrame({"a": [1]}), "caption", "name"))


def _disagreements(mine: pd.DataFrame) -> tuple[set[int], set[int]]:
    """(standards where one agency says met or exceeded and another unmet, standards
    whose ratings on the scale differ otherwise), counted here from the ratings."""
    disagree, spread = set(), set()
    for standard, ratings in mine.groupby("standard", observed=True)["rating"]:
        said = {str(r) for r in ratings}
        if said & set(MET_OR_BETTER) and "unmet" in said:
            disagree.add(int(standard))
        elif len(said & set(SCALE)) > 1:
            spread.add(int(standard))
    return disagree, spread


def _marked(section: Section, mark: str) -> set[int]:
    return {s for s, row in _rows(section).items() if row.mark == mark}


def test_the_diamond_rows_are_the_disagreements(data):
    counted = 0
    for case in GOLDEN:
        section = CasePack(data, case).build()
        disagree, spread = _disagreements(data.ratings[data.ratings["case_ref"] == case])
        assert _marked(section, "◆") == disagree, case
        assert _marked(section, "◇") == spread, case
        rows = _rows(section)
        assert {s for s, r in rows.items() if r.css == "disagree"} == disagree
        assert {s for s, r in rows.items() if r.css == "spread"} == spread
        listed = [b for b in section["disagree"] if isinstance(b, Bullets)]
        said = [int(i.split()[1]) for b in listed for i in b.items]
        assert said == sorted(disagree, key=list(rows).index)
        counted += len(disagree)
    assert counted  # the demo has disagreements to find


def test_met_against_unmet_is_a_diamond_and_met_against_partly_met_is_not(data):
    ratings = data.ratings.copy()
    mine = ratings[ratings["case_ref"] == "C17"]
    agencies = sorted(mine["agency"].unique())[:2]
    for standard, (first, second) in {
        1: ("met", "unmet"),
        2: ("exceeded", "partially_met"),
    }.items():
        for agency, rating in zip(agencies, (first, second), strict=True):
            at = (ratings["case_ref"] == "C17") & (ratings["standard"] == standard)
            ratings.loc[at & (ratings["agency"] == agency), "rating"] = rating
        others = at & ~ratings["agency"].isin(agencies)
        ratings.loc[others, "rating"] = "not_applicable"
    changed = ratings[(ratings["case_ref"] == "C17") & ratings["standard"].isin([1, 2])]
    said = {(r.standard, r.agency): str(r.rating) for r in changed.itertuples()}
    assert [said[1, a] for a in agencies] == ["met", "unmet"]  # both agencies rated both
    assert [said[2, a] for a in agencies] == ["exceeded", "partially_met"]
    section = CasePack(dataclasses.replace(data, ratings=ratings), "C17").build()
    assert 1 in _marked(section, "◆") and 1 not in _marked(section, "◇")
    assert 2 in _marked(section, "◇") and 2 not in _marked(section, "◆")
    assert _rows(section)[1].css == "disagree" and _rows(section)[2].css == "spread"
