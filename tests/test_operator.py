"""What a run tells its operator: the one-line summary of the data's problems (whatever
--quiet says), the manifest's notes with their counts, the exit statuses, which code ran,
and a failed run's pages marked as such."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import write_toolkit

from audit_analysis.io.dataset import load_cycle
from audit_analysis.pipeline import cli, runner
from audit_analysis.pipeline.cli import EXIT_PROBLEMS, main
from audit_analysis.pipeline.validation import run_notes, summary_line, suppressed_tables
from audit_analysis.render.export import FAILED_MARKING, mark_failed, page

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bad_cycle(cycle_dir: Path) -> Path:
    """One row rejected (an unknown rating), one file rejected whole (an unknown agency,
    so the return cannot be placed), one return on the 2017-18 template."""
    write_toolkit(cycle_dir / "returns" / "WMP" / "a.xlsx", [(1, "met", "e"), (2, "TBC", None)])
    write_toolkit(
        cycle_dir / "returns" / "CRC" / "b.xlsx",
        [(1, "met", None)],
        agency="CRC",
        template_version="2017-18",
        case_id="900102",
    )
    write_toolkit(
        cycle_dir / "returns" / "c.xlsx", [(1, "met", "e")], agency="Nowhere Trust", case_id="C01"
    )
    return cycle_dir


def test_notes_count_each_kind_of_problem(bad_cycle, tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "by-age.csv").write_text('"band","share"\n"0-4","c"\n"5-9","0.5"\n')
    (tables / "plain.csv").write_text('"band","share"\n"0-4","0.25"\n"cc","c d"\n')
    notes = run_notes(load_cycle(bad_cycle.parent, "2018-19"), tables, min_cell_count=5)
    counts = {n["kind"]: n["count"] for n in notes}
    assert counts == {
        "rejections": 2,  # the row with TBC, and c.xlsx whole
        "unplaced_returns": 1,  # c.xlsx
        "old_templates": 1,  # b.xlsx
        "suppressed_tables": 1,  # by-age only: a cell that is exactly c
    }
    assert next(n for n in notes if n["kind"] == "suppressed_tables")["tables"] == ["by-age"]
    text = json.dumps(notes)
    assert "c.xlsx" not in text and "C01" not in text  # counts, never names
    assert summary_line("2018-19", notes) == (
        "data problems in 2018-19: 2 rejections, 1 return not placed, 1 return on an old "
        "template, 1 table with suppressed figures (manifest.json notes)"
    )


def test_clean_data_has_nothing_to_say(cycle_dir, tmp_path):
    write_toolkit(cycle_dir / "returns" / "WMP" / "a.xlsx", [(1, "met", "e"), (2, "unmet", None)])
    assert run_notes(load_cycle(cycle_dir.parent, "2018-19"), tmp_path) == []
    assert summary_line("2018-19", []) == ""
    # notes alone (nothing left unused) are notes, not problems
    only = [{"kind": "old_templates", "count": 3, "text": "..."}]
    assert summary_line("2018-19", only).startswith("notes in 2018-19: 3 returns")
    assert suppressed_tables(tmp_path) == []


def _fake_run(final: Path, notes: list[dict]):
    """run_annual replaced by one that writes a finished run's manifest with ``notes``
    (the notebooks themselves are tested end to end in test_run.py)."""

    def run_annual(data, cycle, out, **kwargs):
        final.mkdir(parents=True, exist_ok=True)
        (final / "manifest.json").write_text(json.dumps({"cycle": cycle, "notes": notes}))
        return final

    return run_annual


@pytest.mark.parametrize(
    ("notes", "status"),
    [
        ([], 0),
        ([{"kind": "old_templates", "count": 2, "text": "..."}], 0),
        ([{"kind": "suppressed_tables", "count": 4, "text": "...", "tables": ["a"]}], 0),
        ([{"kind": "rejections", "count": 31, "text": "..."}], EXIT_PROBLEMS),
        ([{"kind": "unplaced_returns", "count": 6, "text": "..."}], EXIT_PROBLEMS),
    ],
)
def test_the_exit_status_says_whether_the_data_had_problems(
    tmp_path, capsys, monkeypatch, notes, status
):
    final = tmp_path / "out" / "2018-19"
    monkeypatch.setattr(runner, "run_annual", _fake_run(final, notes))
    args = ["run", "--data", str(tmp_path), "--cycle", "2018-19", "--out", str(tmp_path / "out")]
    assert main([*args, "--quiet"]) == status
    err = capsys.readouterr().err.splitlines()
    if notes:  # one line, quiet or not, naming the manifest
        (line,) = err
        assert f"{notes[0]['count']} " in line and str(final / "manifest.json") in line
    else:
        assert err == []


def test_strict_refuses_a_cycle_with_rejections_before_any_notebook(bad_cycle, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "2018-19").mkdir(parents=True)
    (out / "2018-19" / "keep.txt").write_text("previous")
    args = ["run", "--data", str(bad_cycle.parent), "--cycle", "2018-19", "--out", str(out)]
    assert main([*args, "--strict", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "2 rejections in 2018-19 and --strict" in err and "Traceback" not in err
    assert sorted(p.name for p in (out / "2018-19").iterdir()) == ["keep.txt"]


def test_the_exit_statuses_are_in_the_help():
    run = cli.build_parser()._subparsers._group_actions[0].choices["run"]
    text = " ".join(run.format_help().split())
    assert "Exit status: 0" in text and f"; {EXIT_PROBLEMS} outputs written" in text
    assert "--strict" in text


# ----------------------------------------------------------------------- which code ran


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def test_two_commits_give_two_code_records(tmp_path):
    """What tells two runs' manifests apart: the commit, and whether the clone had
    uncommitted changes."""
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "add", "a.py")
    _git(tmp_path, "commit", "-q", "-m", "one")
    first = runner.code_record(tmp_path)
    (tmp_path / "a.py").write_text("x = 2\n")
    dirty = runner.code_record(tmp_path)
    _git(tmp_path, "commit", "-q", "-am", "two")
    second = runner.code_record(tmp_path)
    assert len(first["commit"]) == 40 and first["dirty"] is False
    assert dirty["commit"] == first["commit"] and dirty["dirty"] is True
    assert second["commit"] != first["commit"] and second["dirty"] is False
    assert first["version"] == second["version"]  # the commit is what tells them apart


def test_outside_a_clone_no_commit_is_claimed(tmp_path):
    record = runner.code_record(tmp_path)
    assert record["commit"] is None and record["version"]


# ----------------------------------------------------------------------- a failed run


def test_a_failed_runs_page_says_so_in_its_banner_and_marking_line(tmp_path):
    path = tmp_path / "executive-summary.html"
    path.write_text(page("Executive summary", "<p>42%</p>", "OFFICIAL: Executive Group"))
    assert mark_failed(path) and mark_failed(path)  # once only
    text = path.read_text(encoding="utf-8")
    assert text.count(FAILED_MARKING) == 3  # banner, top and foot of every printed page
    assert '@top-center { content: "FAILED RUN: not for circulation. OFFICIAL"' in text
    assert '@bottom-center { content: "FAILED RUN: not for circulation. OFFICIAL"' in text
    other = tmp_path / "other.html"
    other.write_text("<html>not ours</html>")
    assert not mark_failed(other) and other.read_text() == "<html>not ours</html>"


def test_marking_a_failed_folder_removes_a_pdf_it_cannot_print_again(tmp_path, monkeypatch):
    from audit_analysis.render import pdf

    folder = tmp_path / "2018-19.failed"
    folder.mkdir()
    (folder / "executive-summary.html").write_text(page("E", "<p>x</p>", "OFFICIAL: E"))
    (folder / runner.EXECUTIVE_PDF).write_bytes(b"%PDF-1.4 unmarked")
    monkeypatch.setattr(pdf, "find_browser", lambda: None)
    runner._mark_failed(folder, "2018-19")
    assert FAILED_MARKING in (folder / "executive-summary.html").read_text()
    assert not (folder / runner.EXECUTIVE_PDF).exists()


# ----------------------------------------------------------------------- papermill direct


def _executed(path: Path, cycle: str = "2018-19") -> Path:
    """A notebook as papermill leaves it: its parameters in the metadata, outputs in."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"cycle": cycle, "data_dir": "/d"}}
    cell = nbformat.v4.new_code_cell("secret_code = 1")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<p>Share 77%</p>"})]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


def test_page_turns_papermills_output_into_the_runs_page(tmp_path, capsys):
    from audit_analysis.pipeline.runner import BANNER_EXEC, BANNER_QA

    trends = _executed(tmp_path / "03-trends.ipynb")
    assert main(["page", str(trends)]) == 0
    text = (tmp_path / "03-trends.html").read_text(encoding="utf-8")
    assert "<title>Trends against earlier years: case audit 2018-19</title>" in text
    assert BANNER_QA in text and "Share 77%" in text and "secret_code" not in text
    executive = _executed(tmp_path / "05-executive-summary.ipynb")
    target = tmp_path / "pages" / "exec.html"
    assert main(["page", str(executive), "--out", str(target)]) == 0
    assert BANNER_EXEC in target.read_text(encoding="utf-8")
    assert f"Page written to {target}" in capsys.readouterr().out


def test_page_refuses_what_papermill_did_not_run_in_one_line(tmp_path, capsys):
    import nbformat

    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), plain)
    (tmp_path / "junk.ipynb").write_text("{not json")
    for path, reason in (
        (plain, "not executed by papermill"),
        (tmp_path / "junk.ipynb", "not a notebook"),
        (tmp_path / "missing.ipynb", "cannot read the notebook"),
    ):
        assert main(["page", str(path)]) == 1
        (line,) = capsys.readouterr().err.splitlines()
        assert reason in line and path.name in line


# ----------------------------------------------------------------------- quiet logs


@pytest.mark.skipif(os.name == "nt", reason="no IPC transport on Windows")
def test_the_runs_kernels_use_ipc_in_a_private_folder():
    """No TCP port, so no "running over TCP without encryption" in any log (the run's
    logs are checked end to end in test_run.py)."""
    manager = runner._kernel_manager()(kernel_name="python3")
    folder = Path(manager.connection_file).parent
    try:
        assert manager.transport == "ipc"
        assert manager.ip.startswith(str(folder))  # the sockets sit beside the file
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert len(f"{manager.ip}-99999") < 100  # within a Unix socket path's limit
    finally:
        asyncio.run(manager.cleanup_resources())
    assert not folder.exists()


def test_a_page_made_from_papermills_output_of_a_draft_cycle_says_draft(tmp_path):
    """The demo's 2018-19 commentary is a draft: the page made from a notebook run on it
    carries the DRAFT marking the run would have given it."""
    import nbformat

    from audit_analysis.pipeline.runner import banners

    executed = _executed(tmp_path / "03-trends.ipynb")
    nb = nbformat.read(executed, as_version=4)
    nb.metadata["papermill"]["parameters"]["data_dir"] = str(ROOT / "data" / "demo")
    nbformat.write(nb, executed)
    assert main(["page", str(executed)]) == 0
    assert banners("draft")[0] in (tmp_path / "03-trends.html").read_text(encoding="utf-8")
