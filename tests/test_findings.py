"""Findings in words are built from the tables: check them on hand-made tables."""

from __future__ import annotations

import pandas as pd

from audit_analysis import findings
from audit_analysis.frameworks import load_framework


def test_pct_and_interval():
    assert findings.pct(0.734) == "73%"
    assert findings.pct(float("nan")) == "n/a"
    assert findings.pct("c") == "c"
    row = pd.Series({"share": 0.5, "low": 0.25, "high": 0.75})
    assert findings.interval(row) == "50% (25% to 75%)"
    assert findings.interval({"share": "c", "low": "c", "high": "c"}) == "c"


def test_trend_sentence_counts_verdicts_and_leaves_new_standards_out():
    trend = pd.DataFrame(
        {
            "verdict_vs_2017-18": [
                "improved",
                "improved",
                "declined",
                "no clear change",
                "not estimable",
            ],
            "status_2017-18": ["rated", "rated", "rated", "rated", "not in framework"],
        }
    )
    text = findings.trend_sentence(trend, "2018-19", "2017-18")
    assert "2 improved, 1 declined, 1 show no clear change" in text
    assert "1 cannot be compared" in text
    verdict = findings.verdict_column(trend, "2017-18")
    assert verdict.iloc[-1] == "not in 2017-18 framework"


def test_kloe_chart_text_states_the_finding_and_lists_every_standard():
    fw = load_framework("2018-19")
    rows = (
        fw.to_frame()
        .query("kloe == 6")
        .assign(
            n=[10, 20],
            met_or_better=[9, 5],
            share=[0.9, 0.25],
            low=[0.6, 0.1],
            high=[0.98, 0.47],
            cases=[8, 9],
        )
    )
    title, subtitle, alt = findings.kloe_chart_text(rows, "2018-19")
    assert title == (
        "KLOE 6 (Dispute resolution): from 25% met or exceeded (standard 24) to 90% (standard 23)"
    )
    assert "30 ratings on the scale across 9 cases" in subtitle
    assert "standard 23 90% (60% to 98%) of 10 ratings" in alt
    assert "standard 24 25% (10% to 47%) of 20 ratings" in alt


def test_quality_sentences_name_old_templates_bulk_tables_and_bare_ratings():
    returns = pd.DataFrame(
        {
            "agency": ["CRC", "SCH", "WMP"],
            "returns": [3, 12, 1],
            "toolkit": [3, 12, 0],
            "bulk": [0, 0, 1],
            "ratings": [72, 282, 264],
            "on_old_template": [0, 6, 0],
        }
    )
    evidence = pd.DataFrame(
        {
            "agency": ["CRC", "SCH", "WMP"],
            "met_or_better": [60, 200, 100],
            "met_or_better_evidenced": [0, 180, 60],
        }
    )
    rejections = pd.DataFrame({"whole_files": [1, 0], "rows": [0, 24]})
    text = findings.quality_sentences(returns, evidence, rejections, "2018-19")
    assert text[0] == "3 agencies sent 16 returns holding 618 ratings."
    assert text[1].startswith(
        "1 agency used an earlier year's template for some returns: SCH (6 of 12)"
    )
    assert text[2] == "Not using the toolkit (a bulk table instead): WMP."
    assert text[3] == "67% of met or exceeded ratings give evidence; CRC gave none at all."
    assert text[4].startswith("24 rows and 1 whole files were rejected")
