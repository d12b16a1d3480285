"""Issue 25: the workbook reader's child process is kept warm between reads of one thread
of one process (audit_analysis/io/workbooks.py, docs/loading-performance.md). It is the
same guarded child (memory budget, time budget per file, death with its parent); a child
that died between reads is replaced without blaming a file; a forked process, a read
left half-way and other budgets never reuse it; it is stopped at exit and when idle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from bombs import far_cells, sheet_xml, write_book
from conftest import write_toolkit

import audit_analysis.io.workbooks as workbooks
from audit_analysis import load_cycle
from audit_analysis.io.workbooks import Budgets, WorkbookRefused, read_isolated, stop_readers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ROWS = [(1, "met", "seen"), (2, "unmet", None), (3, "Exceeded", "plan")]


@pytest.fixture(autouse=True)
def _no_reader_left():
    stop_readers()
    yield
    stop_readers()


def parked() -> int | None:
    """The process id of this thread's parked reader child, if any."""
    child = getattr(workbooks._state(), "child", None)
    return None if child is None else child.proc.pid


def alive(pid: int) -> bool:
    """Running (a zombie, ended but not waited for, counts as not running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def exists(pid: int) -> bool:
    """Listed at all: running or a zombie."""
    return Path(f"/proc/{pid}").exists()


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def books(tmp_path) -> list[Path]:
    return [write_book(tmp_path / f"{name}.xlsx", sheet_xml([("A1", name)])) for name in "abc"]


def cells(results) -> list:
    return [
        sheets if isinstance(sheets, WorkbookRefused) else sheets[0][1] for _, sheets in results
    ]


def test_two_reads_in_one_thread_use_one_child(books):
    assert cells(read_isolated(books[:2])) == [[["a"]], [["b"]]]
    first = parked()
    assert first is not None and alive(first)
    assert cells(read_isolated(books[1:])) == [[["b"]], [["c"]]]
    assert parked() == first


def test_two_loads_in_one_process_use_one_child(cycle_dir):
    write_toolkit(cycle_dir / "returns" / "WMP" / "C01.xlsx", ROWS)
    write_toolkit(cycle_dir / "returns" / "SCH" / "C02.xlsx", ROWS, agency="SCH", case_id="C02")
    first = load_cycle(cycle_dir.parent, "2018-19")
    child = parked()
    again = load_cycle(cycle_dir.parent, "2018-19")
    assert child is not None and parked() == child
    assert len(first.ratings) == 6 and first.rejections.empty
    assert again.ratings.equals(first.ratings) and again.returns.equals(first.returns)


@pytest.mark.parametrize("seen", [True, False], ids=["seen-dead", "dies-unseen"])
def test_a_child_killed_between_loads_is_replaced_and_the_next_load_is_whole(cycle_dir, seen):
    write_toolkit(cycle_dir / "returns" / "WMP" / "C01.xlsx", ROWS)
    write_toolkit(cycle_dir / "returns" / "SCH" / "C02.xlsx", ROWS, agency="SCH", case_id="C02")
    first = load_cycle(cycle_dir.parent, "2018-19")
    killed = parked()
    os.kill(killed, signal.SIGKILL)
    assert wait_until(lambda: not alive(killed))
    if not seen:  # as if it died just after the check that it lives: the request finds it
        child = workbooks._state().child
        child.proc.poll = lambda: None
    again = load_cycle(cycle_dir.parent, "2018-19")
    assert again.rejections.empty  # no file blamed for the death
    assert again.ratings.equals(first.ratings) and again.returns.equals(first.returns)
    assert parked() not in (None, killed)
    assert not exists(killed)  # and the dead one was waited for: no zombie


def test_a_crash_is_still_one_rejection_and_the_new_child_is_kept(tmp_path, books):
    bomb = far_cells(tmp_path / "bomb.xlsx", "XFD1048576", declare=False)
    assert cells(read_isolated([books[0]])) == [[["a"]]]
    before = parked()
    results = list(read_isolated([bomb, books[1]]))
    assert isinstance(results[0][1], WorkbookRefused)
    assert "ran out of its memory budget" in results[0][1].reason
    assert cells(results[1:]) == [[["b"]]]
    after = parked()
    assert after not in (None, before) and not exists(before)
    assert cells(read_isolated([books[2]])) == [[["c"]]] and parked() == after


def test_a_read_left_half_way_stops_its_child(books):
    reader = read_isolated(books)
    _, sheets = next(reader)
    child = reader.gi_frame.f_locals["child"].proc.pid
    reader.close()  # two files' answers still to come: they must not reach the next read
    assert parked() is None and not exists(child)
    assert cells(read_isolated(books[2:])) == [[["c"]]]


def test_other_budgets_get_a_child_of_their_own(books):
    list(read_isolated(books[:1]))
    default = parked()
    assert cells(read_isolated(books[:1], Budgets(memory_mb=512))) == [[["a"]]]
    other = parked()
    assert other != default and not exists(default)
    limit = Path(f"/proc/{other}/limits").read_text()
    line = next(x for x in limit.splitlines() if x.startswith("Max address space"))
    assert str(512 * 1024**2) in line.split()


def test_a_forked_process_starts_its_own_child_and_leaves_the_parents_alone(books):
    list(read_isolated(books[:1]))
    mine = parked()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the forked process: it must not use (or stop) the parent's child
        try:
            os.close(read_end)
            found = cells(read_isolated(books[1:2]))
            theirs = parked()
            stop_readers()
            os.write(write_end, f"{found == [[['b']]]} {theirs} {exists(theirs)}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        said = fh.read().split()
    os.waitpid(pid, 0)
    assert said[0] == "True"
    assert int(said[1]) not in (mine, None)  # a child of its own
    assert said[2] == "False"  # stopped and waited for by the forked process
    assert alive(mine) and parked() == mine  # the parent's is untouched, still in use
    assert cells(read_isolated(books[2:])) == [[["c"]]] and parked() == mine


def test_a_child_parked_too_long_is_stopped(books, monkeypatch):
    monkeypatch.setattr(workbooks, "IDLE_SECONDS", 0.05)
    list(read_isolated(books[:1]))
    child = workbooks._state().child
    assert wait_until(lambda: child.stopped)
    assert not exists(child.proc.pid)  # waited for: no zombie
    assert cells(read_isolated(books[1:2])) == [[["b"]]]  # and the next read starts one


def test_every_child_is_stopped_at_exit(books):
    script = textwrap.dedent(
        f"""
        from audit_analysis.io.workbooks import read_isolated, _state
        list(read_isolated([{str(books[0])!r}]))
        print(_state().child.proc.pid, flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    child = int(done.stdout.split()[0])
    assert wait_until(lambda: not exists(child))


def test_a_read_within_a_read_gets_a_child_of_its_own(books):
    outer = read_isolated(books[:2])
    assert cells([next(outer)]) == [[["a"]]]
    assert cells(read_isolated(books[2:])) == [[["c"]]]
    inner = parked()
    assert cells([next(outer)]) == [[["b"]]]
    outer.close()
    assert parked() == inner  # the one parked first is kept, the other stopped


def test_a_child_grown_past_a_quarter_of_its_budget_is_not_kept(books):
    """The interpreter alone takes more than a quarter of 64 MB of address space: a
    child under that budget reads, then is stopped rather than kept, so that the next
    read starts with its whole budget."""
    assert cells(read_isolated(books[:1], Budgets(memory_mb=64))) == [[["a"]]]
    assert parked() is None
    assert cells(read_isolated(books[:1])) == [[["a"]]] and parked() is not None
