"""Findings in words are built from the tables: check them on hand-made tables."""

from __future__ import annotations

import pandas as pd

from audit_analysis.io.frameworks import load_framework
from audit_analysis.sections import by_kloe, consistency, data_quality, executive, trends, words


def test_pct_and_interval():
    assert words.pct(0.734) == "73%"
    assert words.pct(float("nan")) == "n/a"
    assert words.pct("c") == "c"
    row = pd.Series({"share": 0.5, "low": 0.25, "high": 0.75})
    assert words.interval(row) == "50% (25% to 75%)"
    assert words.interval({"share": "c", "low": "c", "high": "c"}) == "c"
    few = {"share": 0.5, "low": float("nan"), "high": float("nan")}
    assert words.interval(few) == "50% (too few cases for an interval)"


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
    text = trends.trend_sentence(trend, "2018-19", "2017-18")
    assert "of the 4 standards that can be compared, 2 improved and 1 declined" in text
    assert "1 show no clear change" in text
    assert "1 cannot be compared" in text
    assert "false discovery rate 5%" in text
    verdict = trends.verdict_column(trend, "2017-18")
    assert verdict.iloc[-1] == "not in 2017-18 framework"


def test_trend_sentence_gives_no_verdict_where_crude_and_standardised_disagree():
    from audit_analysis.analysis.trends import CASE_MIX

    trend = pd.DataFrame(
        {
            "verdict_vs_2017-18": ["improved", CASE_MIX, CASE_MIX, "no clear change"],
            "status_2017-18": ["rated"] * 4,
        }
    )
    text = trends.trend_sentence(trend, "2018-19", "2017-18")
    assert "of the 4 standards that can be compared, 1 improved and 0 declined" in text
    assert "2 get no verdict" in text
    assert "standardised to one mix of priority themes" in text
    overall = pd.Series(
        {
            "share_2018-19": 0.6,
            "share_2017-18": 0.5,
            "verdict_vs_2017-18": CASE_MIX,
            "diff_vs_2017-18": 0.1,
            "diff_low_vs_2017-18": -0.01,
            "diff_high_vs_2017-18": 0.2,
        }
    )
    sentence = trends.change_sentence(overall, "2018-19", "2017-18")
    assert "no verdict" in sentence and "improvement" not in sentence


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
    title, subtitle, alt = by_kloe.kloe_chart_text(rows, "2018-19")
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
    text = data_quality.quality_sentences(returns, evidence, rejections, "2018-19")
    assert text[0] == "3 agencies sent 16 returns holding 618 ratings."
    assert text[1].startswith(
        "1 agency used an earlier year's template for some returns: Solihull Community Housing "
        "(6 of 12)"
    )
    # agencies by name, as the register gives them: never a code a board member must decode
    assert text[2] == "Not using the toolkit (a bulk table instead): West Midlands Police."
    assert text[3] == (
        "67% of met or exceeded ratings give evidence; Community Rehabilitation Company "
        "gave none at all."
    )
    assert text[4].startswith("24 rows and 1 whole files were rejected")


# ----------------------------------------------- claims that rest on case-level intervals


def _two_groups(shares: tuple[float, float], cases: int = 10, agencies: int = 6):
    """Ratings of ``cases`` cases per group, every agency rating every case: within a
    case all agencies agree (a case is one piece of evidence), and a share ``s`` of the
    group's cases are met."""
    rows = []
    for group, share in zip(("early_help", "neglect"), shares, strict=True):
        for i in range(cases):
            rating = "met" if i < round(share * cases) else "unmet"
            for a in range(agencies):
                rows.append({"case_ref": f"{group}{i}", "priority": group, "agency": f"A{a}",
                             "rating": rating})  # fmt: skip
    return pd.DataFrame(rows)


def _table(ratings: pd.DataFrame) -> pd.DataFrame:
    grouped = ratings.groupby("priority")["rating"]
    return pd.DataFrame(
        {
            "kloe_title": "All",
            "priority": grouped.size().index,
            "share": (grouped.apply(lambda r: (r == "met").mean())).to_numpy(),
            "low": 0.0,
            "high": 1.0,
        }
    )


def test_breakdown_names_best_and_worst_only_when_the_gap_is_clear():
    # 60% against 40% of 10 cases each: 360 ratings would make that "significant";
    # 20 cases cannot
    close = _two_groups((0.6, 0.4))
    title, _ = by_kloe.breakdown_text(_table(close), "priority", "2018-19", close)
    assert title.startswith("No clear difference between priority themes")
    assert "40% met or exceeded (neglect) to 60% (early help)" in title
    apart = _two_groups((1.0, 0.1))
    title, _ = by_kloe.breakdown_text(_table(apart), "priority", "2018-19", apart)
    assert title.startswith("By priority, early help has the highest share")
    assert "a clear gap of 90 points" in title and "allowing for 1 comparisons" in title


def test_extremes_text_without_two_groups():
    assert words.extremes_text(None, "age bands") == "Too few age bands with ratings to compare"


def test_change_sentence_reads_the_overall_trend_row():
    row = pd.Series(
        {
            "share_2018-19": 0.77,
            "share_2017-18": 0.68,
            "diff_vs_2017-18": 0.09,
            "diff_low_vs_2017-18": -0.01,
            "diff_high_vs_2017-18": 0.18,
            "verdict_vs_2017-18": "no clear change",
        }
    )
    text = trends.change_sentence(row, "2018-19", "2017-18")
    assert text == (
        "77% against 68% in 2017-18: no clear change (+9 points; 95% interval by case -1 to +18)"
    )
    row["verdict_vs_2017-18"] = "not estimable"
    row["diff_low_vs_2017-18"] = float("nan")
    assert trends.change_sentence(row, "2018-19", "2017-18") == (
        "77% against 68% in 2017-18: too few cases to tell"
    )


def test_standouts_name_only_standards_clearly_apart():
    fw = load_framework("2018-19")
    standards = fw.to_frame()
    compared = pd.DataFrame(
        {
            "standard": standards["standard"],
            "standard_key": standards["standard_key"],
            "share": 0.7,
            "overall": 0.7,
            "verdict": "no clear difference",
        }
    )
    assert executive.standout_sentences(compared, standards) == [
        "No standard stands clearly above or below the overall share once chance "
        "variation between cases is allowed for."
    ]
    compared.loc[23, ["share", "verdict"]] = (0.3, "below")
    text = executive.standout_sentences(compared, standards)
    assert text == [
        "1 standard clearly below this year's overall share of 70%, allowing for chance and "
        "for the 24 standards compared at once: 24. Disputes resolved by the procedure (30%)."
    ]  # named by its short name, never cut
    # a standard left out for few cases was still among those compared at once
    shown = executive.standout_words(compared.iloc[1:], standards, total=len(compared))
    assert "for the 24 standards compared at once" in shown["below"]


def test_agreement_sentence_is_chance_corrected_and_leaves_out_small_standards():
    pooled = pd.DataFrame(
        [
            {
                "units": 200,
                "pct_agree": 0.6,
                "alpha": 0.2,
                "alpha_low": 0.1,
                "alpha_high": 0.3,
                "ac1": 0.5,
                "ac1_low": 0.4,
                "ac1_high": 0.6,
                "estimable": True,
            }
        ]
    )
    by_standard = pd.DataFrame(
        {
            "standard": [1, 2, 3],
            "units": [20, 3, 18],
            "alpha": [0.1, -0.5, 0.6],
            "alpha_low": [-0.1, -0.9, 0.4],
            "alpha_high": [0.3, 0.2, 0.8],
            "estimable": [True, True, True],
        }
    )
    text = consistency.agreement_sentence(pooled, by_standard, min_cases=5)
    assert "0.20 (0.10 to 0.30) on Krippendorff's alpha" in text
    assert "0.50 (0.40 to 0.60) on Gwet's AC1" in text
    assert "standard 2" not in text  # 3 cases: below the threshold
    assert "lowest for standard 1 (0.10, interval -0.10 to 0.30, on 20 cases)" in text
    assert "overlap" not in text  # two standards, one pair: the plain intervals apart
    assert "they differ even allowing for picking the lowest and highest of 2" in text


def test_the_lowest_and_highest_agreement_allow_for_being_picked_from_many():
    """24 standards: 276 pairs could have been picked. Intervals 0.10 to 0.30 and 0.32
    to 0.52 do not overlap at 95%, but widened by z(0.025/276)/z(0.025) = 3.74/1.96
    (0.2 + 0.1 x 1.91 = 0.39 against 0.42 - 0.1 x 1.91 = 0.23) they do."""
    pooled = pd.DataFrame(
        [
            {
                "units": 200,
                "pct_agree": 0.6,
                "alpha": 0.3,
                "alpha_low": 0.2,
                "alpha_high": 0.4,
                "ac1": 0.5,
                "ac1_low": 0.4,
                "ac1_high": 0.6,
                "estimable": True,
            }
        ]
    )
    alpha = [0.2, 0.42] + [0.3] * 22
    by_standard = pd.DataFrame(
        {
            "standard": range(1, 25),
            "units": 20,
            "alpha": alpha,
            "alpha_low": [a - 0.1 for a in alpha],
            "alpha_high": [a + 0.1 for a in alpha],
            "estimable": True,
        }
    )
    text = consistency.agreement_sentence(pooled, by_standard, min_cases=5)
    assert "lowest for standard 1" in text and "highest for standard 2" in text
    assert "picked as the lowest and highest of 24 standards, they may not truly differ" in text
    assert "widened for the 276 pairs" in text


def _records(discussed: int, flagged: int, action: int, responded: int, invited: int):
    from types import SimpleNamespace

    deep = pd.DataFrame(
        {
            "case_ref": [f"C{i:02d}" for i in range(flagged)],
            "discussed": [i < discussed for i in range(flagged)],
            "reason_not_discussed": [None if i < discussed else "moved" for i in range(flagged)],
            "themes": None,
            "action_required": [i < action for i in range(flagged)],
        }
    )
    feedback = pd.DataFrame(
        {
            "case_ref": [f"C{i:02d}" for i in range(invited + 2)],
            "invited": [i < invited for i in range(invited + 2)],  # 2 not invited
            "responded": [i < responded for i in range(invited + 2)],
        }
    )
    return SimpleNamespace(deep_dive=deep, family_feedback=feedback)


def _digits(text: str) -> set[str]:
    import re

    return set(re.findall(r"\d+%?", text))


def test_records_sentences_hide_a_count_whose_complement_is_small():
    """Issue 9, item 5: "7 of the 8 cases flagged were discussed" reveals that 1 was
    not; "3 of 9 families" is a small count, and 33% gives it away too."""
    data = _records(discussed=7, flagged=8, action=2, responded=3, invited=9)
    deep, families = data_quality.records_sentences(data)  # the default threshold is 5
    assert _digits(deep) == {"8", "5"} and _digits(families) == {"9", "5"}
    assert "not shown: with the number not discussed it would reveal a number under 5" in deep
    deep, families = data_quality.records_sentences(data, min_count=2)  # only the 1 is small
    assert _digits(deep) == {"8", "2"}
    assert _digits(families) == {"3", "9", "33%"}
    deep, families = data_quality.records_sentences(data, min_count=1)
    assert _digits(deep) == {"7", "8", "2"}


def test_records_sentences_show_large_counts_and_zeros_and_no_small_total():
    data = _records(discussed=12, flagged=20, action=0, responded=12, invited=20)
    deep, families = data_quality.records_sentences(data, min_count=5)
    assert _digits(deep) == {"12", "20", "0"} and "0 needed immediate action" in deep
    assert _digits(families) == {"12", "20", "60%"}
    data = _records(discussed=20, flagged=20, action=17, responded=18, invited=20)
    deep, families = data_quality.records_sentences(data, min_count=5)
    assert "17" not in deep  # 3 needed none
    assert _digits(families) == {"20", "5"}  # 2 did not respond: "a number under 5"
    data = _records(discussed=1, flagged=2, action=1, responded=1, invited=2)
    deep, families = data_quality.records_sentences(data, min_count=5)
    assert _digits(deep) == {"5"} and deep.startswith("Fewer than 5 cases were flagged")
    assert _digits(families) == {"5"} and families.startswith("Fewer than 5 families")


def test_detectable_sentence_and_plan_table_read_the_plan():
    rows = []
    for level, mdc, alone in [
        ("standard", 0.214, 0.31),
        ("kloe", 0.166, 0.22),
        ("overall", 0.158, 0.158),
    ]:
        for cases in (12, 24):
            rows.append(
                {
                    "level": level,
                    "cases": cases,
                    "agencies_per_case": 5.9,
                    "this_cycle": cases == 24,
                    "share": 0.77,
                    "rho": 0.16,
                    "ratings_per_agency": 23.0,
                    "compared": {"standard": 24, "kloe": 6, "overall": 1}[level],
                    "mdc": mdc * (1.5 if cases == 12 else 1),
                    "mdc_alone": alone * (1.5 if cases == 12 else 1),
                }
            )
    plan = pd.DataFrame(rows)
    text = trends.detectable_sentence(plan)
    assert text.startswith("With 24 cases, a change of less than about 16 points in the overall")
    assert "17 in a key line of enquiry, 21 in a single standard" in text
    table = trends.plan_display(plan)
    assert table["cases a year"].tolist() == [12, 24]
    assert table["this year"].tolist() == ["", "this year"]
    assert table.loc[1, "a single standard"] == "21 (31)"
    assert table.loc[0, "the overall share"] == "24"


def test_an_area_with_no_verdict_says_why():
    from audit_analysis.analysis.trends import CASE_MIX

    words = trends.measured_words(
        {
            "measured": CASE_MIX,
            "share_then": 0.5,
            "share_now": 0.62,
            "diff": 0.12,
            "diff_low": 0.01,
            "diff_high": 0.22,
        }
    )
    assert words.startswith("no verdict (the change as audited and standardised to one mix")
    assert "50% to 62%" in words
