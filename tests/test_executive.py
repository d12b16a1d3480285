"""The executive page's sections on a small cycle built in the test: what it must hide."""

from __future__ import annotations

import pandas as pd
from conftest import write_bulk_csv, write_cases

from audit_analysis import load_cycle
from audit_analysis.io.frameworks import load_framework
from audit_analysis.pipeline.notebook import Session
from audit_analysis.render.present import Report
from audit_analysis.sections import executive

PRIORITIES = ("early_help", "neglect", "exploitation")


def _session(tmp_path, rate):
    """A 2018-19 cycle of 15 cases (five per priority theme) rated by two agencies on
    every standard as ``rate(standard, case number, case row, agency number)`` says
    (None: not rated), and an executive session on it: ``(session, out)``."""
    cases = [[f"K{i:02d}", PRIORITIES[i % 3], "9", "", "", ""] for i in range(15)]
    records = []
    for s in load_framework("2018-19").standards:
        for i, case in enumerate(cases):
            for a, agency in enumerate(("WMP", "CCG")):
                rating = rate(s, i, case, a)
                if rating is not None:
                    records.append([agency, case[0], str(s.number), rating, ""])
    folder = tmp_path / "data" / "2018-19"
    write_cases(folder, cases)
    write_bulk_csv(
        folder / "returns" / "all.csv",
        ["agency", "case_id", "standard", "rating", "evidence"],
        records,
    )
    data = load_cycle(tmp_path / "data", "2018-19")
    out = tmp_path / "out"
    return Session(data, [], Report(out, "2018-19"), 5, tmp_path / "data", out), out


def test_a_kloe_total_that_would_reveal_a_suppressed_theme_is_hidden(tmp_path):
    """Only three early-help cases rate KLOE 6: the priority chart hides them, and the
    KLOE trend on the same page must not show KLOE 6's figures, which are theirs."""

    def rate(s, i, case, a):
        if s.kloe == 6 and not (case[1] == "early_help" and i < 9):
            return None  # KLOE 6: early-help cases K00, K03, K06 only
        return "met" if (i + a + s.number) % 3 else "unmet"

    session, out = _session(tmp_path, rate)
    summary = executive.Executive(session)
    assert summary.exposed_kloes == {"dispute-resolution"}
    assert summary.hidden_kloes == {"dispute-resolution"}
    # the lead's total less the KLOEs shown would give KLOE 6's count of ratings away
    total = int(summary.kloes.overall["n"])
    assert f"{total} ratings" not in summary.lead and "of their ratings" in summary.lead
    session.report.show(summary.build(), "changes", "kloes")
    trend = pd.read_csv(out / "tables" / "exec-kloe-trend.csv", dtype=str, keep_default_na=False)
    kloe6 = trend[trend["label"].str.startswith("KLOE 6")].iloc[0]
    assert kloe6[["n", "cases", "met_or_better", "share", "low", "high"]].tolist() == ["c"] * 6
    assert not trend[trend["label"].str.startswith("KLOE 1")]["share"].eq("c").any()
    theme = pd.read_csv(out / "tables" / "exec-by-priority.csv", dtype=str, keep_default_na=False)
    kloe6 = theme["kloe_title"] == summary.data.framework.kloe(6).title
    early6 = theme[kloe6 & (theme["priority"] == "early_help")].iloc[0]
    assert early6["n"] == "c"
    # the page publishes no count of ratings by level: a theme's can be one child's
    assert not {"exceeded", "met", "partially_met", "unmet"} & set(theme.columns)


def test_a_kloe_total_leaving_one_case_per_hidden_theme_is_hidden(tmp_path):
    """KLOE 6 rated by one early-help case, one neglect case and five exploitation
    cases: the priority chart shows c, c and 5, and a KLOE 6 total of 7 cases would say
    that each c is 1 (every hidden cell holds at least one case)."""

    def rate(s, i, case, a):
        if s.kloe == 6 and i not in (0, 1) and case[1] != "exploitation":
            return None
        return "met" if (i + a + s.number) % 3 else "unmet"

    session, out = _session(tmp_path, rate)
    summary = executive.Executive(session)
    kloe6 = summary.by_theme[summary.by_theme["kloe"] == 6]
    assert kloe6["cases"].tolist() == ["c", "c", 5]
    assert summary.exposed_kloes == {"dispute-resolution"}
    session.report.show(summary.build(), "changes", "kloes")
    trend = pd.read_csv(out / "tables" / "exec-kloe-trend.csv", dtype=str, keep_default_na=False)
    row = trend[trend["label"].str.startswith("KLOE 6")].iloc[0]
    assert row[["n", "cases", "met_or_better", "share", "low", "high"]].tolist() == ["c"] * 6


def test_standards_on_few_cases_are_not_named_or_shown(tmp_path):
    """The weakest-standards chart and the standout sentences leave out a standard rated
    on fewer cases than the threshold: its figures are those few children's."""

    def rate(s, i, case, a):
        if s.number == 24 and i >= 3:
            return None  # standard 24: three cases, all unmet: the weakest by far
        return "unmet" if s.number == 24 else ("met" if (i + a) % 4 else "unmet")

    session, out = _session(tmp_path, rate)
    summary = executive.Executive(session)
    assert summary.hidden_kloes == set()
    assert f"of their {int(summary.kloes.overall['n'])} ratings" in summary.lead
    session.report.show(summary.build(), "improve")
    shown = pd.read_csv(out / "tables" / "exec-weakest-standards.csv", dtype=str)
    assert not shown["label"].str.startswith("24.").any()
    assert not any("24. " in h for h in summary.headlines)


def test_no_small_counts_of_ratings_on_the_executive_page(tmp_path):
    """Five cases per theme: the shares by theme are shown, but one early-help case's
    single "partially met" rating on standard 1 must not be published as a count of 1
    (issue 20): the executive tables carry shares, ratings on the scale and cases only."""

    def rate(s, i, case, a):
        if s.number == 1 and i == 0 and a == 0:
            return "partially_met"
        return "met" if (i + a + s.number) % 3 else "unmet"

    session, out = _session(tmp_path, rate)
    summary = executive.Executive(session)
    session.report.show(summary.build(), "improve", "kloes")
    for name in ("exec-by-priority", "exec-weakest-standards"):
        table = pd.read_csv(out / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)
        for column in ("exceeded", "met", "partially_met", "unmet", "not_applicable"):
            assert column not in table.columns, (name, column)
        assert {"n", "cases", "share"} <= set(table.columns), name
    theme = pd.read_csv(out / "tables" / "exec-by-priority.csv", dtype=str, keep_default_na=False)
    assert (theme["share"] != "c").any()  # five cases a theme: the shares stay
