"""Nothing lost, nothing misfiled (issue 22): the mistakes a tired analyst makes, each
built here from small generated files, and what the suite does about them
(docs/mistakes.md)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import write_cases, write_toolkit

from audit_analysis.pipeline.cli import main


def snapshot(root: Path) -> dict[str, str]:
    """Every file and link under ``root``, by path: its bytes' SHA-256 (a link: its
    target). Folders too, so that a new or removed folder shows."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            found[rel] = "folder"
        else:
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def data(tmp_path) -> Path:
    """``tmp/data`` with 2018-19 (cases, a return, a deep dive flagging C01) and an
    earlier 2017-18."""
    root = tmp_path / "data"
    for cycle in ("2017-18", "2018-19"):
        folder = root / cycle
        write_cases(folder)
        write_toolkit(folder / "returns" / "WMP" / "a.xlsx", [(1, "met", "seen")])
    (root / "2018-19" / "deep_dive.csv").write_text("case_ref,discussed\nC01,yes\n")
    return root


def one_line_refusal(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    return err


# ------------------------------------------------------------ 1. outputs never overlap inputs


def _commands(data: Path, out: Path) -> list[list[str]]:
    d, o = str(data), str(out)
    return [
        ["run", "--data", d, "--cycle", "2018-19", "--out", o, "--quiet"],
        ["case-packs", "--data", d, "--cycle", "2018-19", "--out", o, "--quiet"],
        ["templates", "--data", d, "--cycle", "2018-19", "--out", o],
    ]


@pytest.mark.parametrize(
    "where",
    [".", "2018-19", "2018-19/returns", "2018-19/returns/WMP", "2017-18/new", ".."],
    ids=["the-data-folder", "a-cycle", "its-returns", "deeper", "another-cycle", "around-data"],
)
def test_an_output_folder_overlapping_a_cycle_folder_is_refused_before_anything(
    data, capsys, where
):
    out = (data / where).resolve() if where != ".." else data.parent
    before = snapshot(data.parent)
    for argv in _commands(data, out):
        assert main(argv) == 1, argv
        one_line_refusal(capsys, "overlaps the input folder", "Nothing was written")
        assert snapshot(data.parent) == before, argv  # every input byte-identical, nothing new


@pytest.mark.parametrize(
    "where", ["2018-19", "2018-19/rejections.csv", "2018-19/returns/WMP/log.csv", "2017-18/x.csv"]
)
@pytest.mark.parametrize("option", ["--rejections-csv", "--compliance-csv"])
def test_validate_never_writes_its_logs_into_a_cycle_folder(data, capsys, where, option):
    before = snapshot(data.parent)
    assert main(["validate", str(data), "--cycle", "2018-19", option, str(data / where)]) == 1
    one_line_refusal(capsys, "overlaps the input folder", option)
    assert snapshot(data.parent) == before


def test_an_output_path_beside_the_cycles_is_accepted(data, capsys):
    log = data.parent / "logs" / "rejections.csv"
    argv = ["validate", str(data), "--cycle", "2018-19", "--rejections-csv", str(log)]
    assert main(argv) == 0
    assert log.is_file()


# ------------------------------------------------------------ publishing replaces only its own


def _staging(out: Path, name: str, text: str) -> Path:
    staging = out / f".2018-19-{name:_<8}"
    (staging / "tables").mkdir(parents=True)
    (staging / "index.html").write_text(text)
    (staging / "manifest.json").write_text("{}")
    (staging / "tables" / "t.csv").write_text(text)
    return staging


def test_publishing_keeps_every_file_the_suite_did_not_write(tmp_path):
    from audit_analysis.pipeline.runner import MARKER, _publish

    out = tmp_path / "out"
    final = out / "2018-19"
    final.mkdir(parents=True)
    (final / "rejections.csv").write_text("the analyst's log")  # validate wrote it first
    carried = _publish(_staging(out, "a", "one"), final)
    assert carried == ["rejections.csv"]
    assert (final / "rejections.csv").read_text() == "the analyst's log"
    assert json.loads((final / MARKER).read_text())["entries"] == [
        "index.html",
        "manifest.json",
        "tables",
    ]
    (final / "case-packs").mkdir()
    (final / "case-packs" / "C01.html").write_text("pack")
    (final / "notes.txt").write_text("mine")
    second = _staging(out, "b", "two")
    (final / "old-page.html").write_text("a page the suite no longer writes")
    _publish(second, final)
    assert (final / "index.html").read_text() == "two"
    assert (final / "rejections.csv").read_text() == "the analyst's log"
    assert (final / "notes.txt").read_text() == "mine"
    assert (final / "case-packs" / "C01.html").read_text() == "pack"
    assert not second.exists()


def test_publishing_refuses_to_replace_what_the_suite_did_not_write(tmp_path):
    from audit_analysis.pipeline.runner import OutputError, _publish

    out = tmp_path / "out"
    final = out / "2018-19"
    final.mkdir(parents=True)
    (final / "index.html").write_text("the user's own page")
    staging = _staging(out, "a", "new")
    with pytest.raises(OutputError, match="index.html, which audit-analysis did not write"):
        _publish(staging, final)
    assert (final / "index.html").read_text() == "the user's own page"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    (out / "2019-20").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="a link or a file"):
        _publish(_staging(out, "b", "new"), out / "2019-20")
    assert snapshot(elsewhere) == {"keep.txt": hashlib.sha256(b"keep").hexdigest()}


def test_run_refuses_an_unowned_output_folder_before_reading(data, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "2018-19").mkdir(parents=True)
    (out / "2018-19" / "index.html").write_text("mine")
    argv = ["run", "--data", str(data), "--cycle", "2018-19", "--out", str(out), "--quiet"]
    assert main(argv) == 1
    one_line_refusal(capsys, "did not write there", "nothing was replaced")
    assert (out / "2018-19" / "index.html").read_text() == "mine"


# ------------------------------------------------------------ 2. publishing survives a kill


class Killed(BaseException):
    """What a ``kill -9`` leaves: no handler, no finally of ours runs after it."""


def _kill_at(monkeypatch, k: int) -> None:
    import audit_analysis.pipeline.runner as runner

    calls = {"n": 0}
    rename, replace = os.rename, os.replace

    def counted(real):
        def call(src, dst, *args, **kwargs):
            if calls["n"] == k:
                raise Killed
            calls["n"] += 1
            return real(src, dst, *args, **kwargs)

        return call

    monkeypatch.setattr(runner.os, "rename", counted(rename))
    monkeypatch.setattr(runner.os, "replace", counted(replace))


def test_publishing_killed_at_every_rename_loses_nothing(tmp_path, monkeypatch, capsys):
    from audit_analysis.pipeline.runner import _publish, clean_stale

    renames = None
    for k in range(20):
        out = tmp_path / f"k{k}"
        final = out / "2018-19"
        _publish(_staging(out, "old", "old"), final)
        (final / "case-packs").mkdir()
        (final / "case-packs" / "C01.html").write_text("pack")
        (final / "rejections.csv").write_text("log")
        staging = _staging(out, "new", "new")
        with monkeypatch.context() as patch:
            _kill_at(patch, k)
            try:
                _publish(staging, final)
            except Killed:
                pass
            else:
                renames = k  # the publishing needed fewer than k renames: all tried
        clean_stale(out)  # what the next run does first, holding the lock
        assert (final / "index.html").read_text() in ("old", "new"), k
        assert (final / "tables" / "t.csv").read_text() == (final / "index.html").read_text()
        assert (final / "case-packs" / "C01.html").read_text() == "pack", k
        assert (final / "rejections.csv").read_text() == "log", k
        assert sorted(p.name for p in out.iterdir()) == ["2018-19"], k
        if renames is not None:
            break
    assert renames is not None and renames >= 4  # the journal, two carried, two folders
    err = capsys.readouterr().err
    assert "its previous outputs are kept as they were (2 carried entries put back)" in err
