"""The command line: validate's report, its exit status and its rejection log."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
from conftest import write_bulk_csv, write_toolkit

from audit_analysis.pipeline.cli import main


def test_validate_reports_loaded_data_and_rejections(cycle_dir, capsys, tmp_path):
    write_toolkit(cycle_dir / "returns" / "WMP" / "a.xlsx", [(1, "met", "e"), (2, "TBC", None)])
    write_toolkit(
        cycle_dir / "returns" / "CRC" / "b.xlsx",
        [(1, "met", None)],
        agency="CRC",
        template_version="2017-18",
        case_id="900102",
    )
    (cycle_dir / "returns" / "~$a.xlsx").write_bytes(b"")
    log = tmp_path / "out" / "rejections.csv"
    status = main(
        ["validate", str(cycle_dir.parent), "--cycle", "2018/19", "--rejections-csv", str(log)]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "Ratings: 2 accepted; 1 rows rejected" in out
    assert "returns/WMP/a.xlsx, row 12: sheet 'Audit': unknown rating" in out
    assert "[value: 'TBC']" in out
    assert "returns/~$a.xlsx: Excel lock file" in out
    agency_lines = {
        line.split()[0]: line
        for line in out.splitlines()
        if line.split() and line.split()[0] in {"WMP", "CRC"}
    }
    assert "2017-18" in agency_lines["CRC"] and "0%" in agency_lines["CRC"]
    assert "100%" in agency_lines["WMP"]
    written = pd.read_csv(log)
    assert written["raw_value"].tolist() == ["TBC"]


def test_validate_exit_status_when_nothing_usable(tmp_path, capsys):
    assert main(["validate", str(tmp_path), "--cycle", "2018-19"]) == 1
    err = capsys.readouterr().err
    assert "no folder for cycle 2018-19" in err and "Traceback" not in err
    assert main(["validate", str(tmp_path), "--cycle", "someday"]) == 1


def test_rejection_log_neutralises_spreadsheet_formulas(cycle_dir, tmp_path):
    write_bulk_csv(
        cycle_dir / "returns" / "a.csv",
        ["agency", "case_id", "standard", "rating"],
        [
            ["WMP", "C01", 1, '=HYPERLINK("http://x")'],
            ["WMP", "C01", 2, "@SUM(A1)"],
            ["WMP", "C01", 3, "-1"],
        ],
    )
    log = tmp_path / "r.csv"
    assert (
        main(
            ["validate", str(cycle_dir.parent), "--cycle", "2018-19", "--rejections-csv", str(log)]
        )
        == 0
    )
    values = pd.read_csv(log)["raw_value"].tolist()
    assert values == ['\'=HYPERLINK("http://x")', "'@SUM(A1)", "'-1"]


def test_python_dash_m_runs_the_cli(cycle_dir):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "audit_analysis",
            "validate",
            str(cycle_dir.parent),
            "--cycle",
            "2018-19",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Audit cycle 2018-19" in result.stdout


def test_a_failed_run_names_the_notebook_and_the_failed_folder(tmp_path, capsys, monkeypatch):
    """The cycle as typed (2018/19) is normalised in the folder named, as the runner
    names it; the case packs say that the previous ones were kept."""
    from audit_analysis.exceptions import RunFailedError
    from audit_analysis.pipeline import runner

    def fail(*args, **kwargs):
        raise RunFailedError("03-trends.ipynb", 4, "RuntimeError", "boom")

    monkeypatch.setattr(runner, "run_annual", fail)
    monkeypatch.setattr(runner, "run_case_packs", fail)
    out = tmp_path / "out"
    assert main(["run", "--data", str(tmp_path), "--cycle", "2018/19", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "notebook 03-trends.ipynb failed in cell 4: RuntimeError: boom" in err
    assert f"the failed run is in {out / '2018-19.failed'}" in err
    assert "Traceback" not in err
    args = ["case-packs", "--data", str(tmp_path), "--cycle", "2018-19", "--out", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "failed in cell 4" in err and "previous case packs were left as they were" in err


def test_plan_prints_the_minimum_detectable_change_with_its_method(study, capsys):
    from audit_analysis.analysis.planning import minimum_detectable_change
    from audit_analysis.io.dataset import load_cycle

    root, _ = study
    assert (
        main(["plan", "--data", str(root / "data"), "--cycle", "2019-20", "--cases", "12", "48"])
        == 0
    )
    out = capsys.readouterr().out
    plan = minimum_detectable_change(load_cycle(root / "data", "2019-20"), cohorts=(12, 48))
    own = plan[plan["this_cycle"]].set_index("level")
    overall = round(100 * own.loc["overall", "mdc"])
    assert f"With {own['cases'].iloc[0]} cases, a change of less than about {overall} points" in out
    assert "Bloom 1995" in out and "80% power" in out
    first = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {"12", "48", str(own["cases"].iloc[0])} <= first  # a row per cohort size
    assert "this year" in out


def test_plan_on_a_missing_cycle_is_one_line(tmp_path, capsys):
    assert main(["plan", "--data", str(tmp_path), "--cycle", "2030-31"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2030-31" in err
