"""Reading ``.xlsx`` workbooks without letting one hostile file take the run down.

A workbook is a zip of XML parts, and a few kilobytes of it can ask a reader for any
amount of memory: a shared-string table declaring two billion strings, a sheet with
cells at A1 and XFD1048576 (the reader builds the rectangle between them), a 4 MB zip
holding a gigabyte of rows. python-calamine answers a failed allocation by aborting the
whole process. So each workbook goes through two guards:

1. :func:`check_package`, before any parsing: the file's size, the zip's part count, its
   total uncompressed size and each part's compression ratio, each sheet's declared
   ``<dimension>`` (within Excel's 1,048,576 rows by 16,384 columns, and the cell budget)
   and the shared-string table's ``count`` and ``uniqueCount``. It reads the zip's
   directory and the first few kilobytes of those parts, nothing more.
2. :func:`read_isolated`: the workbooks of a cycle are read one after another in one
   child process (a fresh interpreter that imports python-calamine and the standard
   library only), or, from :data:`TWO_READERS_FROM` workbooks on a machine of two cores
   or more, in two, each taking the next file nobody has taken (a claims file); each is
   under an address-space limit and a time limit per file. A crash, an allocation
   failure or a timeout there ends the child, not the run: that file becomes one
   rejection and a new child carries on with the next. Asked to (``parse``), the child
   also finds each workbook's table (``returns.parse_sheets``, which imports the
   standard library only, reading each sheet as the search comes to it) and sends only
   the rows the loader reads. A child is kept for the same thread's next read
   (``_take``, ``_park``): never another process's, never with other budgets, replaced
   when it died in between, stopped at exit or when idle.

The budgets are :class:`Budgets`, with defaults sized far above any real audit return
(tens of kilobytes) and far below what would hurt the machine; each can be changed with
an environment variable ``AUDIT_ANALYSIS_<NAME>`` (for example
``AUDIT_ANALYSIS_MEMORY_MB=2048``).

This module imports only the standard library (and python-calamine where it reads), so
the child can run it as a script without importing pandas or the rest of the package.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import re
import signal
import stat
import struct
import sys
import time
import zlib
from collections.abc import Iterator, Sequence

__all__ = [
    "Budgets",
    "ENV_PREFIX",
    "EXCEL_MAX_COLUMNS",
    "EXCEL_MAX_ROWS",
    "HEAD_BYTES",
    "Parsed",
    "RATIO_FLOOR_BYTES",
    "WorkbookRefused",
    "check_package",
    "clean_excerpt",
    "die_with_parent",
    "read_isolated",
    "read_sheets",
]


# Kept lean: the child runs this file with nothing else imported, and every import here
# is paid once per cycle loaded. The parent's side imports what it needs where it runs.

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
ENV_PREFIX = "AUDIT_ANALYSIS_"
# Only parts larger than this are held to the compression-ratio budget: small XML parts
# of repeated tags compress very well and can do no harm.
RATIO_FLOOR_BYTES = 1 << 20
HEAD_BYTES = 4096  # how much of a sheet or the string table is read to find its counts


class Budgets:
    """How much a single workbook may cost before it is refused (docs/reliability.md).

    Every budget can be set with the environment variable ``AUDIT_ANALYSIS_`` plus its
    name in capitals, e.g. ``AUDIT_ANALYSIS_MAX_CELLS=5000000``:

    - ``max_file_mb`` (50): the file on disk (a real return is tens of kilobytes);
    - ``max_uncompressed_mb`` (256): every part of the zip, uncompressed, added up;
    - ``max_ratio`` (200): uncompressed over compressed size, for any part over 1 MiB;
    - ``max_parts`` (1000): parts in the zip;
    - ``max_cells`` (2,000,000): cells in a sheet's rectangle, declared or read;
    - ``max_strings`` (1,000,000): strings the shared-string table declares;
    - ``memory_mb`` (768): address space of each child process that reads workbooks;
    - ``seconds_per_file`` (60): wall-clock seconds the child may spend on one workbook.
    """

    DEFAULTS = {
        "max_file_mb": 50,
        "max_uncompressed_mb": 256,
        "max_ratio": 200,
        "max_parts": 1000,
        "max_cells": 2_000_000,
        "max_strings": 1_000_000,
        "memory_mb": 768,
        "seconds_per_file": 60,
    }
    __slots__ = tuple(DEFAULTS)

    max_file_mb: int
    max_uncompressed_mb: int
    max_ratio: int
    max_parts: int
    max_cells: int
    max_strings: int
    memory_mb: int
    seconds_per_file: int

    def __init__(self, **values: int) -> None:
        unknown = set(values) - set(self.DEFAULTS)
        if unknown:
            raise TypeError(f"no such budget: {', '.join(sorted(unknown))}")
        for name, default in self.DEFAULTS.items():
            value = int(values.get(name, default))
            if value <= 0:
                raise ValueError(f"budget {name} must be a positive whole number")
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("budgets are read-only; make new ones with Budgets(...)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Budgets) and self.asdict() == other.asdict()

    def __hash__(self) -> int:
        return hash(tuple(self.asdict().items()))

    def __repr__(self) -> str:
        return "Budgets(" + ", ".join(f"{k}={v}" for k, v in self.asdict().items()) + ")"

    def asdict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.DEFAULTS}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Budgets:
        """The defaults, with any ``AUDIT_ANALYSIS_<NAME>`` set in the environment.
        A value that is not a positive whole number is ignored."""
        environ = os.environ if environ is None else environ
        values = {}
        for name in cls.DEFAULTS:
            text = (environ.get(ENV_PREFIX + name.upper()) or "").strip()
            if text.isdigit() and int(text) > 0:
                values[name] = int(text)
        return cls(**values)


class WorkbookRefused(Exception):  # noqa: N818 - a verdict, not an error of ours
    """The workbook is not read: ``reason`` is one line saying why. Internal: the loader
    turns it into a whole-file rejection (this module imports nothing of the package, so
    that the reader's child process starts in milliseconds)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SST = re.compile(rb"<(?:[\w.-]+:)?sst\b([^>]*)>")
_COUNTS = re.compile(rb"\b(count|uniqueCount)\s*=\s*[\"']\s*(\d+)\s*[\"']")
_REF = re.compile(r"^\$?([A-Za-z]{1,7})\$?(\d{1,12})$")


def _mb(n: float) -> str:
    return f"{n / 1024**2:,.0f} MB" if n >= 1024**2 else f"{n / 1024:,.0f} KB"


def _cell_position(ref: str) -> tuple[int, int] | None:
    """``"XFD1048576"`` -> (1048576, 16384), 1-based; None when it is no cell reference."""
    match = _REF.match(ref.strip())
    if not match:
        return None
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)), column


def _check_extent(rows: int, columns: int, budgets: Budgets, what: str) -> None:
    if rows > EXCEL_MAX_ROWS or columns > EXCEL_MAX_COLUMNS:
        raise WorkbookRefused(
            f"{what} {rows:,} rows by {columns:,} columns, beyond Excel's limits "
            f"({EXCEL_MAX_ROWS:,} rows by {EXCEL_MAX_COLUMNS:,} columns)"
        )
    if rows * columns > budgets.max_cells:
        raise WorkbookRefused(
            f"{what} {rows:,} rows by {columns:,} columns ({rows * columns:,} cells), over "
            f"the budget of {budgets.max_cells:,} cells; an audit return has a few hundred"
        )


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
# A central directory file header, as much of it as is read: its signature, flags,
# compression method, compressed and uncompressed sizes, the lengths of its name, extra
# field and comment, and its part's offset (x: versions, dates, CRC, disk, attributes).
_CENTRAL = struct.Struct("<4s4xHH8xLLHHH8xL")
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header


class _Corrupt(Exception):
    pass


def _directory(read_at, size: int, budgets: Budgets) -> list[tuple] | None:
    """The zip's parts as (name, method, compressed, uncompressed, offset, flags), read
    straight from its central directory (``read_at(offset, n)`` gives the file's bytes);
    None when the zip is of a kind this does not read (zip64, split, data before the
    zip), for :mod:`zipfile` to judge instead."""
    tail = min(size, _EOCD.size + 65535)
    data = read_at(size - tail, tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(data):
        raise _Corrupt("no zip directory: the file is cut short or damaged")
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(data, at)
    if disk or cd_disk or 0xFFFF in (count,) or 0xFFFFFFFF in (cd_size, cd_offset):
        return None
    if count > budgets.max_parts:
        raise WorkbookRefused(
            f"the workbook's zip holds {count:,} parts, over the budget of {budgets.max_parts:,}"
        )
    if cd_offset + cd_size != size - tail + at:
        return None  # something before or between: let zipfile make sense of it
    start = cd_offset - (size - tail)
    # the directory is in what was read already (always, for a small file), or read now
    cd = data[start : start + cd_size] if start >= 0 else read_at(cd_offset, cd_size)
    entries = []
    pos = 0
    end = len(cd)
    header = _CENTRAL.size
    for _ in range(count):
        if pos + header > end:
            raise _Corrupt("damaged zip directory")
        signature, flags, method, csize, usize, nlen, elen, clen, offset = _CENTRAL.unpack_from(
            cd, pos
        )
        if signature != b"PK\x01\x02":
            raise _Corrupt("damaged zip directory")
        if 0xFFFFFFFF in (csize, usize, offset):
            return None
        raw = cd[pos + header : pos + header + nlen]
        if raw.isascii():  # what both encodings make of it, without cp437's Python codec
            name = raw.decode("ascii")
        else:
            name = raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        entries.append((name, method, csize, usize, offset, flags))
        pos += header + nlen + elen + clen
    return entries


def _head_of(read_at, entry: tuple, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a part, uncompressed (all of it if shorter)."""
    _, method, csize, _, offset, flags = entry
    if flags & 0x1:
        raise WorkbookRefused("a part of the workbook is encrypted; save it unprotected")
    local = read_at(offset, _LOCAL.size)
    if len(local) < _LOCAL.size or local[:4] != b"PK\x03\x04":
        raise _Corrupt("damaged part header")
    nlen, elen = local[26] | local[27] << 8, local[28] | local[29] << 8
    raw = read_at(offset + _LOCAL.size + nlen + elen, min(csize, size))
    if method == 0:
        return raw
    if method == 8:
        try:
            return zlib.decompressobj(-15).decompress(raw, size)
        except zlib.error as exc:
            raise _Corrupt(f"damaged part ({exc})") from None
    raise WorkbookRefused(f"a part of the workbook uses compression method {method}; not read")


def check_package(path: str | os.PathLike, budgets: Budgets | None = None) -> None:
    """Refuse a workbook that is not a plain ``.xlsx`` package within ``budgets``,
    before any parser sees it. Raises :class:`WorkbookRefused`; returns None if it passes.
    """
    _checked(path, budgets or Budgets())


def _checked(path: str | os.PathLike, budgets: Budgets):
    """:func:`check_package`; returns the file's bytes (a BytesIO) when it was small
    enough to be read whole for its checks, else None."""
    name = os.fspath(path)
    try:
        info = os.stat(name, follow_symlinks=False)
    except OSError as exc:
        raise WorkbookRefused(f"cannot open the file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise WorkbookRefused("not a regular file; not read")
    size = info.st_size
    if size > budgets.max_file_mb * 1024**2:
        raise WorkbookRefused(
            f"file is {_mb(size)}, far larger than an audit return (tens of kilobytes; the "
            f"budget is {budgets.max_file_mb} MB); not read"
        )
    if size == 0:
        raise WorkbookRefused("file is empty (0 bytes)")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(name, flags)
    except OSError as exc:
        raise WorkbookRefused(f"cannot open the file ({exc.strerror or exc})") from None
    try:
        return _checked_open(fd, size, budgets)
    finally:
        os.close(fd)


def _checked_open(fd: int, size: int, budgets: Budgets):
    """:func:`_checked` on the open file ``fd`` of ``size`` bytes."""
    data = None
    if size <= _EOCD.size + 65535:  # all of it is read for the directory anyway: read it
        data = _read_whole(fd, size)  # once, and take every later part from memory
        size = len(data)

        def read_at(offset: int, n: int) -> bytes:
            return data[offset : offset + n]
    else:

        def read_at(offset: int, n: int) -> bytes:
            return os.pread(fd, n, offset)

    magic = read_at(0, 8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise WorkbookRefused(
            "workbook is password-protected (encrypted) or in the old .xls format; "
            "save it as an unprotected .xlsx"
        )
    if not magic.startswith(b"PK"):
        raise WorkbookRefused("not an Excel workbook (the file is not an .xlsx zip package)")
    try:
        entries = _directory(read_at, size, budgets)
        if entries is not None:
            _check_parts(entries, lambda entry, n: _head_of(read_at, entry, n), budgets)
            return None if data is None else _BytesIO(data)
        import zipfile

        with (
            _BytesIO(data) if data is not None else os.fdopen(os.dup(fd), "rb") as fh,
            zipfile.ZipFile(fh) as archive,
        ):
            infos = {}
            for i in archive.infolist():
                infos[i.filename] = i
            if len(infos) > budgets.max_parts:
                raise WorkbookRefused(
                    f"the workbook's zip holds {len(infos):,} parts, over the budget of "
                    f"{budgets.max_parts:,}"
                )

            def head(entry: tuple, n: int) -> bytes:
                with archive.open(infos[entry[0]]) as part:
                    return part.read(n)

            _check_parts(
                [(i.filename, 8, i.compress_size, i.file_size, 0, 0) for i in infos.values()],
                head,
                budgets,
            )
        return None
    except WorkbookRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to read the zip is its damage
        detail = clean_excerpt(str(exc) or type(exc).__name__, 120)
        raise WorkbookRefused(f"workbook is corrupt or unreadable ({detail})") from None


def _read_whole(fd: int, size: int) -> bytes:
    """The file's ``size`` bytes (fewer if it is shorter now)."""
    parts = []
    got = 0
    while got < size:
        chunk = os.read(fd, size - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _check_parts(entries: list[tuple], head, budgets: Budgets) -> None:
    total = 0
    for name, _, csize, usize, _, _ in entries:
        total += usize
        if usize > RATIO_FLOOR_BYTES and usize > budgets.max_ratio * max(csize, 1):
            raise WorkbookRefused(
                f"a part of the workbook ({clean_excerpt(name, 60)}) expands "
                f"{usize / max(csize, 1):,.0f} times, from {_mb(csize)} to {_mb(usize)}, over "
                f"the budget of {budgets.max_ratio} times: a zip bomb; not read"
            )
    if total > budgets.max_uncompressed_mb * 1024**2:
        raise WorkbookRefused(
            f"the workbook unpacks to {_mb(total)}, over the budget of "
            f"{budgets.max_uncompressed_mb} MB (an audit return unpacks to well under 1 MB); "
            "not read"
        )
    for entry in entries:
        lower = entry[0].lower()
        if lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
            match = _first_in_head(_DIMENSION, entry, head)
            if match:
                _check_dimension(match.group(1).decode("ascii", "replace"), budgets)
        elif lower.endswith("sharedstrings.xml"):
            match = _first_in_head(_SST, entry, head)
            for key, number in _COUNTS.findall(match.group(1)) if match else ():
                if int(number) > budgets.max_strings:
                    raise WorkbookRefused(
                        f"the workbook's shared-string table declares "
                        f"{key.decode()}={int(number):,} strings, over the budget of "
                        f"{budgets.max_strings:,}; not read"
                    )


FIRST_BYTES = 1024  # where a sheet's <dimension> and the string table's counts stand


def _first_in_head(pattern: re.Pattern, entry: tuple, head) -> re.Match | None:
    """``pattern``'s first match in the part's first :data:`HEAD_BYTES`, looked for in
    its first :data:`FIRST_BYTES` before the rest is unpacked. The same match either
    way: both patterns end on a character of the part (a quote, ``>``) and cannot hold a
    ``>`` before it, so a match found in the first bytes is a whole match of the head,
    and any match starting before it would end no later, inside them too."""
    match = pattern.search(head(entry, FIRST_BYTES))
    if match is None and entry[3] > FIRST_BYTES:  # more of the part to look in
        match = pattern.search(head(entry, HEAD_BYTES))
    return match


def _check_dimension(ref: str, budgets: Budgets) -> None:
    extent = _declared_extent(ref)
    if extent is None:
        return  # unreadable: the reader's own extent check still applies
    rows, columns = extent
    if rows > EXCEL_MAX_ROWS or columns > EXCEL_MAX_COLUMNS or rows * columns > budgets.max_cells:
        what = f"a sheet declares (dimension {clean_excerpt(ref, 40)})"  # only when refused
        _check_extent(rows, columns, budgets, what)


@functools.lru_cache(maxsize=256)
def _declared_extent(ref: str) -> tuple[int, int] | None:
    """The rows and columns from A1 that a ``<dimension>`` reference spans (the sheet is
    read from A1, whatever its start); None when it is unreadable. Remembered: a cycle's
    workbooks mostly declare the same few."""
    corners = [_cell_position(part) for part in ref.split(":")]
    if not corners or any(c is None for c in corners):
        return None
    return max(c[0] for c in corners), max(c[1] for c in corners)


def clean_excerpt(text: str, limit: int = 200) -> str:
    """``text`` with control and other unprintable characters escaped, cut to ``limit``
    characters (ending in an ellipsis when cut)."""
    out = []
    length = 0
    for ch in text:
        piece = ch if ch.isprintable() else ascii(ch)[1:-1]
        out.append(piece)
        length += len(piece)
        if length > limit:
            break
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: max(limit - 1, 0)] + "…"


def read_sheets(
    path: str | os.PathLike, budgets: Budgets | None = None, lazy: bool = False
) -> list[tuple[str, list[list[object]]]]:
    """Every sheet of the workbook at ``path`` as (name, rows of cells), after
    :func:`check_package`. In this process: :func:`read_isolated` is the safe way to read
    files nobody vouches for. Raises :class:`WorkbookRefused`. With ``lazy``, a sequence
    of the same (:class:`_Sheets`) that reads each sheet when it is first looked at, and
    raises :class:`WorkbookRefused` there: a sheet never looked at is never read."""
    import python_calamine

    budgets = budgets or Budgets()
    data = _checked(path, budgets)
    with _refusing(budgets):
        if data is not None:  # the very bytes checked, from memory: no second open and read
            data.seek(0)
            workbook = python_calamine.CalamineWorkbook.from_filelike(data)
        else:
            workbook = python_calamine.CalamineWorkbook.from_path(os.fspath(path))
        sheets = _Sheets(workbook, budgets)
    return sheets if lazy else list(sheets)


class _Sheets:
    """A workbook's sheets, (name, rows of cells), each read when first looked at."""

    __slots__ = ("budgets", "names", "read", "workbook")

    def __init__(self, workbook, budgets: Budgets) -> None:
        self.workbook = workbook
        self.budgets = budgets
        self.names = list(workbook.sheet_names)
        self.read: dict[int, tuple[str, list[list[object]]]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> tuple[str, list[list[object]]]:
        index = range(len(self.names))[index]  # an IndexError past the end, as a list's
        if index not in self.read:
            name = self.names[index]
            with _refusing(self.budgets):
                sheet = self.workbook.get_sheet_by_name(name)
                end = sheet.end
                if end is not None:  # read from A1: the rectangle up to the last cell
                    _check_extent(end[0] + 1, end[1] + 1, self.budgets, f"sheet {name!r} holds")
                self.read[index] = (name, sheet.to_python(skip_empty_area=False))
        return self.read[index]

    def __iter__(self) -> Iterator[tuple[str, list[list[object]]]]:
        for index in range(len(self.names)):
            yield self[index]


@contextlib.contextmanager
def _refusing(budgets: Budgets) -> Iterator[None]:
    """What python-calamine raises within the block, as the :class:`WorkbookRefused` it
    means: out of memory, or a damaged file."""
    try:
        yield
    except WorkbookRefused:
        raise
    except MemoryError:
        raise WorkbookRefused(
            "the workbook needs more memory than the reader's budget "
            f"({budgets.memory_mb} MB); not read"
        ) from None
    except Exception as exc:  # noqa: BLE001 - calamine raises several types for damaged files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = f"workbook is corrupt or unreadable ({clean_excerpt(first, 160)})"
        raise WorkbookRefused(reason) from None


# --------------------------------------------------------------------------- the child

_LENGTH = struct.Struct(">Q")
_HELLO = b"audit-analysis workbook reader\n"
_ACK = b"reading\n"  # a request of paths taken: from here a death is a file's doing
_FRAME = struct.Struct(">QI")  # a shared read's frame: its length, its path's index
_DONE = _FRAME.pack(0, 0xFFFFFFFF)  # a shared read's end: no path is left to take


def _limit_self(budgets: Budgets) -> None:
    """In the child: the memory budget, no core dumps, and death with the parent."""
    import resource

    limit = budgets.memory_mb * 1024**2
    for which, value in ((resource.RLIMIT_AS, limit), (resource.RLIMIT_CORE, 0)):
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass
    die_with_parent()


def die_with_parent(parent: int | None = None) -> None:
    """Make this process end when the process that started it ends: Linux's
    ``PR_SET_PDEATHSIG`` (SIGKILL), and a check that the parent has not already gone.
    Elsewhere, a daemon thread that watches the parent's process id."""
    parent = os.getppid() if parent is None else parent
    done = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            done = libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            done = False
    if not done:
        import threading

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was arranged
        os._exit(1)


def _serve() -> None:
    """The child's main. The first request is (budgets, parent's process id): it takes
    its limits and says hello. Every later one is (paths, parse, claims, tag): it
    acknowledges it, then reads. Without ``claims`` it writes one frame per path, in
    order; with them it shares the paths with other children (:func:`_claimed`), writes
    each frame with its path's index and ends with :data:`_DONE`. Then it waits for the
    next request. It ends when its stdin does (the parent closed it, or is gone)."""
    stdin = sys.stdin.buffer
    out = sys.stdout.buffer

    def request() -> object:
        head = stdin.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            os._exit(0)
        (size,) = _LENGTH.unpack(head)
        return pickle.loads(stdin.read(size))

    fields, parent = request()
    budgets = Budgets(**fields)
    _limit_self(budgets)
    if os.getppid() != parent:
        os._exit(1)
    out.write(_HELLO)
    out.flush()
    while True:
        paths, parse, claims, tag = request()
        out.write(_ACK)
        out.flush()
        if claims is None:
            order: Iterator[int] = iter(range(len(paths)))
        else:
            order = _claimed(claims, tag, len(paths))
        for index in order:
            path = paths[index]
            try:
                result: tuple = ("ok", read_sheets(path, budgets, lazy=parse))
                if parse:  # the sheets it looks at, read as it does: a guidance sheet is not
                    result = _parse(result[1])
            except WorkbookRefused as exc:
                result = ("refused", exc.reason)
            try:
                payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                payload = pickle.dumps(
                    ("refused", "the workbook's cells need more memory than the reader's budget")
                )
            if claims is None:
                head = _LENGTH.pack(len(payload))
            else:
                head = _FRAME.pack(len(payload), index)
            out.write(head + payload)
            out.flush()
            result = payload = None  # nothing of one file held while the next is read
        if claims is not None:
            out.write(_DONE)
            out.flush()


def _claimed(claims: str, tag: bytes, count: int) -> Iterator[int]:
    """In a child sharing a read: the index of each path it takes, taken in turn from
    the claims file. Each claim appends the child's one-byte ``tag`` to the file: the
    append is atomic, so the offset it ends at counts every claim made by any child, and
    the file says afterwards which child took which path (:meth:`_Share.outstanding`).
    A file that cannot be opened ends this child's share at once."""
    try:
        fd = os.open(claims, os.O_WRONLY | os.O_APPEND)
    except OSError:
        return
    try:
        while True:
            os.write(fd, tag)
            index = os.lseek(fd, 0, os.SEEK_CUR) - 1
            if index >= count:
                return
            yield index
    finally:
        os.close(fd)


def _parse(sheets: list) -> tuple:
    """In the child: ``returns.parse_sheets`` on a workbook's sheets, as plain values:
    ``("parsed", (form, sheet, header, has_agency_column, rows))`` with the rows the
    loader reads, or ``("unparsed", (reason, sheet, value))`` for a workbook it refuses.
    The rest of the cells (a toolkit's standards' wording, its guidance sheet) are not
    sent: the loader never reads them."""
    returns = _returns_module()
    try:
        parsed = returns.parse_sheets(sheets)
        rows = list(parsed.rows)
    except returns.ReturnFileError as exc:
        return ("unparsed", (exc.reason, exc.sheet, exc.value))
    return ("parsed", (parsed.form, parsed.sheet, parsed.header, parsed.has_agency_column, rows))


def _returns_module():
    """``audit_analysis.io.returns`` in the child, imported on the first request to
    parse, without the package's ``__init__`` (which imports pandas): the two packages
    are stood in for by empty ones over their folders, and this running file is the
    ``workbooks`` module. returns.py and text.py import only the standard library."""
    import importlib
    import types

    name = "audit_analysis.io.returns"
    if name not in sys.modules:
        io_dir = os.path.dirname(os.path.abspath(__file__))
        for package, folder in (
            ("audit_analysis", os.path.dirname(io_dir)),
            ("audit_analysis.io", io_dir),
        ):
            if package not in sys.modules:
                module = types.ModuleType(package)
                module.__path__ = [folder]
                sys.modules[package] = module
        this = "audit_analysis.io.workbooks"
        if this not in sys.modules:  # this file, as it runs: not executed a second time
            module = types.ModuleType(this)
            module.__dict__.update({k: v for k, v in globals().items() if k != "__name__"})
            sys.modules[this] = module
    return importlib.import_module(name)


# --------------------------------------------------------------------------- the parent


class Parsed:
    """A workbook as the child parsed it (``read_isolated(..., parse=True)``):
    ``fields`` is (form, sheet, header, has_agency_column, rows), or ``error`` is
    (reason, sheet, value) when ``returns.parse_sheets`` refused it."""

    __slots__ = ("error", "fields")

    def __init__(self, fields: tuple | None = None, error: tuple | None = None):
        self.fields = fields
        self.error = error


def _BytesIO(data: bytes):
    import io

    return io.BytesIO(data)


class _Cells(pickle.Unpickler):
    """Unpickles what the child sends: plain cells, and dates and times; nothing else."""

    ALLOWED = {("datetime", n) for n in ("date", "datetime", "time", "timedelta", "timezone")}

    def find_class(self, module: str, name: str):  # noqa: D102
        if (module, name) in self.ALLOWED:
            import datetime

            return getattr(datetime, name)
        raise pickle.UnpicklingError(f"the workbook reader sent {module}.{name}")


class _ChildGone(Exception):
    def __init__(self, timed_out: bool):
        super().__init__()
        self.timed_out = timed_out


class _Child:
    """A reader child process. It serves one read after another: between the reads of
    one thread of one process it is kept warm (:func:`_park`, :func:`_take`)."""

    def __init__(self, budgets: Budgets, site: str, key: tuple):
        import subprocess

        env = {**os.environ, "RUST_BACKTRACE": "0", "PYTHONHASHSEED": "0"}
        self.key = key
        self.owner = os.getpid()  # a copy of this object in a forked process is not used
        self.fresh = True  # its hello is still to be read
        self.asked = False
        self.parked = False
        self.stopped = False
        self.timer = None
        self.buffer = bytearray()
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _BOOT, site, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        self.fd = self.proc.stdout.fileno()
        try:
            fcntl_size = 1031  # F_SETPIPE_SZ: room for the child to read ahead
            import fcntl

            fcntl.fcntl(self.fd, fcntl_size, 1 << 20)
        except (ImportError, OSError):
            pass
        self.send((budgets.asdict(), os.getpid()))

    def send(self, message: object) -> bool:
        """Write one request to the child; False when it is gone already."""
        payload = pickle.dumps(message, protocol=4)
        try:
            self.proc.stdin.write(_LENGTH.pack(len(payload)) + payload)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return False  # the child is gone: reading says so
        return True

    def ask(
        self,
        paths: list[str],
        parse: bool = False,
        claims: str | None = None,
        tag: bytes | None = None,
    ) -> bool:
        """Ask the child to read ``paths`` (it starts at once), with ``parse`` to parse
        them (:func:`_parse`), and with ``claims`` only those it takes in turn from that
        file, under ``tag`` (:func:`_claimed`); False when it is gone."""
        self.asked = self.send((paths, parse, claims, tag))
        return self.asked

    def taken(self, budgets: Budgets) -> bool:
        """True once the child has acknowledged what :meth:`ask` sent (and, when new,
        has started within its budgets); False when it is gone or never started."""
        expected = (_HELLO if self.fresh else b"") + _ACK
        if not self.asked:
            return False
        try:
            said = self.read(len(expected), max(budgets.seconds_per_file, 30))
        except _ChildGone:
            return False
        self.fresh = False
        return said == expected

    def read(self, n: int, seconds: float) -> bytes:
        import select

        deadline = time.monotonic() + seconds
        while len(self.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _ChildGone(timed_out=True)
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                raise _ChildGone(timed_out=True)
            chunk = os.read(self.fd, max(n - len(self.buffer), 1 << 16))
            if not chunk:
                raise _ChildGone(timed_out=False)
            self.buffer += chunk
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def stop(self) -> str:
        """End the child; what it said on stderr (its first line), if anything."""
        self.stopped = True
        self.parked = False
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        with _REGISTRY_LOCK:
            if self in _REGISTRY:
                _REGISTRY.remove(self)
        if self.owner != os.getpid():
            self._abandon()
            return ""
        if self.proc.poll() is None:
            self.proc.kill()
        err = b""
        try:
            self.proc.wait(timeout=10)
            err = self.proc.stderr.read(4096) if self.proc.stderr else b""
        except (OSError, ValueError):
            pass
        finally:
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream:
                    with contextlib.suppress(OSError, ValueError):
                        stream.close()
        lines = (err or b"").decode("utf-8", "replace").strip().splitlines()
        return lines[0] if lines else ""

    def _abandon(self) -> None:
        """In a forked process: the child is the other process's. It is neither killed
        nor waited for from here, and this process's copies of its pipes are kept open,
        unused (closing a stream could wait forever on a lock another thread of the
        other process held at the fork)."""
        self.proc.returncode = -1
        _FOREIGN.append(self)

    def idle(self) -> None:
        """The idle timer's end: stop the child if it is still parked."""
        with _REGISTRY_LOCK:
            if not self.parked or self.stopped:
                return
            self.parked = False  # nobody can take it now
        self.stop()


# Warm readers. Each thread keeps the child of its last read parked for its next one;
# the registry holds every child of this process not yet stopped, so that each is
# stopped at exit (and a parked one after IDLE_SECONDS unused).
IDLE_SECONDS = 120.0
_REGISTRY: list[_Child] = []
_FOREIGN: list[_Child] = []  # in a forked process: the parent's, kept unused
_SLOTS = None


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


_REGISTRY_LOCK = _NoLock()  # a real lock once the first reader starts (:func:`_state`)


def _state():
    """This thread's slot for its parked child (set up once per process)."""
    global _REGISTRY_LOCK, _SLOTS
    if _SLOTS is None:
        import atexit
        import threading

        _REGISTRY_LOCK = threading.Lock()
        _SLOTS = threading.local()
        atexit.register(stop_readers)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_forget_after_fork)
    return _SLOTS


def _forget_after_fork() -> None:
    """In a forked process: the children are the parent's. Forget them, untouched."""
    with contextlib.suppress(AttributeError):
        _SLOTS.child = _SLOTS.second = None
    for child in _REGISTRY:
        child.owner = -1
        child._abandon()
    _REGISTRY.clear()


def stop_readers() -> None:
    """Stop every reader child this process keeps (at exit, or when asked)."""
    with _REGISTRY_LOCK:
        children = [c for c in _REGISTRY if c.owner == os.getpid()]
    for child in children:
        child.stop()
    if _SLOTS is not None:
        _SLOTS.child = _SLOTS.second = None


def _take(key: tuple, slot: str = "child") -> _Child | None:
    """This thread's child parked in ``slot`` if it is alive, this process's and started
    with ``key`` (budgets, boot, interpreter); else None, any other being stopped. Taken,
    it is out of the slot: a read begun during another gets a child of its own."""
    local = _state()
    child = getattr(local, slot, None)
    setattr(local, slot, None)
    if child is None:
        return None
    with _REGISTRY_LOCK:
        usable = child.parked and not child.stopped
        child.parked = False
    if child.timer is not None:
        child.timer.cancel()
        child.timer = None
    if child.owner != os.getpid():
        child._abandon()
        return None
    if not usable:
        return None
    if child.key != key or child.proc.poll() is not None:
        child.stop()
        return None
    return child


def _grown(child: _Child) -> bool:
    """Whether the child's address space has grown past a quarter of its memory budget
    (a large workbook read; the allocator keeps what it freed): it is not kept, so that
    the next read starts with the whole budget, as a new child would. Linux only."""
    try:
        with open(f"/proc/{child.proc.pid}/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    budget = child.key[0].memory_mb * 1024**2
    return pages * os.sysconf("SC_PAGE_SIZE") > budget // 4


def _park(child: _Child, slot: str = "child") -> None:
    """Keep ``child`` in ``slot`` for this thread's next read; stopped after
    IDLE_SECONDS unused."""
    import threading

    local = _state()
    if (
        child.owner != os.getpid()
        or getattr(local, slot, None) is not None  # another read parked one meanwhile
        or _grown(child)
    ):
        child.stop()
        return
    with _REGISTRY_LOCK:
        if child not in _REGISTRY:
            _REGISTRY.append(child)
        # a thread's child dies with the thread (PR_SET_PDEATHSIG): reap those
        dead = [c for c in _REGISTRY if c is not child and c.proc.poll() is not None]
        child.parked = True
    for c in dead:
        c.stop()
    setattr(local, slot, child)
    child.timer = threading.Timer(IDLE_SECONDS, child.idle)
    child.timer.daemon = True
    child.timer.start()


# The child's boot line: only the standard library and python-calamine's folder on the
# path (no site, no package __init__ that would import pandas), then this file as a script,
# from its compiled bytecode when that is current (compiling it cost the child 7 ms).
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); import importlib.util as u; "
    "s = u.spec_from_file_location('__audit_analysis_reader__', sys.argv[2]); "
    "s.loader.exec_module(u.module_from_spec(s))"
)


def _failure(child: _Child, gone: _ChildGone, budgets: Budgets) -> str:
    said = child.stop()
    code = child.proc.returncode
    if gone.timed_out:
        return (
            f"reading the workbook took longer than the budget of {budgets.seconds_per_file} s; "
            "the reader was stopped and the file is not read"
        )
    wanted = re.search(r"memory allocation of (\d+) bytes failed", said)
    if wanted or code == -signal.SIGABRT:
        need = f" (it asked for {int(wanted.group(1)) / 1e9:,.1f} GB)" if wanted else ""
        return (
            "the workbook reader ran out of its memory budget "
            f"({budgets.memory_mb} MB) on this file{need}: a workbook bomb; not read"
        )
    how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
    return f"the workbook reader crashed on this file ({how}); not read"


def _site_of_calamine() -> str | None:
    try:
        import python_calamine
    except ImportError:
        return None
    return os.path.dirname(os.path.dirname(os.path.abspath(python_calamine.__file__)))


def read_isolated(
    paths: Sequence[str | os.PathLike], budgets: Budgets | None = None, parse: bool = False
) -> Iterator[tuple[str, list | WorkbookRefused | Parsed]]:
    """``(path, sheets)`` or ``(path, WorkbookRefused)`` for each of ``paths``, in order,
    read in a child process (see the module's docstring) that starts at once, so it
    reads while the caller does other work. Close the iterator (or run it to the end)
    to give the child back: the same thread's next read uses it again, if it read every
    path; one left mid-read is stopped. With ``parse``, the child also finds each
    workbook's table and sends a :class:`Parsed` instead of the sheets (where no child
    can run, the sheets still come, read here)."""
    pending = [os.fspath(p) for p in paths]
    budgets = budgets or Budgets()
    if len(pending) >= TWO_READERS_FROM and _cores() >= 2:
        reader = _two_readers(pending, budgets, parse)
    else:
        reader = _reader(pending, budgets, parse)
    next(reader)  # starts the child
    return reader


#: From this many workbooks a read is shared by two children (:func:`_two_readers`), so
#: that python-calamine runs on two cores while this process judges the rows.
TWO_READERS_FROM = 24


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _two_readers(
    pending: list[str], budgets: Budgets, parse: bool
) -> Iterator[tuple[str, list | WorkbookRefused | Parsed] | None]:
    """``pending`` shared by two children (the second kept warm in its own slot), their
    answers given back in the files' order. Neither is given a half: each takes the next
    file nobody has taken as it finishes one (a claims file, :func:`_claimed`), so the
    child that shares its core with this process (judging the rows meanwhile) reads
    fewer, and both finish together. A child that dies or overruns its time on a file is
    that file's rejection (the claims file says which file it had taken), and a new child
    takes its place for the files left."""
    site = _site_of_calamine()
    claims = None
    if site is not None and sys.executable and os.name == "posix":
        import tempfile

        try:
            fd, claims = tempfile.mkstemp(prefix="audit-analysis-", suffix=".claims")
            os.close(fd)
        except OSError:
            claims = None
    if claims is None:  # no sharing possible here: one reader (or this process) for all
        yield from _reader(pending, budgets, parse)
        return
    key = (budgets, _BOOT, sys.executable, site, __file__)
    share = _Shared(pending, budgets, parse, claims, key)
    try:
        for slot in _Shared.TAGS:
            share.enlist(slot)
        yield None
        for index, path in enumerate(pending):
            share.given = index
            while index not in share.answers:
                share.pump()
            answer = share.answers.pop(index)
            share.given = index + 1
            yield path, answer
    finally:
        share.close()


class _Seat:
    """A child of a shared read: its slot (and tag), where in the claims file its claims
    start, whether it has acknowledged the request and said it is done, the last index
    it answered and when it last sent anything."""

    __slots__ = ("acked", "child", "done", "last", "since", "slot", "start")

    def __init__(self, child: _Child, slot: str, start: int) -> None:
        self.child = child
        self.slot = slot
        self.start = start
        self.acked = self.done = False
        self.last = -1
        self.since = time.monotonic()


class _Shared:
    """The state of :func:`_two_readers`: the claims file, the seats, the answers
    received and not yet given back (by index)."""

    TAGS = {"child": b"a", "second": b"b"}

    def __init__(
        self, pending: list[str], budgets: Budgets, parse: bool, claims: str, key: tuple
    ) -> None:
        self.pending = pending
        self.budgets = budgets
        self.parse = parse
        self.claims = claims
        self.key = key
        self.answers: dict[int, object] = {}
        self.seats: list[_Seat] = []
        self.given = 0  # answers given back so far (in order)
        self.worked = False  # a child has acknowledged a request of this read

    def claimed(self) -> bytes:
        """The claims file: one child's tag per claim, in the order they were made."""
        try:
            with open(self.claims, "rb") as fh:
                return fh.read()
        except OSError:
            return b""

    def claims_made(self) -> int:
        """How many claims the children have made (past the last file too): its size."""
        try:
            return os.stat(self.claims).st_size
        except OSError:
            return 0

    def enlist(self, slot: str, warm: bool = True) -> None:
        """A child in ``slot`` (this thread's warm one if fit, else a new one), asked to
        share the read."""
        child = _take(self.key, slot) if warm else None
        if child is None:
            child = _start(self.budgets, self.key[3], self.key)
            warm = False
        if child is None:
            return
        seat = _Seat(child, slot, self.claims_made())
        self.seats.append(seat)
        child.ask(self.pending, self.parse, self.claims, self.TAGS[slot])

    def pump(self) -> None:
        """Wait for what the children send next, and act on it: acknowledgements,
        answers, their end, a death or an overrun. Where no child is left and files
        are, they are read here (no child could ever run) or refused."""
        import select

        waiting = [s for s in self.seats if not s.acked]
        while waiting:
            self.acknowledge(waiting[0])
            waiting = [s for s in self.seats if not s.acked]
        live = [s for s in self.seats if not s.done]
        if not live:
            self.orphans()
            return
        now = time.monotonic()
        limit = self.budgets.seconds_per_file
        wait = max(0.0, min(s.since + limit for s in live) - now)
        ready, _, _ = select.select([s.child.fd for s in live], [], [], wait)
        if not ready:
            now = time.monotonic()
            for seat in live:
                if now >= seat.since + limit:
                    self.lost(seat, timed_out=True)
            return
        for seat in live:
            if seat.child.fd not in ready:
                continue
            try:
                chunk = os.read(seat.child.fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self.lost(seat, timed_out=False)
                continue
            seat.since = time.monotonic()
            seat.child.buffer += chunk
            self.frames(seat)

    def acknowledge(self, seat: _Seat) -> None:
        """Read ``seat``'s acknowledgement. A warm child that died while parked is
        replaced (no file blamed); one that cannot start leaves the seat empty."""
        warm = not seat.child.fresh
        if seat.child.taken(self.budgets):
            seat.acked = self.worked = True
            seat.since = time.monotonic()
            self.frames(seat)  # what came with the acknowledgement
            return
        self.seats.remove(seat)
        seat.child.stop()
        self.settle(seat, "the workbook reader could not be started; not read")
        if warm:  # it died while parked: a new one, and no file blamed
            self.enlist(seat.slot, warm=False)

    def frames(self, seat: _Seat) -> None:
        """Take the whole frames in ``seat``'s buffer: answers, and its end."""
        buffer = seat.child.buffer
        size = _FRAME.size
        while len(buffer) >= size:
            length, index = _FRAME.unpack_from(buffer)
            if (length, index) == (0, 0xFFFFFFFF):
                del buffer[:size]
                seat.done = True
                continue
            if len(buffer) < size + length:
                return
            if not seat.last < index < len(self.pending) or index in self.answers:
                self.lost(seat, timed_out=False)  # a reply no child of ours would send
                return
            payload = bytes(buffer[size : size + length])
            del buffer[: size + length]
            seat.last = index
            self.answers[index] = _answer(payload)

    def outstanding(self, seat: _Seat) -> int | None:
        """The index of the file ``seat``'s child had taken and not answered, if any."""
        taken = self.claimed()[seat.start :].rfind(self.TAGS[seat.slot])
        if taken < 0:
            return None
        index = seat.start + taken
        return index if seat.last < index < len(self.pending) else None

    def lost(self, seat: _Seat, timed_out: bool) -> None:
        """``seat``'s child died or overran its time: the child is stopped, the file it
        had taken is refused with why, and a new child takes the seat for the files
        nobody has taken yet."""
        if seat in self.seats:
            self.seats.remove(seat)
        # stopped (and waited for) before the claims file is read: it takes no more
        self.settle(seat, _failure(seat.child, _ChildGone(timed_out), self.budgets))

    def settle(self, seat: _Seat, reason: str) -> None:
        """The file ``seat``'s (stopped) child had taken, if any, refused for ``reason``;
        then, if files are left that nobody has taken, a new child in its slot."""
        index = self.outstanding(seat)
        if index is not None:
            self.answers[index] = WorkbookRefused(reason)
        if self.claims_made() < len(self.pending) and (index is not None or seat.last >= 0):
            self.enlist(seat.slot, warm=False)  # a file stopped it: the next one may not

    def orphans(self) -> None:
        """No child is reading. If files nobody has taken are left, a child that is
        done is asked again; with none, they are refused (a child ran, so a file is what
        stops them) or, where no child could ever start, read here. (Every file taken
        is answered or refused by then: a child says it is done after its last answer,
        and one that is lost has its file refused.)"""
        if self.claims_made() >= len(self.pending):  # every file was taken: answered
            for index in range(self.given, len(self.pending)):  # (none is missing, or
                self.answers.setdefault(  # it is refused rather than waited for forever)
                    index, WorkbookRefused("the workbook reader sent no answer; not read")
                )
            return
        for seat in self.seats:  # all done: ask them to take what is left
            seat.done = seat.acked = False
            seat.start = self.claims_made()
            seat.child.ask(self.pending, self.parse, self.claims, self.TAGS[seat.slot])
        if self.seats:
            return
        for index in range(self.given, len(self.pending)):
            if index in self.answers:
                continue
            path = self.pending[index]
            if self.worked:
                self.answers[index] = WorkbookRefused(
                    "the workbook reader could not be started again; not read"
                )
                continue
            try:
                self.answers[index] = read_sheets(path, self.budgets)
            except WorkbookRefused as exc:
                self.answers[index] = exc

    def close(self) -> None:
        """Each child done with the read is kept warm in its slot; any other is stopped.
        The claims file is removed. Once every answer is given, a child may still be on
        its way to saying it is done (its last claim finds nothing left): it is waited
        for, within its time."""
        with contextlib.suppress(Exception):
            while self.given == len(self.pending) and any(not s.done for s in self.seats):
                self.pump()
        for seat in self.seats:
            if seat.done and seat.acked and not seat.child.buffer:
                _park(seat.child, seat.slot)
            else:
                seat.child.stop()
        self.seats = []
        with contextlib.suppress(OSError):
            os.unlink(self.claims)


def _answer(payload: bytes) -> list | WorkbookRefused | Parsed:
    """What a child's frame says of its file."""
    try:
        kind, value = _Cells(_BytesIO(payload)).load()
    except (pickle.UnpicklingError, ValueError, EOFError, TypeError) as exc:
        value, kind = f"unreadable reply from the workbook reader ({exc})", "refused"
    if kind == "ok":
        return value
    if kind == "parsed":
        return Parsed(fields=value)
    if kind == "unparsed":
        return Parsed(error=value)
    return WorkbookRefused(value)


def _reader(
    pending: list[str], budgets: Budgets, parse: bool = False, slot: str = "child"
) -> Iterator[tuple[str, list | WorkbookRefused | Parsed] | None]:
    site = _site_of_calamine() if pending else None
    if not pending:
        yield None
        return
    if site is None or not sys.executable or os.name != "posix":
        yield None
        for path in pending:  # no child possible here: the pre-parse checks still hold
            try:
                yield path, read_sheets(path, budgets)
            except WorkbookRefused as exc:
                yield path, exc
        return
    key = (budgets, _BOOT, sys.executable, site, __file__)
    child: _Child | None = None
    try:
        started = worked = False
        while pending:
            child = _take(key, slot)  # the child of this thread's last read, if still fit
            warm = child is not None
            if child is None:
                child = _start(budgets, site, key)
            if child is not None:
                child.ask(pending, parse)  # it reads while the caller does other work
            if not started:
                started = True
                yield None
            ready = child is not None and child.taken(budgets)
            if not ready and warm:  # it died while parked: a new one, and no file blamed
                child.stop()
                child = _start(budgets, site, key)
                ready = child is not None and child.ask(pending, parse) and child.taken(budgets)
            if not ready:
                if child is not None:
                    child.stop()
                    child = None
                for path in pending:
                    if worked:  # it ran before: a file is what stops it, read none here
                        yield (
                            path,
                            WorkbookRefused(
                                "the workbook reader could not be started again; not read"
                            ),
                        )
                        continue
                    try:  # it cannot run here at all: read in this process, checked
                        yield path, read_sheets(path, budgets)
                    except WorkbookRefused as exc:
                        yield path, exc
                pending = []
                return
            worked = True
            while pending:
                path = pending[0]
                try:
                    (length,) = _LENGTH.unpack(child.read(_LENGTH.size, budgets.seconds_per_file))
                    payload = child.read(length, budgets.seconds_per_file)
                except _ChildGone as gone:
                    pending.pop(0)
                    yield path, WorkbookRefused(_failure(child, gone, budgets))
                    child = None
                    break  # a new child for the rest
                pending.pop(0)
                yield path, _answer(payload)
    finally:
        if child is not None:
            if pending or child.buffer:  # left mid-read: what it still sends is no one's
                child.stop()
            else:
                _park(child, slot)


def _start(budgets: Budgets, site: str, key: tuple) -> _Child | None:
    try:
        return _Child(budgets, site, key)
    except OSError:  # no process could be started (out of processes, memory)
        return None


if __name__ in ("__main__", "__audit_analysis_reader__"):
    _serve()
