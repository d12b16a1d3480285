"""Areas for development, progress and recommendations carried from year to year: each
rule of the files, the carry-forward of new-cycle, and the measured change."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_bulk_csv, write_cases

from audit_analysis import load_cycle
from audit_analysis.admin.newcycle import carry_forward, start_cycle
from audit_analysis.analysis.trends import area_progress
from audit_analysis.io.development import history, open_items
from audit_analysis.io.frameworks import load_framework

HEADER = ["agency", "case_id", "standard", "rating", "evidence"]
CASES = [[f"W{i:02d}", "neglect", "10", "", "", ""] for i in range(8)]


def write(path: Path, header: list[str], rows: list[list[str]], encoding="utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)


def cycle(root: Path, name: str, met: dict[int, int] | None = None) -> Path:
    """A cycle folder of 8 cases rated by two agencies; ``met`` gives, per standard
    number, how many of the 8 cases are met (the rest unmet)."""
    folder = root / name
    write_cases(folder, CASES)
    records = []
    for number, count in (met or {13: 4}).items():
        for i in range(8):
            rating = "met" if i < count else "unmet"
            records += [[a, f"W{i:02d}", str(number), rating, ""] for a in ("WMP", "CCG")]
    write_bulk_csv(folder / "returns" / "all.csv", HEADER, records)
    return folder


AREAS = ["area_id", "kloe", "standards", "area", "owner", "due"]


def rejections_of(data, name: str) -> pd.DataFrame:
    r = data.rejections
    return r[r["source_file"] == name].reset_index(drop=True)


def test_areas_are_read_with_standards_resolved_by_number_or_key(tmp_path):
    folder = cycle(tmp_path, "2018-19")
    write(
        folder / "Development Areas.csv".replace(" ", "_").lower(),
        ["Area ID", "KLOE", "Standards", "Area", "Owner", "Due"],
        [
            ["A1", "4", "13; smart-plans, 15", "SMART plans", "Business Unit", "2019-03"],
            ["A2", "dispute-resolution", "", "Disputes", "", ""],
        ],
        encoding="cp1252",
    )
    data = load_cycle(tmp_path, "2018-19")
    areas = data.development.areas
    assert areas["area_id"].tolist() == ["A1", "A2"]
    assert areas.iloc[0]["standards"] == ("smart-plans", "interventions-assessed")
    assert (areas.iloc[1]["kloe"], areas.iloc[1]["standards"]) == (6, ())
    assert rejections_of(data, "development_areas.csv").empty


@pytest.mark.parametrize(
    ("row", "reason", "value"),
    [
        (["", "4", "13", "text", "", ""], "no area_id", None),
        (["B1", "9", "13", "text", "", ""], "unknown KLOE", "9"),
        (["B1", "4", "99", "text", "", ""], "unknown standard", "99"),
        (["B1", "4", "no-such-key", "text", "", ""], "unknown standard", "no-such-key"),
        (["B1", "4", "13", "", "", ""], "no area text", None),
        (["A1", "4", "13", "again", "", ""], "given twice", "A1"),
    ],
)
def test_each_bad_area_row_is_a_rejection_and_the_rest_loads(tmp_path, row, reason, value):
    folder = cycle(tmp_path, "2018-19")
    write(folder / "development_areas.csv", AREAS, [["A1", "4", "13", "ok", "", ""], row])
    data = load_cycle(tmp_path, "2018-19")
    assert data.development.areas["area_id"].tolist() == ["A1"]
    rejected = rejections_of(data, "development_areas.csv")
    assert len(rejected) == 1
    assert rejected.loc[0, "source_row"] == 3
    assert reason in rejected.loc[0, "reason"]
    assert (rejected.loc[0, "raw_value"] if value is not None else None) == value


def three_cycles(tmp_path) -> Path:
    first = cycle(tmp_path, "2017-18", {13: 2, 22: 3})
    write(
        first / "development_areas.csv",
        AREAS,
        [
            ["A1", "4", "13", "SMART plans", "Business Unit", ""],
            ["A2", "6", "22", "Disputes", "", ""],
            ["A3", "5", "", "Supervision, no standard named", "", ""],
        ],
    )
    write(first / "recommendations.csv", ["id", "recommendation", "owner", "due"],
          [["R1", "Brief the auditors", "Case Audit Group", ""]])  # fmt: skip
    second = cycle(tmp_path, "2018-19", {13: 7, 1: 3})  # 2017-18 standard 22 is now 23
    write(second / "development_areas.csv", AREAS, [["A4", "1", "1", "Thresholds", "", ""]])
    write(
        second / "progress.csv",
        ["area_id", "progress", "status"],
        [
            ["A1", "More plans are SMART", "open"],
            ["A2", "Procedure on the website", "Met."],
            ["R1", "Briefing held", "carried_forward"],
        ],
    )
    cycle(tmp_path, "2019-20", {13: 7})
    write(tmp_path / "2019-20" / "development_areas.csv", AREAS, [["A9", "4", "13", "x", "", ""]])
    return tmp_path


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["ZZ", "text", "open"], "unknown area_id: no earlier cycle raised ZZ"),
        (["A4", "text", "open"], "raised in this cycle (2018-19)"),
        (["A9", "text", "open"], "raised only in a later cycle (2019-20)"),
        (["A3", "text", "done"], "status must be one of: open, met, carried forward, dropped"),
        (["A1", "again", "open"], "given twice"),
    ],
)
def test_each_bad_progress_row_is_a_rejection(tmp_path, row, reason):
    root = three_cycles(tmp_path)
    path = root / "2018-19" / "progress.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    write(path, rows[0], [*rows[1:], row])
    data = load_cycle(root, "2018-19")
    rejected = rejections_of(data, "progress.csv")
    assert len(rejected) == 1 and reason in rejected.loc[0, "reason"]
    assert rejected.loc[0, "source_row"] == 5
    progress = data.development.progress
    assert progress["area_id"].tolist() == ["A1", "A2", "R1"]
    assert progress["status"].tolist() == ["open", "met", "carried forward"]
    assert progress["kind"].tolist() == ["area", "area", "recommendation"]
    assert progress["raised_in"].tolist() == ["2017-18"] * 3


def test_an_area_id_is_never_reused_in_a_later_cycle(tmp_path):
    root = three_cycles(tmp_path)
    write(root / "2018-19" / "development_areas.csv", AREAS, [["A1", "4", "13", "again", "", ""]])
    rejected = rejections_of(load_cycle(root, "2018-19"), "development_areas.csv")
    assert "already raised in 2017-18" in rejected.loc[0, "reason"]


def test_a_cycle_without_the_files_has_no_record(tmp_path):
    cycle(tmp_path, "2018-19")
    data = load_cycle(tmp_path, "2018-19")
    assert data.development.empty
    assert area_progress(data, []).empty


def test_area_progress_measures_each_area_since_it_was_raised(tmp_path):
    root = three_cycles(tmp_path)
    earlier, current = load_cycle(root, "2017-18"), load_cycle(root, "2018-19")
    table = area_progress(current, [earlier]).set_index("area_id")
    a1 = table.loc["A1"]
    assert (a1["raised_in"], a1["status"], a1["progress"]) == (
        "2017-18",
        "open",
        "More plans are SMART",
    )
    assert (a1["share_then"], a1["share_now"]) == (2 / 8, 7 / 8)
    assert a1["measured"] == "improved" and a1["diff_low"] > 0 and a1["p_adjusted"] < 0.05
    a2 = table.loc["A2"]  # standard 22 was rated in 2017-18, not in 2018-19
    assert a2["status"] == "met" and a2["measured"] == "not measured"
    assert "no ratings in 2018-19" in a2["measured_note"]
    a3 = table.loc["A3"]
    assert a3["measured"] == "not measured" and "no standards named" in a3["measured_note"]
    a4 = table.loc["A4"]
    assert (a4["status"], a4["measured"]) == ("new", "raised this cycle")
    # the cycle that raised A1 not compared: not measured, and said why
    alone = area_progress(current, []).set_index("area_id")
    assert alone.loc["A4", "measured"] == "raised this cycle"
    assert "A1" not in alone.index


def test_new_cycle_carries_forward_what_is_still_open(tmp_path):
    root = three_cycles(tmp_path)
    (root / "2019-20").rename(root / "later")  # start 2019-20 afresh
    made = start_cycle(root, "2018-19")
    assert made.progress_file == root / "2019-20" / "progress.csv"
    listed = pd.read_csv(made.progress_file, dtype=str, keep_default_na=False)
    # A2 is met; A1, A3, A4 and R1 are open (R1 carried forward)
    assert listed["area_id"].tolist() == ["A1", "A3", "R1", "A4"]
    assert listed.set_index("area_id").loc["R1", "last_status"] == "carried forward"
    assert listed.set_index("area_id").loc["A1", "text"] == "SMART plans"
    assert (listed["progress"] == "").all() and (listed["status"] == "").all()
    # filled in by the QA group, it loads as the new cycle's progress
    listed.loc[listed["area_id"] == "A1", ["progress", "status"]] = ["Done", "met"]
    listed.to_csv(made.progress_file, index=False)
    cycle(root, "2019-20")
    data = load_cycle(root, "2019-20")
    assert data.development.progress["area_id"].tolist() == ["A1"]
    unfilled = rejections_of(data, "progress.csv")
    assert len(unfilled) == 3 and unfilled["reason"].str.startswith("status must be").all()
    # an existing progress.csv (now filled in) is kept unless forced
    before = made.progress_file.read_bytes()
    frameworks = lambda c: load_framework(c, root)  # noqa: E731
    path, count = carry_forward(root, "2018-19", root / "2019-20", frameworks)
    assert (path, count) == (None, 4)
    assert made.progress_file.read_bytes() == before
    path, _ = carry_forward(root, "2018-19", root / "2019-20", frameworks, force=True)
    assert path == made.progress_file and made.progress_file.read_bytes() != before


def test_open_items_follow_the_latest_status(tmp_path):
    root = three_cycles(tmp_path)
    frameworks = lambda c: load_framework(c, root)  # noqa: E731
    items = open_items(history(root, "2018-19", frameworks))
    assert sorted(i.id for i, _ in items) == ["A1", "A3", "A4", "R1"]


def test_validate_reads_a_freshly_started_cycle(tmp_path, capsys):
    """new-cycle then validate, before any case is listed: a clear report (the unfilled
    progress rows listed as rejections), never a traceback."""
    from audit_analysis.pipeline.cli import main

    root = three_cycles(tmp_path)
    (root / "2019-20").rename(root / "later")
    start_cycle(root, "2018-19")
    assert main(["validate", str(root), "--cycle", "2019-20"]) == 0
    out = capsys.readouterr().out
    assert "Cases: 0" in out
    assert "progress.csv, rows 2-5: status must be one of" in out


def test_a_rejected_value_is_quoted_clean_as_every_other_reader_quotes_it(tmp_path):
    """A terminal escape in a development file's bad value is escaped in the log, and a
    long one cut to the excerpt, as in returns and the deep dive."""
    from audit_analysis.io.text import EXCERPT_CHARS

    folder = cycle(tmp_path, "2018-19")
    hostile = "\x1b[31mred" + "x" * 500
    write(folder / "development_areas.csv", AREAS, [["B1", "4", hostile, "text", "", ""]])
    rejected = rejections_of(load_cycle(tmp_path, "2018-19"), "development_areas.csv")
    value = rejected.loc[0, "raw_value"]
    assert "\x1b" not in value and "\\x1b[31mred" in value
    assert len(value) <= EXCERPT_CHARS + 1


# ------------------------------------------- every area measured at once, as one at a time

THEMES = ("early_help", "neglect", "exploitation")


def _met(key: str, case: int, agency: int, cycle: int) -> bool:
    """A fixed pattern (no random numbers): practice improving year on year, unevenly
    across standards, themes and agencies."""
    base = sum(map(ord, key)) % 7
    gain = 3 * cycle if base % 3 != 1 else 0  # some standards improve, some do not
    return (
        case * 5 + agency * 3 + base + 2 * case // 3 * (case % 3) + 7 * cycle
    ) % 10 < 3 + gain + base % 3


def measured_study(root: Path) -> Path:
    """Three cycles of 15 cases (three themes, three agencies, every standard rated):
    2016-17 on its own framework in which standard 14 is ``retired-check``, a key no
    later framework holds; 2017-18 without ratings of ``disguised-compliance`` on more
    than three cases; 2018-19 without ratings of ``dispute-procedure-known``."""
    import yaml

    builtin = load_framework("2016-17")
    fw = yaml.safe_load(Path(builtin.source).read_text(encoding="utf-8"))
    for kloe in fw["kloes"]:
        for standard in kloe["standards"]:
            if standard["key"] == "interventions-assessed":
                standard["key"] = "retired-check"
    (root / "2016-17").mkdir(parents=True)
    (root / "2016-17" / "framework.yaml").write_text(yaml.safe_dump(fw), encoding="utf-8")
    areas = {
        "2016-17": [
            ["R1", "interventions", "smart-plans; retired-check", "retired and kept", "", ""],
            ["R2", "interventions", "retired-check", "retired only", "", ""],
            ["R3", "supervision", "", "no standard named", "", ""],
            ["R4", "thresholds", "threshold-guidance; partners-engaged", "two KLOEs", "", ""],
        ],
        "2017-18": [
            ["S1", "interventions", "smart-plans", "shares a standard with R1", "", ""],
            ["S2", "dispute-resolution", "dispute-procedure-known", "unrated now", "", ""],
            ["S3", "interventions", "disguised-compliance", "three cases then", "", ""],
            ["S4", "voice-of-the-child", "wishes-and-feelings; life-of-the-child", "", "", ""],
        ],
        "2018-19": [
            ["T1", "interventions", "smart-plans; roles-in-complex-cases", "new key", "", ""],
            ["T2", "supervision", "", "raised, no standard", "", ""],
        ],
    }
    for c, (name, raised) in enumerate(areas.items()):
        folder = root / name
        write_cases(folder, [[f"M{c}{i:02d}", THEMES[i % 3], "10", "", "", ""] for i in range(15)])
        records = []
        for standard in load_framework(name, root).standards:
            for i in range(15):
                if standard.key == "dispute-procedure-known" and name == "2018-19":
                    continue
                if standard.key == "disguised-compliance" and name == "2017-18" and i > 2:
                    continue
                for a, agency in enumerate(("WMP", "CCG", "EDU")):
                    rating = "met" if _met(standard.key, i, a, c) else "unmet"
                    records.append([agency, f"M{c}{i:02d}", str(standard.number), rating, ""])
        write_bulk_csv(folder / "returns" / "all.csv", HEADER, records)
        write(folder / "development_areas.csv", AREAS, [r if r[3] else [*r[:3], "text", *r[4:]]
                                                        for r in raised])  # fmt: skip
    return root


def one_at_a_time(current, earlier, table: pd.DataFrame) -> pd.DataFrame:
    """What :func:`area_progress` should say of each of its rows, by its documented
    rules, from :func:`overall_trend` with ``standards``, one area at a time."""
    from audit_analysis.analysis.inference import bh_adjust
    from audit_analysis.analysis.trends import (
        CASE_MIX,
        combined_verdicts,
        overall_trend,
        verdicts,
    )

    judged = ("improved", "declined", "no clear change", CASE_MIX)
    by_cycle = {d.cycle: d for d in [*earlier, current]}
    now_keys = {s.key for s in current.framework.standards}
    columns = ["diff", "diff_low", "diff_high", "p"]
    want = table[["area_id"]].copy()
    for column in ["share_then", "share_now", *columns, *(f"std_{c}" for c in columns)]:
        want[column] = float("nan")
    want["measured"], want["measured_note"] = "not measured", ""
    for i, row in table.iterrows():
        then = by_cycle[row["raised_in"]]
        areas = then.development.areas.set_index("area_id")
        keys = list(areas.loc[row["area_id"], "standards"])
        if then is current:
            want.loc[i, "measured"] = "raised this cycle"
            if keys:
                alone = overall_trend(current, [], standards=keys).iloc[0]
                want.loc[i, "share_now"] = alone[f"share_{current.cycle}"]
            continue
        then_keys = {s.key for s in then.framework.standards}
        common = [k for k in keys if k in now_keys and k in then_keys]
        if not keys:
            want.loc[i, "measured_note"] = "no standards named for this area"
            continue
        if not common:
            want.loc[i, "measured_note"] = "its standards are not in the 2018-19 framework"
            continue
        alone = overall_trend(current, [then], standards=common).iloc[0]
        want.loc[i, "share_then"] = alone[f"share_{then.cycle}"]
        want.loc[i, "share_now"] = alone[f"share_{current.cycle}"]
        unrated = [c for c in (then.cycle, current.cycle) if alone[f"n_{c}"] == 0]
        if unrated:
            want.loc[i, "measured_note"] = "its standards have no ratings in " + " or ".join(
                unrated
            )
            continue
        for column in columns:
            want.loc[i, column] = alone[f"{column}_vs_{then.cycle}"]
            want.loc[i, f"std_{column}"] = alone[f"std_{column}_vs_{then.cycle}"]
        if alone[f"verdict_vs_{then.cycle}"] in judged:
            want.loc[i, "measured"] = alone[f"verdict_vs_{then.cycle}"]
        else:
            want.loc[i, "measured_note"] = "too few cases rated to tell"
    # adjusted over the earlier areas measured, and the verdicts on the adjusted values
    want["p_adjusted"] = bh_adjust(want["p"].to_numpy(float))
    want["std_p_adjusted"] = bh_adjust(want["std_p"].to_numpy(float))
    rule = want["measured"].isin(judged)
    want.loc[rule, "measured"] = combined_verdicts(
        verdicts(want.loc[rule, "diff"], want.loc[rule, "p_adjusted"], 0.95),
        verdicts(want.loc[rule, "std_diff"], want.loc[rule, "std_p_adjusted"], 0.95),
    )
    return want


def test_every_area_measured_at_once_is_each_area_measured_alone(tmp_path):
    """area_progress measures all areas from one tally per cycle; each area's figures
    are those of overall_trend over its standards alone (and the adjustment and the
    verdicts those of its rule): for an area with a retired standard, one whose only
    standard is retired, one with no standards, one raised this cycle (with and
    without standards), one whose standard has no ratings now, one with too few cases,
    and areas of a cycle not compared (left out)."""
    root = measured_study(tmp_path)
    oldest, earlier, current = (load_cycle(root, c) for c in ("2016-17", "2017-18", "2018-19"))
    for compared in ([oldest, earlier], [earlier], []):
        table = area_progress(current, compared)
        raised = {d.cycle for d in compared} | {current.cycle}
        assert set(table["raised_in"]) == raised  # a cycle not compared: its areas left out
        want = one_at_a_time(current, compared, table)
        pd.testing.assert_frame_equal(
            table[want.columns], want, check_exact=False, rtol=1e-12, atol=0, check_dtype=False
        )
    table = area_progress(current, [oldest, earlier])
    by_id = table.set_index("area_id")
    # the study holds what the docstring says it does, and the areas are really measured
    assert by_id.loc["R1", "standards"] == "13, retired-check (retired)"
    assert "not in the 2018-19 framework" in by_id.loc["R2", "measured_note"]
    assert "no standards named" in by_id.loc["R3", "measured_note"]
    assert "no ratings in 2018-19" in by_id.loc["S2", "measured_note"]
    assert by_id.loc["S3", "measured_note"] == "too few cases rated to tell"
    assert by_id.loc["T1", "measured"] == by_id.loc["T2", "measured"] == "raised this cycle"
    assert by_id.loc["T1", "share_now"] > 0 and pd.isna(by_id.loc["T2", "share_now"])
    measured = table["p"].notna()
    assert measured.sum() == 4 and table.loc[measured, "std_p"].notna().all()  # R1 R4 S1 S4
    assert set(table["measured"]) >= {"improved", "no clear change"}
