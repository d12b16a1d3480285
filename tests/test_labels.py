"""Plain words where a reader looks: labels from the data files, legends that list only
what a chart shows, tables in words while the CSV keeps the codes."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from audit_analysis.analysis.summaries import AGE_BANDS
from audit_analysis.io.agencies import agencies
from audit_analysis.io.ratings import CATEGORIES
from audit_analysis.io.schemas import PRIORITIES
from audit_analysis.render import labels, plots
from audit_analysis.render.present import table_html


def legend_texts(fig) -> list[str]:
    legend = fig.axes[0].get_legend()
    texts = [] if legend is None else [t.get_text() for t in legend.get_texts()]
    plt.close(fig)
    return texts


def test_every_code_a_reader_can_meet_has_words():
    for code in PRIORITIES:
        assert "_" not in labels.value_label("priority", code)
    assert labels.value_label("priority", "early_help") == "Early help"
    for band in AGE_BANDS:
        assert labels.value_label("age_band", band) != band
    for category in CATEGORIES:
        assert "_" not in labels.rating_label(category)
    assert labels.rating_label("unmet") == "Not met"  # as the toolkit's drop-down says
    for row in agencies().itertuples():
        assert labels.agency_name(row.code) == row.name
    assert labels.agency_name("(unattributed)") == "(unattributed)"


def test_agency_key_names_the_codes_a_chart_shows():
    key = labels.agency_key(["WMP", "CCG", "WMP", "(unattributed)"])
    assert key == (
        "Key: WMP West Midlands Police; CCG Birmingham & Solihull Clinical Commissioning Group."
    )
    assert labels.agency_key(["(unattributed)"]) == ""


def breakdown(by: str, levels: list[str], hidden: set[str]) -> pd.DataFrame:
    rows = []
    for kloe in ("Information sharing", "Thresholds"):
        for level in levels:
            c = level in hidden
            rows.append(
                {
                    "kloe_title": kloe,
                    by: level,
                    "n": "c" if c else 40,
                    "share": "c" if c else 0.75,
                    "low": "c" if c else 0.6,
                    "high": "c" if c else 0.85,
                }
            )
    return pd.DataFrame(rows)


def test_priority_legend_is_in_words():
    table = breakdown("priority", list(PRIORITIES), set())
    fig = plots.share_dots(table, "kloe_title", group="priority")
    assert legend_texts(fig) == ["Early help", "Neglect", "Exploitation"]


def test_age_band_legend_leaves_out_bands_whose_figures_are_all_suppressed():
    table = breakdown("age_band", list(AGE_BANDS), {"0-4", "18+"})
    fig = plots.share_dots(table, "kloe_title", group="age_band")
    expected = [labels.value_label("age_band", b) for b in ("5-10", "11-15", "16-17")]
    assert legend_texts(fig) == expected


def test_a_chart_with_every_figure_suppressed_has_no_legend():
    table = breakdown("priority", list(PRIORITIES), set(PRIORITIES))
    assert legend_texts(plots.share_dots(table, "kloe_title", group="priority")) == []


def test_rating_legend_lists_only_ratings_given_in_words():
    summary = pd.DataFrame(
        {
            "label": ["1. A standard", "2. Another"],
            "exceeded": [0, 0],
            "met": [10, 4],
            "partially_met": [2, 0],
            "unmet": [3, 6],
            "n": [15, 10],
            "share": [10 / 15, 0.4],
            "low": [0.4, 0.15],
            "high": [0.85, 0.7],
        }
    )
    assert legend_texts(plots.rating_bars(summary)) == ["Not met", "Partially met", "Met"]


def test_trend_legend_lists_only_cycles_with_figures():
    long = pd.DataFrame(
        {
            "label": ["KLOE 1", "KLOE 1", "KLOE 1"],
            "cycle": ["2016-17", "2017-18", "2018-19"],
            "share": [float("nan"), 0.6, 0.7],
            "low": [float("nan"), 0.5, 0.6],
            "high": [float("nan"), 0.7, 0.8],
        }
    )
    fig = plots.trend_dots(long, "label", ["2016-17", "2017-18", "2018-19"])
    assert legend_texts(fig) == ["2017-18", "2018-19"]


def test_tables_show_words_and_percentages_and_keep_suppression():
    table = pd.DataFrame(
        {
            "kloe_title": ["Thresholds", "Thresholds"],
            "priority": ["early_help", "neglect"],
            "partially_met": [3, "c"],
            "met_or_better": [30, "c"],
            "share": [0.7342, "c"],
            "low": [0.61, "c"],
            "high": [float("nan"), "c"],
        }
    )
    shown = labels.display_table(table)
    assert list(shown.columns) == [
        "Key line of enquiry",
        "Priority theme",
        "Partially met",
        "Met or exceeded",
        "Share met or exceeded",
        "95% interval from",
        "95% interval to",
    ]
    assert list(shown["Priority theme"]) == ["Early help", "Neglect"]
    assert list(shown["Share met or exceeded"]) == ["73%", "c"]  # as sentences say it
    assert pd.isna(shown["95% interval to"].iloc[0])  # shown as an empty cell
    assert list(table.columns)[1] == "priority"  # the frame saved as CSV is untouched


@pytest.mark.e2e  # reads the annual run: papermill kernels
@pytest.mark.parametrize("name", ["exec-by-priority", "exec-kloe-trend"])
def test_chart_tables_on_the_executive_page_have_no_codes(run, name):
    out, _ = run
    page = (out / "executive-summary.html").read_text(encoding="utf-8")
    block = page.split(f'id="{name}"', 1)[1].split('class="print-table"', 1)[0]
    headings = block.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "_" not in headings and "met_or_better" not in block
    if name == "exec-by-priority":
        assert "early_help" not in block and "Early help" in block


def test_table_cells_are_escaped_aligned_and_blank_where_missing():
    frame = pd.DataFrame(
        {
            "standard": pd.array([3, None], dtype="Int64"),
            "n": [12, "c"],
            "share": ["73.4%", None],
            "text": ["<b>a</b> & wording long enough to need room to be read", "x"],
        }
    )
    markup = table_html(frame, "Caption <i>")
    assert "<b>" not in markup and "&lt;b&gt;a&lt;/b&gt; &amp;" in markup
    assert "Caption &lt;i&gt;" in markup
    assert "<NA>" not in markup and "nan" not in markup
    heads = re.findall(r"<th [^>]*>", markup)
    assert heads[:3] == ['<th scope="col" class="num">'] * 3  # numbers, with c among them
    assert heads[3] == '<th scope="col">'
    assert '<td class="num" data-label="n">c</td>' in markup
    assert '<td class="long" data-label="text">' in markup  # a phone shows each cell's column
