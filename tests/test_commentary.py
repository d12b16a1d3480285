"""The QA group's commentary (issue 19): its contract as ``validate`` checks it, its figure
references resolved with the very numbers and words of the computed sections, hostile
text shown as text, and the DRAFT marking until it is ratified."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from audit_analysis.analysis import summaries
from audit_analysis.analysis import trends as trend_stats
from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.commentary import commentary_status, parse_commentary, read_commentary
from audit_analysis.pipeline.notebook import open_session
from audit_analysis.pipeline.runner import banners
from audit_analysis.pipeline.validation import commentary_lines
from audit_analysis.render.export import marking_of
from audit_analysis.render.present import block_html
from audit_analysis.render.section import Bullets, Heading, Strong, Text
from audit_analysis.sections import commentary as words
from audit_analysis.sections.by_kloe import KloeFindings
from audit_analysis.sections.executive import Executive
from audit_analysis.sections.trends import Trends
from audit_analysis.sections.words import pct, points, verdict_words

ROOT = Path(__file__).resolve().parent.parent
KLOES = [
    "thresholds",
    "information-sharing",
    "voice-of-the-child",
    "interventions",
    "supervision",
    "dispute-resolution",
]
GOOD = """---
status: draft
---
## Summary
All well: {{ share overall }}.

## KLOE thresholds
Fine.
"""


def problems(text: str) -> list[tuple[int, str, str]]:
    return [(p.line, p.level, p.message) for p in parse_commentary(text, KLOES).problems]


# --- the contract ---------------------------------------------------------------------
def test_a_sound_commentary_has_its_parts_and_no_problem():
    found = parse_commentary(GOOD, KLOES)
    assert found.problems == []
    assert found.status == "draft" and not found.ratified
    assert list(found.parts) == ["summary", "kloe:thresholds"]
    assert found.text("summary") == "All well: {{ share overall }}."
    assert [(r.kind, r.key, r.line) for r in found.references] == [("share", "overall", 5)]


def test_unknown_headings_and_kloes_are_named_by_line():
    text = GOOD + "\n## Other thoughts\nx\n\n## KLOE nonsense\ny\n\n## Summary\nagain\n"
    found = problems(text)
    assert [(line, level) for line, level, _ in found] == [
        (10, "error"),
        (13, "error"),
        (16, "error"),
    ]
    assert "'## Other thoughts' is not a heading the report knows" in found[0][2]
    assert "names no KLOE of this cycle" in found[1][2] and "thresholds" in found[1][2]
    assert "given twice" in found[2][2]


def test_nothing_written_is_dropped_silently():
    found = problems("---\nstatus: draft\n---\nA stray line.\n## Summary\nx\n<!-- open\n")
    assert (4, "error") in [(line, level) for line, level, _ in found]
    assert any("never closed" in m for _, _, m in found)


def test_front_matter_and_ratification():
    assert problems("## Summary\nx\n")[0][2].startswith("no front matter")
    assert "status must be" in problems("---\nstatus: final\n---\n## Summary\nx\n")[0][2]
    bare = problems("---\nstatus: ratified\n---\n## Summary\nx\n")
    assert {m for _, _, m in bare} == {
        "a ratified commentary names 'ratified_by'",
        "a ratified commentary gives 'ratified_on' (a date)",
    }
    sound = parse_commentary(
        "---\nstatus: ratified\nratified_by: Executive Group\nratified_on: 2019-03-14\n---\n"
        "## Summary\nx\n",
        KLOES,
    )
    assert sound.ratified and sound.ratified_on == "2019-03-14"


def test_comments_never_reach_a_part_and_keep_line_numbers():
    text = "---\nstatus: draft\n---\n## Summary\n<!-- a note\nover lines -->\nx 40%\n"
    found = parse_commentary(text, KLOES)
    assert found.text("summary") == "x 40%"
    assert [(p.line, p.level) for p in found.problems] == [(7, "warning")]


def test_typed_figures_are_warnings_suggesting_a_reference():
    found = problems(
        "---\nstatus: draft\n---\n## Summary\n"
        "We met 45% of standards, 18 of 24 cases were fine, in KLOE 3 and 2018-19.\n"
        "{{ share overall }} and {{ cases }} are references.\n"
    )
    assert [(line, level) for line, level, _ in found] == [(5, "warning"), (5, "warning")]
    assert "'45%' is typed by hand: use {{ share KEY }}" in found[0][2]
    assert "'18 of 24 cases' is typed by hand: use {{ cases }}" in found[1][2]


def test_a_malformed_reference_is_an_error():
    found = problems("---\nstatus: draft\n---\n## Summary\n{{ shares overall }}\n")
    assert found == [
        (
            5,
            "error",
            "'{{ shares overall }}' is not a figure reference: write {{ share KEY }}, "
            "{{ change KEY vs CYCLE }}, {{ cases }} or {{ agencies }}",
        )
    ]


# --- figures by reference -------------------------------------------------------------
@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return open_session(ROOT / "data" / "demo", "2018-19", tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def figures(session):
    kloes, trends = KloeFindings(session), Trends(session)
    return words.CommentaryFigures(session, kloes.standards, trends.table)


def _interval(row) -> str:
    return f"{pct(row['share'])} (95% interval by case: {pct(row['low'])} to {pct(row['high'])})"


def test_every_share_reference_is_the_tables_figure(session, figures):
    data = session.data
    overall = summaries.overall_summary(data.ratings).iloc[0]
    assert figures.substitute("{{ share overall }}") == _interval(overall)
    kloes = summaries.kloe_summary(data.ratings, data.framework).set_index("kloe_key")
    for key in KLOES:
        assert figures.substitute(f"{{{{share {key}}}}}") == _interval(kloes.loc[key])
    standards = summaries.standard_summary(data.ratings, data.framework).set_index("standard_key")
    assert figures.substitute("{{ share smart-plans }}") == _interval(standards.loc["smart-plans"])
    assert figures.substitute("{{ cases }} and {{ agencies }}") == f"{len(data.cases)} and 13"


def _change(row, versus: str) -> str:
    word = verdict_words(row[f"verdict_vs_{versus}"])
    return (
        f"{points(row[f'diff_vs_{versus}'])} points (95% interval by case: "
        f"{points(row[f'diff_low_vs_{versus}'])} to {points(row[f'diff_high_vs_{versus}'])}): "
        f"{word}"
    )


def test_every_change_reference_is_the_trend_tables_figure_and_verdict(session, figures):
    data, earlier = session.data, session.earlier
    table = trend_stats.trend_table(data, earlier).set_index("standard_key")
    for key in ("smart-plans", "child-central-in-supervision", "threshold-guidance"):
        for versus in ("2016-17", "2017-18"):
            assert figures.substitute(f"{{{{ change {key} vs {versus} }}}}") == _change(
                table.loc[key], versus
            )
    kloes = trend_stats.kloe_trend_table(data, earlier, common_standards_only=True)
    row = kloes.set_index("kloe_key").loc["supervision"]
    assert figures.substitute("{{ change supervision vs 2017/18 }}") == _change(row, "2017-18")
    overall = trend_stats.overall_trend(data, earlier, common_standards_only=True).iloc[0]
    assert figures.substitute("{{ change overall vs 2016-17 }}") == _change(overall, "2016-17")
    # the verdict a standard's reference gives is the trends page's: adjusted across
    # standards (2018-19's standard 13 moved a lot, but is no clear change there)
    assert figures.substitute("{{ change smart-plans vs 2017-18 }}").endswith(
        table.loc["smart-plans", "verdict_vs_2017-18"]
        if table.loc["smart-plans", "verdict_vs_2017-18"] == "no clear change"
        else ""
    )


def test_a_suppressed_figure_is_suppressed_in_words(tmp_path):
    small = open_session(ROOT / "data" / "demo", "2018-19", tmp_path, min_cell_count=25)
    kloes, trends = KloeFindings(small), Trends(small)
    figures = words.CommentaryFigures(small, kloes.standards, trends.table)
    hidden = "(not shown: it rests on fewer than 25 cases)"
    assert figures.substitute("{{ share thresholds }}") == hidden
    assert figures.substitute("{{ change smart-plans vs 2017-18 }}") == hidden
    revealing = words.CommentaryFigures(small, kloes.standards, trends.table, {"supervision"})
    assert revealing.substitute("{{ share supervision }}") == (
        "(not shown: it would reveal a number under 25)"
    )


def test_unresolvable_references_are_errors_naming_the_line(session):
    text = (
        "---\nstatus: draft\n---\n## Summary\n{{ share overall }}\n{{ share no-such-key }}\n"
        "{{ change overall vs 2015-16 }}\n"
    )
    found = parse_commentary(text, KLOES)
    errors = words.check_references(found, session.data.framework, ["2016-17", "2017-18"])
    assert [p.line for p in errors] == [6, 7]
    assert "'no-such-key' is not 'overall', a KLOE key or a standard key" in errors[0].message
    assert "'2015-16' is not a cycle this run compares with (compared: 2016-17, 2017-18)" in (
        errors[1].message
    )


# --- shown safely ---------------------------------------------------------------------
HOSTILE = """Plain <script>alert(1)</script> and <b>bold</b> & <img src="http://evil.invalid/x.png">.

![remote](http://evil.invalid/pixel.png)

[click](javascript:alert(1)) and [the guidance](https://example.org/guide) **strong _both_**

- item one {{ cases }}
  - nested <i>two</i>
1. first

### A sub-heading

> a quote

    code <b>x</b>
"""


def test_markdown_becomes_plain_blocks_and_every_text_is_escaped():
    blocks = words.markdown_blocks(HOSTILE, lambda s: s.replace("{{ cases }}", "24"))
    kinds = [type(b).__name__ for b in blocks]
    assert kinds == ["Text", "Text", "Text", "Bullets", "Bullets", "Heading", "Text", "Text"]
    markup = "".join(block_html(b) for b in blocks)
    for bad in ("<script", "<b>", "<img", "<i>", "href=", "javascript:alert(1)</a"):
        assert bad not in markup, bad
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "[image not shown: remote (http://evil.invalid/pixel.png)]" in markup
    assert "the guidance (https://example.org/guide)" in markup
    assert "[click](javascript:alert(1))" in markup  # not a link: shown as written
    assert blocks[2].text[-1] == Strong("strong both")
    assert blocks[3] == Bullets(("item one 24", "– nested <i>two</i>"), "qa-words")
    assert blocks[4].ordered and blocks[5] == Heading("A sub-heading", 3)
    assert blocks[6] == Text("a quote", "qa-words quote")
    assert blocks[7] == Text("code <b>x</b>", "qa-words code")


# --- status and marking ----------------------------------------------------------------
def test_pages_say_draft_until_ratified(tmp_path):
    assert commentary_status(tmp_path) == "draft"  # none: not ratified
    (tmp_path / "commentary.md").write_text(GOOD, encoding="utf-8")
    assert commentary_status(tmp_path) == "draft"
    qa, executive = banners("draft")
    assert marking_of(qa) == marking_of(executive) == "OFFICIAL – DRAFT"
    assert executive.endswith("Draft findings: not yet ratified by the agencies.")
    (tmp_path / "commentary.md").write_text(
        GOOD.replace("status: draft", "status: ratified\nratified_by: EG\nratified_on: 2019-03-01"),
        encoding="utf-8",
    )
    assert commentary_status(tmp_path) == "ratified"
    assert [marking_of(b) for b in banners("ratified")] == ["OFFICIAL", "OFFICIAL"]


def test_a_linked_or_unreadable_commentary_is_refused_by_name(tmp_path):
    (tmp_path / "elsewhere.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "commentary.md").symlink_to(tmp_path / "elsewhere.md")
    with pytest.raises(AuditDataError, match="symbolic link"):
        read_commentary(tmp_path, KLOES)
    (tmp_path / "commentary.md").unlink()
    (tmp_path / "commentary.md").write_bytes(b"---\nstatus: draft\n---\n## Summary\n\xff\n")
    with pytest.raises(AuditDataError, match="not UTF-8"):
        read_commentary(tmp_path, KLOES)


# --- validate and the run ---------------------------------------------------------------
@pytest.fixture
def demo_copy(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "demo", data)
    return data


def test_validate_lists_every_problem_and_the_run_refuses_an_error_in_one_line(demo_copy):
    from audit_analysis.io.dataset import load_cycle
    from audit_analysis.pipeline.runner import run_annual

    path = demo_copy / "2018-19" / "commentary.md"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "\n## Afterword\nWe rated 77% met.\n{{ share no-such-standard }}\n",
        encoding="utf-8",
    )
    lines = commentary_lines(load_cycle(demo_copy, "2018-19"))
    assert lines[0] == "Commentary: commentary.md, draft; 2 errors (the run refuses it); 1 warning"
    assert [line.split("[")[-1] for line in lines[1:]] == ["error]", "warning]", "error]"]
    assert "is not a heading the report knows" in lines[1]
    before = {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()}
    with pytest.raises(AuditDataError) as refused:
        run_annual(demo_copy, "2018-19", out=demo_copy.parent / "out", progress=False)
    message = str(refused.value)
    assert "\n" not in message and "commentary.md" in message and "(1 more" in message
    assert not (demo_copy.parent / "out" / "2018-19").exists()
    assert before == {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()}


def test_the_demo_commentary_is_sound_and_uses_references(session):
    found = read_commentary(session.data.folder, KLOES)
    assert found is not None and found.status == "draft"
    assert words.commentary_problems(session.data, ["2016-17", "2017-18"]) == []
    assert {f"kloe:{k}" for k in KLOES} <= set(found.parts)
    assert len(found.references) >= 10


def test_the_executive_page_shows_the_commentary_in_the_reports_order(session):
    section = Executive(session).build()
    assert list(section.parts) == [
        "summary",
        "action-taken",
        "worked-well",
        "improve",
        "changes",
        "kloes",
        "deep-dive",
        "conclusions",
        "next",
        "about",
    ]
    sentences = section.sentences()
    assert not any("{{" in s for s in sentences)
    kloe = section["kloes"]
    headings = [i for i, b in enumerate(kloe) if isinstance(b, Heading) and b.level == 3]
    # each KLOE: its heading, the QA group's words, then its chart
    assert type(kloe[headings[0] + 1]).__name__ == "Text"
    assert type(kloe[headings[1] - 1]).__name__ == "Figure"


def test_without_commentary_the_page_says_none_was_supplied(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "demo", data)
    (data / "2018-19" / "commentary.md").unlink()
    plain = open_session(data, "2018-19", tmp_path / "out")
    section = Executive(plain).build()
    assert "worked-well" not in section.parts
    assert any("has supplied no commentary" in s for s in section.sentences())


def test_the_next_steps_name_this_years_areas_and_recommendations_with_owners(session):
    section = Executive(session).build()
    tables = {t.name: t.frame for t in section.tables()}
    areas = session.data.development.areas
    shown = tables["exec-next-areas"]
    assert list(shown.columns) == ["area for development", "line of enquiry", "owner", "due"]
    assert list(shown["area for development"]) == list(areas["area"])
    assert list(shown["owner"]) == list(areas["owner"])
    assert "March 2020" in set(shown["due"])
    recs = tables["exec-next-recommendations"]
    assert list(recs["recommendation"]) == list(
        session.data.development.recommendations["recommendation"]
    )
    progress = tables["exec-development-progress"]
    assert "progress noted this year" in progress.columns
    assert pd.Series(progress["progress noted this year"]).str.len().gt(0).all()


def test_the_findings_by_kloe_page_shows_each_kloes_words_before_its_chart(session):
    section = KloeFindings(session).build()
    blocks = section["kloes"]
    words = [
        i
        for i, b in enumerate(blocks)
        if isinstance(b, Text) and "remain the strongest" in str(b.text)
    ]
    assert len(words) == 1
    assert type(blocks[words[0] + 1]).__name__ == "Figure"  # then KLOE 1's chart
    assert (
        blocks[words[0] - 1].text == "KLOE 1, Thresholds and referrals: the QA group's commentary"
    )
    data = session.data
    kloes = summaries.kloe_summary(data.ratings, data.framework).set_index("kloe_key")
    assert _interval(kloes.loc["thresholds"]) in blocks[words[0]].text


def test_the_page_says_whether_its_findings_are_ratified(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "demo", data)
    draft = Executive(open_session(data, "2018-19", tmp_path / "a")).build()
    assert "These are draft findings: they have not yet been ratified by the agencies." in (
        draft.sentences()
    )
    path = data / "2018-19" / "commentary.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "status: draft",
            "status: ratified\nratified_by: the Executive Group\nratified_on: 2019-03-04",
        ),
        encoding="utf-8",
    )
    ratified = Executive(open_session(data, "2018-19", tmp_path / "b")).build()
    assert "These findings were ratified by the Executive Group on 4 March 2019." in (
        ratified.sentences()
    )
