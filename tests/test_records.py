"""The optional records of the cycle: deep dive, learning event, family feedback."""

from __future__ import annotations

from audit_analysis import load_cycle
from audit_analysis.analysis.quality import deep_dive_summary, feedback_summary
from audit_analysis.render.present import learning_table_html


def write(path, text):
    path.write_text(text, encoding="utf-8")


def test_absent_records_are_empty_tables(cycle_dir):
    data = load_cycle(cycle_dir.parent, "2018-19")
    assert data.deep_dive.empty and data.learning_event.empty and data.family_feedback.empty
    assert deep_dive_summary(data.deep_dive)["flagged"] == 0


def test_deep_dive_rows_land_in_the_table_or_the_log(cycle_dir):
    write(
        cycle_dir / "deep_dive.csv",
        "Case Ref,Discussed,Reason not discussed,Themes,Action required\n"
        "C03,yes,,CSE; gangs,Yes\n"
        "c04,no,Agency could not attend,,no\n"
        "C02,Y,,neglect,\n"
        "C99,yes,,,no\n"
        "C03,yes,,,no\n"
        "C01,maybe,,,no\n"
        "C01,yes,,,perhaps\n",
    )
    data = load_cycle(cycle_dir.parent, "2018-19")
    assert data.deep_dive["case_ref"].tolist() == ["C03", "C04", "C02"]
    assert data.deep_dive["action_required"].tolist() == [True, False, False]
    log = data.rejections[data.rejections["source_file"] == "deep_dive.csv"]
    assert log["source_row"].tolist() == [5, 6, 7, 8]
    assert "unknown case" in log["reason"].iloc[0] and log["raw_value"].iloc[0] == "C99"
    assert "listed twice" in log["reason"].iloc[1]
    assert log["raw_value"].iloc[2:].tolist() == ["maybe", "perhaps"]
    summary = deep_dive_summary(data.deep_dive)
    assert summary == {
        "flagged": 3,
        "discussed": 2,
        "not_discussed": 1,
        "reasons": {"Agency could not attend": 1},
        "action_required": 1,
    }


def test_learning_event_kloes_and_columns_are_checked(cycle_dir):
    write(
        cycle_dir / "learning_event.csv",
        "kloe,column,text\n"
        "1,well,Good awareness of thresholds\n"
        "KLOE 4,What needs to happen?,SMART plans <everywhere>\n"
        "thresholds,worried,Consent & GDPR\n"
        "9,well,no such KLOE\n"
        "2,hopeful,bad column\n"
        "3,next,\n",
    )
    data = load_cycle(cycle_dir.parent, "2018-19")
    assert data.learning_event[["kloe", "column"]].values.tolist() == [
        [1, "well"],
        [4, "next"],
        [1, "worried"],
    ]
    log = data.rejections[data.rejections["source_file"] == "learning_event.csv"]
    assert log["raw_value"].fillna("").tolist() == ["9", "hopeful", ""]
    assert "unknown KLOE" in log["reason"].iloc[0]
    table = learning_table_html(data.learning_event, 4)
    assert "SMART plans &lt;everywhere&gt;" in table and "<everywhere>" not in table
    assert learning_table_html(data.learning_event, 6) == ""


def test_family_feedback_and_its_response_rate(cycle_dir):
    write(
        cycle_dir / "family_feedback.csv",
        "case_ref,invited,responded\nC01,yes,yes\nC02,yes,no\nC03,no,no\nC04,no,yes\nC77,yes,yes\n",
    )
    data = load_cycle(cycle_dir.parent, "2018-19")
    assert len(data.family_feedback) == 3
    log = data.rejections[data.rejections["source_file"] == "family_feedback.csv"]
    assert ["responded is yes but invited is no" in r for r in log["reason"]] == [True, False]
    summary = feedback_summary(data.family_feedback)
    assert (summary["invited"], summary["responded"], summary["rate"]) == (2, 1, 0.5)
    assert 0 < summary["low"] < 0.5 < summary["high"] < 1


def test_a_records_file_without_its_columns_is_one_rejection(cycle_dir):
    write(cycle_dir / "deep_dive.csv", "case,notes\nC01,x\n")
    data = load_cycle(cycle_dir.parent, "2018-19")
    log = data.rejections[data.rejections["source_file"] == "deep_dive.csv"]
    assert len(log) == 1 and log["source_row"].isna().all()
    assert "lacks the column(s) case_ref, discussed" in log["reason"].iloc[0]


def test_templates_write_blank_records_that_load_empty(cycle_dir, tmp_path):
    from audit_analysis.admin.templates import write_templates

    made = write_templates(
        cycle_dir.parent, "2018-19", tmp_path / "out", agencies=["WMP"], cases=["C01"]
    )
    names = sorted(p.name for p in made.records)
    assert names == ["deep_dive.csv", "family_feedback.csv", "learning_event.csv"]
    for path in made.records:  # copied into the cycle, a blank record is no rejection
        (cycle_dir / path.name).write_bytes(path.read_bytes())
    data = load_cycle(cycle_dir.parent, "2018-19")
    assert data.rejections.empty and data.deep_dive.empty
    again = write_templates(
        cycle_dir.parent, "2018-19", tmp_path / "out2", agencies=["WMP"], cases=["C01"]
    )
    (again.records[0]).write_text("case_ref,discussed\nC01,yes\n")
    third = write_templates(
        cycle_dir.parent, "2018-19", tmp_path / "out2", agencies=["WMP"], cases=["C01"], force=True
    )
    assert len(third.records) == 3
