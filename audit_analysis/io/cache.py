"""A run's loaded cycles, shared by its notebooks.

Every notebook of the annual run opens the same cycles, each in its own kernel, and
loading them is most of what a notebook does before its first finding. So the runner
loads them once, while the kernels start, into a pickle inside the run's staging folder
(as private as the outputs themselves), named in the environment variable :data:`ENV`
that the kernels inherit. :func:`cycle` gives a notebook each cycle from there (waiting
for the file if the runner is still writing it), provided none of the files it was read
from has changed since (paths, sizes and modification times); otherwise it loads the
cycle afresh. The runner deletes the pickle before the outputs are published.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from audit_analysis.io.dataset import CycleData, load_cycle
from audit_analysis.io.frameworks import FRAMEWORK_FILE
from audit_analysis.io.labels import LABELS_FILE, activate, load_labels
from audit_analysis.io.ratings import RATINGS_FILE

__all__ = ["ENV", "FRAMEWORK_FILE", "WAIT_SECONDS", "cycle", "fingerprint", "write", "write_all"]


ENV = "AUDIT_ANALYSIS_CYCLE_CACHE"
WAIT_SECONDS = 60.0  # how long a notebook waits for the runner to finish writing

_read: dict[tuple[str, int], dict] = {}


def fingerprint(data_dir: Path, folder: Path) -> tuple:
    """What a cycle's loading depends on in ``data_dir``: every file of its folder, every
    partnership framework (a return on an earlier template reads that year's) and the
    partnership's rating scale (``DATA/ratings.yaml``)."""
    files = []
    for root, _, names in os.walk(folder):
        for name in names:
            files.append(os.path.join(root, name))
    files += [str(p) for p in data_dir.glob(f"*/{FRAMEWORK_FILE}")]
    files.append(str(data_dir / LABELS_FILE))  # the themes cases.csv is checked against
    files.append(str(data_dir / RATINGS_FILE))  # the partnership's scale (a missing one: none)
    stamps = []
    for name in sorted(set(files)):
        try:
            stat = os.stat(name)
        except OSError:
            continue
        stamps.append((name, stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def write(path: str | Path, data_dir: str | Path, cycles: Iterable[CycleData]) -> Path:
    """Pickle ``cycles`` (loaded from ``data_dir``) to ``path`` with their fingerprints.
    The file appears whole or not at all (written aside, then renamed)."""
    data_dir = Path(data_dir).resolve()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = {
        (str(data_dir), data.cycle): (fingerprint(data_dir, data.folder), data) for data in cycles
    }
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as fh:
        pickle.dump(entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)
    return path


def write_all(
    path: str | Path, data_dir: str | Path, cycles: Callable[[], Iterable[CycleData]]
) -> None:
    """:func:`write` the cycles ``cycles()`` loads, while notebooks already start: they
    wait for the file. Never raises: if loading or writing fails, an empty cache is
    left, and each notebook loads what it needs itself (and meets the error there)."""
    try:
        write(path, data_dir, cycles())
    except Exception:  # noqa: BLE001 - the cache only saves time; notebooks load anyway
        with contextlib.suppress(OSError):
            write(path, data_dir, [])


def _entries() -> dict:
    path = os.environ.get(ENV)
    if not path:
        return {}
    deadline = time.monotonic() + WAIT_SECONDS
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)  # the runner is still writing it
    try:
        stamp = (path, os.stat(path).st_mtime_ns)
        if stamp not in _read:
            with open(path, "rb") as fh:
                _read.clear()
                _read[stamp] = pickle.load(fh)
        return _read[stamp]
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return {}


def cycle(data_dir: str | Path, name: str) -> CycleData:
    """:func:`~audit_analysis.load_cycle` ``(data_dir, name)``, from the run's cache when
    it holds that cycle and its files are unchanged."""
    resolved = Path(data_dir).resolve()
    entry = _entries().get((str(resolved), name))
    if entry is not None:
        stamps, data = entry
        if stamps == fingerprint(resolved, data.folder):
            activate(load_labels(resolved))  # as load_cycle does: this folder's themes
            return data
    return load_cycle(data_dir, name)
