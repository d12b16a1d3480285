"""The page's sentence on how the cases were chosen, with and without a record
(issue 26)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import yaml

from audit_analysis.io.selection import parse_record
from audit_analysis.sections.selection import (
    chosen_sentence,
    selection_sentences,
    shares_sentence,
)
from tests.test_design import POPULATION, cases_of, ratings_of

RECORD = {
    "cycle": "2019-20",
    "seed": 4,
    "per_priority": 8,
    "eligible": {"early_help": 140, "neglect": 200, "exploitation": 72},
    "drawn": {"early_help": 8, "neglect": 8, "exploitation": 8},
}


def test_the_sentence_with_a_record() -> None:
    record = parse_record(RECORD)
    assert chosen_sentence(record, 24) == (
        "24 cases were drawn at random, 8 from each priority theme, from 412 eligible children."
    )


def test_a_short_theme_is_named() -> None:
    record = parse_record(dict(RECORD, eligible=dict(RECORD["eligible"], exploitation=6),
                               drawn=dict(RECORD["drawn"], exploitation=6)))  # fmt: skip
    assert chosen_sentence(record, 22) == (
        "22 cases were drawn at random from 346 eligible children, by priority theme: "
        "8 early help, 8 neglect and 6 exploitation (every eligible child of exploitation)."
    )


def test_the_sentence_without_a_record() -> None:
    assert chosen_sentence(None, 24) == (
        "The 24 cases were chosen by hand, not drawn at random: the figures describe these "
        "24 cases only, not the partnership's work with children as a whole."
    )
    assert shares_sentence(None, 24) == ""


def _session(folder: Path, record: dict | None, text: str | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    if record is not None:
        (folder / "selection_record.yaml").write_text(yaml.safe_dump(record))
    if text is not None:
        (folder / "selection_record.yaml").write_text(text)
    data = SimpleNamespace(folder=folder, cases=cases_of(), ratings=ratings_of())
    return SimpleNamespace(data=data)


def test_the_page_sentences_quote_the_weighted_share(tmp_path: Path) -> None:
    record = dict(RECORD, eligible=POPULATION, drawn={"early_help": 2, "neglect": 3},
                  per_priority=3)  # fmt: skip
    chosen, shares = selection_sentences(_session(tmp_path / "c", record))
    assert chosen == (
        "5 cases were drawn at random from 40 eligible children, by priority theme: "
        "2 early help and 3 neglect (every eligible child of early help)."
    )
    # the weighted share of tests/test_design.py's hand computation: 0.375
    assert shares.startswith(
        "The shares on this page describe these 5 cases, each priority theme counting the "
        "same whatever its size; weighted to the 40 eligible children they were drawn "
        "from, 38% of ratings met or exceeded the standard (95% interval by case within "
        "themes: "
    )
    assert selection_sentences(_session(tmp_path / "c", None), weighting="cases") == [
        chosen,
        "The shares on this page describe these 5 cases, each priority theme counting the "
        "same whatever its size.",
    ]


def test_the_page_sentences_without_a_record_or_with_a_broken_one(tmp_path: Path) -> None:
    assert selection_sentences(_session(tmp_path / "none", None)) == [chosen_sentence(None, 5)]
    broken = selection_sentences(_session(tmp_path / "bad", None, text="drawn: [1, 2\n"))
    assert broken == [
        "The selection record (selection_record.yaml) cannot be read (not readable YAML at "
        "line 2): the figures describe these 5 cases only."
    ]


def test_the_demo_page_sentences_are_the_ones_the_docs_quote() -> None:
    """The demo's 2018-19 record, its ratings weighted: the sentences
    docs/selecting-cases.md quotes are what the code says."""
    from audit_analysis import load_cycle

    root = Path(__file__).resolve().parent.parent
    data = load_cycle(root / "data" / "demo", "2018-19")
    sentences = selection_sentences(SimpleNamespace(data=data))
    page = (root / "docs" / "selecting-cases.md").read_text(encoding="utf-8")
    quoted = " ".join(
        line.removeprefix("> ") for line in page.splitlines() if line.startswith("> ")
    )
    assert " ".join(sentences) in quoted
    assert chosen_sentence(None, 24) in quoted


def test_about_these_figures_says_how_the_cases_were_chosen(tmp_path: Path) -> None:
    """The executive page's hook: "About these figures" carries the sentences."""
    from datetime import date

    from audit_analysis import load_cycle
    from audit_analysis.sections.executive import about_these_figures

    root = Path(__file__).resolve().parent.parent / "data" / "demo"
    data = load_cycle(root, "2018-19")
    session = SimpleNamespace(data=data, earlier=[], min_cell_count=5, data_dir=root)
    paragraphs = about_these_figures(session, today=date(2026, 3, 4))
    assert " ".join(selection_sentences(session)) in paragraphs
    assert paragraphs[2].startswith("24 cases were drawn at random, 8 from each priority theme")
