"""Issue 25, third and fourth passes (docs/loading-performance.md): the workbook reader's
child also finds each workbook's toolkit or bulk table (``returns.parse_sheets``, run in
the child) and sends only the rows the loader reads; a read of many workbooks is shared
by two children, each taking the next file nobody has taken (a claims file), so a child
slowed down reads fewer, and it reads only the sheets the table search looks at. The
loader's tables are those of parsing the sheets in this process (but for a damaged sheet
after the table, which the child never reads), a crash or an overrun is still one
rejection of the right file, and both children are kept warm."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest
from bombs import far_cells, sheet_xml, write_book
from conftest import write_bulk_csv, write_toolkit

import audit_analysis.io.dataset as dataset
import audit_analysis.io.workbooks as workbooks
from audit_analysis import load_cycle
from audit_analysis.io.returns import ReturnFileError, parse_sheets
from audit_analysis.io.workbooks import (
    Budgets,
    Parsed,
    WorkbookRefused,
    read_isolated,
    read_sheets,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ROWS = [(1, "met", "seen"), (2, "unmet", None), None, (3, "Exceeded", "plan"), (4, "??", 7)]


@pytest.fixture(autouse=True)
def _no_reader_left():
    workbooks.stop_readers()
    yield
    workbooks.stop_readers()


@pytest.fixture
def two(monkeypatch):
    """Two readers from two workbooks on, whatever the machine's cores."""
    monkeypatch.setattr(workbooks, "TWO_READERS_FROM", 2)
    monkeypatch.setattr(workbooks, "_cores", lambda: 2)


def bulk_book(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Ratings"
    ws.append(["Agency", "Case ID", "Standard", "Rating", "Evidence"])
    ws.append(["WMP", "C02", 1, "met", "seen"])
    ws.append(["SCH", "C02", "S2", "partially met", None])
    ws.append(["", "", "", "", ""])
    ws.append(["NOPE", "C02", 3, "met", ""])
    wb.save(path)
    return path


@pytest.fixture
def books(tmp_path):
    """Workbooks the table search accepts, and ones it refuses for each reason."""
    return [
        write_toolkit(tmp_path / "good.xlsx", ROWS, case_id_type="case_ref"),
        bulk_book(tmp_path / "bulk.xlsx"),
        write_toolkit(tmp_path / "no-agency.xlsx", ROWS, header=[("Case ID", "C01")]),
        write_toolkit(tmp_path / "blank-agency.xlsx", ROWS, agency=None),
        write_toolkit(tmp_path / "no-table.xlsx", ROWS, table_header=()),
        write_book(tmp_path / "nothing.xlsx", sheet_xml([("B2", "just a note")])),
        write_book(tmp_path / "empty.xlsx", sheet_xml([])),
    ]


def here(path) -> tuple:
    """What parsing the sheets in this process gives: the table, or why not."""
    try:
        parsed = parse_sheets(read_sheets(path))
    except ReturnFileError as exc:
        return ("refused", exc.reason, exc.sheet, exc.value)
    return (parsed.form, parsed.sheet, parsed.header, parsed.has_agency_column, list(parsed.rows))


def there(answer: Parsed) -> tuple:
    if answer.error is not None:
        return ("refused", *answer.error)
    return answer.fields


def test_the_child_finds_the_same_tables_and_refusals_as_this_process(books):
    answers = list(read_isolated(books, parse=True))
    assert [path for path, _ in answers] == [str(p) for p in books]
    assert all(isinstance(answer, Parsed) for _, answer in answers)
    for book, (_, answer) in zip(books, answers, strict=True):
        assert there(answer) == here(book), book.name
    # and the comparison had something to compare: tables of both forms, every refusal
    kinds = [there(answer)[0] for _, answer in answers]
    assert kinds == ["toolkit", "bulk"] + ["refused"] * 5
    rows = there(answers[0][1])[4]
    assert [row[:4] for row in rows] == [
        (11, 1.0, "met", "seen"),  # 2 title rows, 6 labels, a gap, the table's header
        (12, 2.0, "unmet", None),
        (14, 3.0, "Exceeded", "plan"),  # the blank row 13 is not sent
        (15, 4.0, "??", 7.0),
    ]


def test_a_read_without_parse_still_gives_the_sheets(books):
    (_, sheets), *_ = read_isolated(books[:1])
    assert sheets == read_sheets(books[0])


def test_many_workbooks_are_read_by_two_children_in_order_and_both_kept(books, two):
    first = list(read_isolated(books, parse=True))
    assert [path for path, _ in first] == [str(p) for p in books]
    state = workbooks._state()
    one, other = state.child, state.second
    assert one is not None and other is not None and one.proc.pid != other.proc.pid
    again = list(read_isolated(books[::-1], parse=True))
    assert [path for path, _ in again] == [str(p) for p in books[::-1]]
    assert [there(a) for _, a in again] == [there(a) for _, a in first][::-1]
    assert (state.child, state.second) == (one, other)  # warm: the same two


def test_one_child_below_the_threshold(books, monkeypatch):
    monkeypatch.setattr(workbooks, "_cores", lambda: 2)
    assert len(books) < workbooks.TWO_READERS_FROM
    list(read_isolated(books, parse=True))
    assert workbooks._state().child is not None
    assert getattr(workbooks._state(), "second", None) is None


def test_a_bomb_read_by_either_child_is_one_rejection_and_the_rest_are_read(tmp_path, books, two):
    bomb = far_cells(tmp_path / "bomb.xlsx", "XFD1048576", declare=False)
    for at in (0, 1):  # the first child's share, then the second's
        paths = list(books[:2])
        paths.insert(at, bomb)
        answers = list(read_isolated(paths, parse=True))
        assert [path for path, _ in answers] == [str(p) for p in paths]
        refused = answers[at][1]
        assert isinstance(refused, WorkbookRefused)
        assert "ran out of its memory budget" in refused.reason
        rest = [there(a) for i, (_, a) in enumerate(answers) if i != at]
        assert rest == [here(p) for p in books[:2]]


@pytest.fixture
def cycle(cycle_dir, tmp_path):
    returns = cycle_dir / "returns"
    write_toolkit(returns / "WMP" / "C01.xlsx", ROWS)
    write_toolkit(returns / "SCH" / "C01.xlsx", ROWS, agency="SCH")
    write_toolkit(returns / "SCH" / "C02.xlsx", ROWS, agency="SCH", case_id="C02")
    write_toolkit(returns / "SCH" / "no-table.xlsx", ROWS, table_header=())
    write_toolkit(returns / "SCH" / "no-agency.xlsx", ROWS, header=[("Case ID", "C01")])
    bulk_book(returns / "WMP" / "bulk.xlsx")
    far_cells(returns / "bomb.xlsx", "XFD1048576", declare=False)
    write_bulk_csv(
        returns / "all.csv",
        ["agency", "case_id", "standard", "rating"],
        [["WMP", "C01", 1, "unmet"], ["WMP", "C03", 2, "met"]],
    )
    return cycle_dir


@pytest.mark.parametrize("readers", [1, 2])
def test_a_cycle_loads_as_when_this_process_parses_the_sheets(cycle, monkeypatch, readers):
    monkeypatch.setattr(workbooks, "_cores", lambda: readers)
    monkeypatch.setattr(workbooks, "TWO_READERS_FROM", 2)
    child = load_cycle(cycle.parent, "2018-19")
    real = dataset.read_isolated
    monkeypatch.setattr(
        dataset, "read_isolated", lambda paths, budgets, parse: real(paths, budgets)
    )
    sheets = load_cycle(cycle.parent, "2018-19")
    for name in ("ratings", "cases", "returns", "rejections"):
        mine, theirs = getattr(child, name), getattr(sheets, name)
        assert mine.equals(theirs) and list(mine.dtypes) == list(theirs.dtypes), name
    assert len(child.ratings) > 0
    codes = child.rejections.set_index("source_file")["code"]
    assert codes["returns/bomb.xlsx"] == "file"
    assert codes["returns/SCH/no-table.xlsx"] == "file"
    assert "no 'Agency' label" in child.rejections.set_index("source_file")["reason"].get(
        "returns/SCH/no-agency.xlsx"
    )


def test_the_child_parses_without_pandas_or_the_packages_init(books):
    """The table search runs in the child without the package's ``__init__`` (which
    imports pandas and numpy): none of their compiled libraries is mapped in it."""
    list(read_isolated(books[:2], parse=True))
    child = workbooks._state().child
    maps = Path(f"/proc/{child.proc.pid}/maps").read_text()
    assert "python_calamine" in maps  # what is mapped is seen
    assert "/numpy/" not in maps and "/pandas/" not in maps


def slowed(monkeypatch, tag: bytes | None, seconds: float, name: str = "") -> None:
    """Children that sleep ``seconds`` before each file they take under ``tag`` (any,
    if None) whose name ends in ``name``: a child held back, as one sharing its core
    would be, or any child hanging on a file."""
    who = "True" if tag is None else f"tag == bytes([{tag[0]}])"
    monkeypatch.setattr(
        workbooks,
        "_BOOT",
        "import sys, time; sys.path.insert(0, sys.argv[1]); "
        "src = open(sys.argv[2]).read().replace("
        "'result: tuple = (\"ok\", read_sheets(path, budgets, lazy=parse))', "
        f"'result: tuple = (time.sleep({seconds}) if {who} "
        f'and path.endswith("{name}") else None, '
        '("ok", read_sheets(path, budgets, lazy=parse)))[1]\'); '
        "exec(compile(src, sys.argv[2], 'exec'), "
        "{'__name__': '__audit_analysis_reader__', '__file__': sys.argv[2]})",
    )


@pytest.fixture
def claims(monkeypatch):
    """What each shared read's claims file held at its end: which child took which file,
    one byte per claim ("a" the first child, "b" the second)."""
    seen: list[bytes] = []
    real = workbooks._Shared.close

    def close(self):
        seen.append(self.claimed())
        real(self)
        assert not Path(self.claims).exists()  # and it is removed

    monkeypatch.setattr(workbooks._Shared, "close", close)
    return seen


def test_a_child_held_back_reads_fewer_files_and_the_answers_keep_their_order(
    tmp_path, books, two, monkeypatch, claims
):
    many = [write_toolkit(tmp_path / f"many-{i}.xlsx", ROWS) for i in range(10)]
    slowed(monkeypatch, b"a", 2.0)
    answers = list(read_isolated(many, parse=True))
    assert [path for path, _ in answers] == [str(p) for p in many]
    assert all(there(a) == here(many[0]) for _, a in answers)
    taken = claims[0][: len(many)]
    # the first child sleeps 2 s before each of its files: the second reads the rest
    assert taken.count(b"a") <= 2 and taken.count(b"b") >= 8, taken
    state = workbooks._state()
    assert state.child is not None and state.second is not None  # both kept warm


def test_a_file_overrunning_its_time_in_a_shared_read_is_refused_and_the_rest_read(
    tmp_path, books, two, monkeypatch, claims
):
    many = [write_toolkit(tmp_path / f"many-{i}.xlsx", ROWS) for i in range(6)]
    hangs = write_toolkit(tmp_path / "hangs.xlsx", ROWS)
    paths = many[:3] + [hangs] + many[3:]
    slowed(monkeypatch, None, 30, "hangs.xlsx")
    answers = list(read_isolated(paths, Budgets(seconds_per_file=2), parse=True))
    assert [path for path, _ in answers] == [str(p) for p in paths]
    refused = answers[3][1]
    assert isinstance(refused, WorkbookRefused)
    assert "longer than the budget of 2 s" in refused.reason
    assert [there(a) for i, (_, a) in enumerate(answers) if i != 3] == [here(many[0])] * 6
    assert claims[0][3:4] in (b"a", b"b")  # taken by a child, which was stopped
    state = workbooks._state()
    again = list(read_isolated(many, parse=True))  # and the next read has two again
    assert [there(a) for _, a in again] == [here(many[0])] * 6
    assert state.child is not None and state.second is not None


def test_a_warm_child_that_died_is_replaced_in_a_shared_read_with_no_file_blamed(books, two):
    first = list(read_isolated(books, parse=True))
    state = workbooks._state()
    for child in (state.child, state.second):
        child.proc.kill()
        child.proc.wait()
    again = list(read_isolated(books, parse=True))
    assert [there(a) for _, a in again] == [there(a) for _, a in first]
    assert state.child.proc.poll() is None and state.second.proc.poll() is None


def test_a_shared_read_left_half_way_stops_the_child_still_reading_and_removes_its_claims(
    tmp_path, books, two, monkeypatch
):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    slowed(monkeypatch, None, 30, books[-1].name)  # whoever takes the last file hangs on it
    reader = read_isolated(books, parse=True)
    first = next(reader)
    assert first[0] == str(books[0])
    children = [seat.child for seat in reader.gi_frame.f_locals["share"].seats]
    reader.close()
    state = workbooks._state()
    kept = {state.child, state.second} - {None}
    stopped = [child for child in children if child not in kept]
    assert len(children) == 2 and stopped  # the one on the last file at least
    assert all(child.proc.poll() is not None for child in stopped)
    assert all(child.proc.poll() is None for child in kept)  # done with its files: kept
    assert list((tmp_path / "tmp").iterdir()) == []


def test_with_no_claims_file_one_child_reads_every_file(books, two, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no room")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    answers = list(read_isolated(books, parse=True))
    assert [there(a) for _, a in answers] == [here(p) for p in books]
    assert workbooks._state().child is not None
    assert getattr(workbooks._state(), "second", None) is None


def test_the_child_reads_no_sheet_after_the_table(tmp_path):
    """A toolkit's table on its first sheet and a damaged sheet after it: read whole
    (``read_sheets``) the workbook is refused, while the child, reading each sheet only
    when the table search looks at it, finds the table and never reads the other."""
    import zipfile

    path = write_toolkit(tmp_path / "first.xlsx", ROWS, extra_sheets=())
    book = openpyxl.load_workbook(path)
    book.create_sheet("Guidance")["A1"] = "Rate each standard."
    book.save(path)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = b'<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>99</v>'
            target.writestr(item, data)
    with pytest.raises(WorkbookRefused, match="corrupt or unreadable"):
        read_sheets(damaged)
    lazy = read_sheets(damaged, lazy=True)
    assert len(lazy) == 2 and lazy[0][0] == "Audit"
    with pytest.raises(WorkbookRefused, match="corrupt or unreadable"):
        lazy[1]
    ((_, answer),) = read_isolated([damaged], parse=True)
    assert there(answer) == there(next(iter(read_isolated([path], parse=True)))[1])
    assert there(answer)[:2] == ("toolkit", "Audit")


def test_children_done_before_the_first_answer_is_asked_for_are_not_asked_again(
    books, two, monkeypatch
):
    """The loader may be busy (the bulk tables, the cohort) until both children have
    read every file: their answers are all there, and neither is asked to read again
    (each was asked once; a child asked again would find nothing left and say so)."""
    import time

    asked = []
    real = workbooks._Child.ask

    def ask(self, *args, **kwargs):
        asked.append(self.proc.pid)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(workbooks._Child, "ask", ask)
    reader = read_isolated(books, parse=True)
    time.sleep(1.0)  # both children read every file meanwhile
    answers = list(reader)
    assert [there(a) for _, a in answers] == [here(p) for p in books]
    assert len(asked) == 2 and len(set(asked)) == 2
