"""The annual run: every notebook executed by papermill, exported, indexed, atomically.

Notebooks are independent, so they run side by side (one kernel per core). Everything is
written to a temporary folder beside the target and moved into place only when every
notebook succeeded: a failing run leaves the previous outputs exactly as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path

import yaml

from audit_analysis.exceptions import AuditDataError, RunFailedError
from audit_analysis.io.agencies import resolve_agency
from audit_analysis.io.cycles import (
    AUDIT_NAME,
    DataFolder,
    earlier_audits,
    normalise_cycle,
    parse_cycle,
)
from audit_analysis.io.dataset import CASES_FILE, RETURNS_DIR, CycleData, find_cycle_folder
from audit_analysis.io.development import AREAS_FILE, PROGRESS_FILE, RECOMMENDATIONS_FILE
from audit_analysis.io.frameworks import FRAMEWORK_FILE
from audit_analysis.io.ratings import RATINGS_FILE
from audit_analysis.io.records import DEEP_DIVE, FAMILY_FEEDBACK, LEARNING_EVENT
from audit_analysis.io.selection import CRITERIA_FILE, RECORD_FILE, RESERVE_FILE
from audit_analysis.io.text import identifier_key, or_list
from audit_analysis.io.workbooks import die_with_parent
from audit_analysis.paths import (
    PROJECT_ROOT,
    inside,
    owner_only,
    papermill_path,
    private_folder,
    safe_name,
)

__all__ = [
    "BANNER_EXEC",
    "BANNER_QA",
    "CASE_PACKS",
    "EXECUTIVE_NOTEBOOK",
    "EXECUTIVE_PDF",
    "LOCK_FILE",
    "MANIFEST_READERS",
    "MARKER",
    "NOTEBOOK_DIR",
    "NotebookSpec",
    "NothingToAnalyseError",
    "OutputError",
    "START_ORDER",
    "StrictRefusalError",
    "VERSIONED",
    "clean_stale",
    "code_record",
    "copy_notebooks",
    "earlier_cycles",
    "notebook_page",
    "output_lock",
    "refuse_empty",
    "run_annual",
    "run_case_packs",
    "skip_iri_grammar",
]


NOTEBOOK_DIR = Path(str(resources.files("audit_analysis.notebooks")))
"""Where the notebooks are: the project's ``notebooks/`` folder in a clone (an editable
install maps the package there), the package's own copy in an installed wheel."""
CASE_PACKS = "case-packs"
BANNER_QA = "OFFICIAL: for the case audit QA group. Aggregates and case-level detail."
BANNER_EXEC = "OFFICIAL: Executive Group summary. Aggregate figures only; small numbers suppressed."
DRAFT_MARKING = "OFFICIAL – DRAFT"
DRAFT_NOTE = " Draft findings: not yet ratified by the agencies."


def banners(status: str) -> tuple[str, str]:
    """The QA pages' and the Executive Group page's banners for a cycle whose commentary
    is ``status`` (``ratified`` or ``draft``): until it is ratified every page, and the
    PDF, carry DRAFT in their marking line."""
    if status == "ratified":
        return BANNER_QA, BANNER_EXEC
    return tuple(  # type: ignore[return-value]
        DRAFT_MARKING + ":" + b.split(":", 1)[1] + DRAFT_NOTE for b in (BANNER_QA, BANNER_EXEC)
    )


EXECUTIVE_PDF = "executive-summary.pdf"
log = logging.getLogger("audit_analysis")
VERSIONED = (
    "audit-analysis",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "krippendorff",
    "pandera",
    "python-calamine",
    "openpyxl",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
)


NotebookFailedError = RunFailedError
"""The name this error had before :class:`~audit_analysis.exceptions.RunFailedError`."""


class NothingToAnalyseError(AuditDataError):
    """The cycle has no rating on the scale: the run stops before any notebook."""


class StrictRefusalError(AuditDataError):
    """``--strict`` and the cycle has rejections: the run stops before any notebook."""


class OutputError(AuditDataError):
    """An output could not be written (a read-only folder, a full disk...)."""


MANIFEST_READERS = (
    "The case audit QA group. The manifest names no case and no file as an agency named "
    "it: each input is its folder's kind, a number and its SHA-256, so it can be matched "
    "to the file in the cycle folder."
)
# the cycle folder's own files, named as they are (the manifest numbers any other file)
_KNOWN_INPUTS = {
    CASES_FILE,
    FRAMEWORK_FILE,
    DEEP_DIVE,
    LEARNING_EVENT,
    FAMILY_FEEDBACK,
    AREAS_FILE,
    PROGRESS_FILE,
    RECOMMENDATIONS_FILE,
    CRITERIA_FILE,  # how the cases were chosen (issue 26)
    RECORD_FILE,
    RESERVE_FILE,
    RATINGS_FILE,  # an audit's own rating scale (docs/own-scale.md)
}
# What a run leaves while it works: a staging folder (tempfile.mkdtemp's eight characters
# after the prefix), the outputs it is replacing, and the same for case packs.
_STAGING = re.compile(rf"^\.({AUDIT_NAME})(?:-[a-z0-9_]{{8}}|\.previous)$")
_PACK_STAGING = re.compile(r"^\.case-packs(?:-[a-z0-9_]{8}|\.previous)$")
_JOURNAL = re.compile(rf"^\.({AUDIT_NAME}|case-packs)\.publish\.json(?:\.tmp)?$")
MARKER = ".audit-analysis.json"
"""The file in every folder the suite publishes (``OUT/<cycle>``, its ``case-packs``)
listing the entries it wrote there: publishing replaces only those, and carries every
other entry (a rejection log, notes, the case packs) into the new outputs."""
# What a run published before it wrote MARKER: recognised by its manifest and index.
_RUN_ENTRIES = {
    "index.html",
    "manifest.json",
    "notebooks",
    "logs",
    "tables",
    "figures",
    EXECUTIVE_PDF,
    "executive-summary.html",
}


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock (``fcntl.flock`` on the folder itself, so no lock file is left
    behind): two runs on one output folder take turns, the second waiting for the first.
    On entry, what a run killed part-way left behind is recovered or removed
    (:func:`clean_stale`), each in one line on stderr: whoever holds the lock is the only
    run writing here."""
    private_folder(out)
    try:
        import fcntl
    except ImportError:  # no flock here (Windows): runs are not serialised
        _say_cleaned(clean_stale(out))
        yield
        return
    fd = os.open(out, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                f"audit-analysis: another run is writing to {out}; waiting for it to finish",
                file=sys.stderr,
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        _say_cleaned(clean_stale(out))
        yield
    finally:
        os.close(fd)  # releases the lock


def _say_cleaned(removed: list[Path]) -> None:
    for path in removed:
        print(
            f"audit-analysis: removed {path}, the unfinished work of a run stopped "
            "part-way (its outputs had not been published)",
            file=sys.stderr,
        )


def clean_stale(out: Path) -> list[Path]:
    """Recover what a run stopped by force left behind under ``out`` (and under its
    cycles' folders, for case packs): a publishing cut short is rolled back or finished
    (:func:`recover_publishing`, saying so on stderr), then staging folders holding
    only a stopped run's unpublished work are removed. Call it holding
    :func:`output_lock`. Returns what was removed."""
    removed = []

    def remove(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)

    folders = [out]
    for child in sorted(out.iterdir()):
        if parse_cycle(child.name) == child.name and child.is_dir() and not child.is_symlink():
            folders.append(child)
    for folder in folders:
        for child in sorted(folder.iterdir()) if folder.is_dir() else []:
            match = _JOURNAL.match(child.name)
            if match and not child.name.endswith(".tmp"):
                name = match.group(1)
                final = folder / (name if folder == out else CASE_PACKS)
                note = recover_publishing(final)
                if note:
                    print(f"audit-analysis: {note}", file=sys.stderr)
    for child in out.iterdir():
        if _STAGING.match(child.name):
            final = out / _STAGING.match(child.name).group(1)
            if child.name.endswith(".previous") and not os.path.lexists(final):
                os.rename(child, final)  # cut short before the journal: put back
                print(f"audit-analysis: {final} put back as it was", file=sys.stderr)
            elif child.name.endswith(".previous"):
                shutil.rmtree(child, ignore_errors=True)  # published: the old outputs
            else:
                remove(child)
        elif _JOURNAL.match(child.name):
            child.unlink(missing_ok=True)
        elif parse_cycle(child.name) and child.is_dir() and not child.is_symlink():
            for inner in child.iterdir():
                if _PACK_STAGING.match(inner.name):
                    packs = child / CASE_PACKS
                    if inner.name.endswith(".previous") and not os.path.lexists(packs):
                        os.rename(inner, packs)  # cut short before the journal: put back
                        print(f"audit-analysis: {packs} put back as it was", file=sys.stderr)
                    elif inner.name.endswith(".previous"):
                        shutil.rmtree(inner, ignore_errors=True)
                    else:
                        remove(inner)
                elif _JOURNAL.match(inner.name):
                    inner.unlink(missing_ok=True)
    return removed


def _journal(final: Path) -> Path:
    return final.parent / f".{final.name}.publish.json"


def _previous(final: Path) -> Path:
    return final.parent / f".{final.name}.previous"


def suite_entries(folder: Path) -> set[str]:
    """The entries of ``folder`` that the suite wrote there (its :data:`MARKER`; for
    outputs published before the marker, a run's own names beside its manifest, or a
    case-pack folder's every entry). Empty when the suite wrote nothing there."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        return {str(n) for n in marker["entries"]} | {MARKER}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if (folder / "manifest.json").is_file() and (folder / "index.html").is_file():
        pages = {p.name for p in folder.glob("*.html")}
        return _RUN_ENTRIES | pages
    if folder.name == CASE_PACKS and (folder / "notebooks").is_dir():
        return {p.name for p in folder.iterdir()}
    return set()


def check_replaceable(final: Path, writes: set[str]) -> list[str]:
    """Refuse (:class:`OutputError`) to publish over ``final`` unless it is a folder
    (not a link, not a file) whose entries are either the suite's own or none of
    ``writes``, the names the new outputs take. Returns the entries to carry over:
    everything in ``final`` the suite did not write."""
    if not os.path.lexists(final):
        return []
    if final.is_symlink() or not final.is_dir():
        raise OutputError(
            "is not a folder audit-analysis wrote (a link or a file): nothing was replaced; "
            "move it away or choose another --out",
            file=str(final),
        )
    ours = suite_entries(final)
    carried = sorted(p.name for p in final.iterdir() if p.name not in ours)
    clash = [name for name in carried if name in writes]
    if clash:
        raise OutputError(
            f"holds {', '.join(clash)}, which audit-analysis did not write there: nothing was "
            "replaced; move it elsewhere or choose another --out",
            file=str(final),
        )
    return carried


def _worker_start(parent: int, notebooks: tuple[str, ...] = ()) -> None:
    """In each pool worker: end with the run (a worker outliving a killed run would keep
    its kernel, and the cycles it loaded, alive), and import what its kernels import,
    once for all of them (``notebooks``: :mod:`audit_analysis.pipeline.kernels`)."""
    die_with_parent(parent)
    from audit_analysis.pipeline.kernels import preload

    preload(notebooks)


def refuse_empty(data, what: str = "run") -> None:
    """Stop with one line, before any notebook, when ``data`` has no rating on the scale:
    every notebook would have nothing to show."""
    if data.ratings["rating"].isin(data.scale.levels).any():
        return
    returns = data.returns
    found = len(returns)
    rejected = int((returns["status"] == "rejected").sum())
    skipped = int((returns["status"] == "skipped").sum())
    levels = or_list([c.replace("_", " ") for c in data.scale.best_first])
    raise NothingToAnalyseError(
        f"no rating ({levels}) was accepted for {data.cycle}: "
        f"{found} files found, {rejected} rejected, {skipped} skipped, "
        f"{len(data.ratings)} ratings all blank or N/A; nothing to analyse, so no notebook "
        f"was {what}. `audit-analysis validate` lists every rejection",
        file=str(data.folder),
    )


@dataclass(frozen=True)
class NotebookSpec:
    stem: str
    title: str
    description: str
    executive: bool = False
    start: int = 0


def _notebook_list() -> tuple[tuple[NotebookSpec, ...], str]:
    """The annual notebooks and the case-pack notebook, from ``data/notebooks.yaml``."""
    text = resources.files("audit_analysis").joinpath("data/notebooks.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    specs = tuple(
        NotebookSpec(
            stem=str(n["stem"]),
            title=str(n["title"]),
            description=str(n["description"]),
            executive=bool(n.get("executive", False)),
            start=int(n.get("start", 0)),
        )
        for n in raw["annual"]
    )
    return specs, str(raw["case_pack"])


NOTEBOOKS, CASE_PACK_NOTEBOOK = _notebook_list()
EXECUTIVE_NOTEBOOK = next(s.stem for s in NOTEBOOKS if s.executive)
START_ORDER = tuple(s.stem for s in sorted(NOTEBOOKS, key=lambda s: (s.start == 0, s.start)))
"""The order notebooks start in (``start`` in ``data/notebooks.yaml``)."""


def copy_notebooks(out: Path, force: bool = False) -> list[Path]:
    """Copy every notebook shipped with the package into ``out`` (kept if present,
    unless ``force``); returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        target = out / source.name
        if target.exists() and not force:
            continue
        shutil.copyfile(source, target)
        written.append(target)
    return written


def _start_order(spec: NotebookSpec) -> int:
    return START_ORDER.index(spec.stem) if spec.stem in START_ORDER else len(START_ORDER)


def earlier_cycles(data_dir: str | Path, cycle: str) -> list[str]:
    """The audits a run of ``cycle`` compares with by default: those dated before it, of
    its series (:func:`~audit_analysis.io.cycles.earlier_audits`: earlier year cycles for
    a year cycle, earlier audits of its theme for a thematic one), that have a folder with
    a ``cases.csv`` under ``data_dir``."""
    return earlier_audits(DataFolder.scan(data_dir).with_cases(CASES_FILE), cycle)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _plain_files(folder: Path) -> list[tuple[str, Path]]:
    """Plain files under ``folder`` (no link followed, no pipe or device), by path."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in names:
            path = Path(root, name)
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(path).st_mode):
                    found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found, key=lambda item: item[0])


def _shown_path(rel: str, number: int) -> str:
    """A path for the manifest that is safe to show: the fixed names of a cycle folder as
    they are; any other file (agencies name returns by their own case IDs) as its kind,
    the agency folder it sits in when that names an agency, and a number."""
    if rel in _KNOWN_INPUTS:
        return rel
    parts = rel.split("/")
    suffix = safe_name(Path(parts[-1]).suffix.lower().lstrip("."), 10) if "." in parts[-1] else ""
    name = f"file-{number:04d}" + (f".{suffix}" if suffix else "")
    if parts[0] == RETURNS_DIR and len(parts) > 2 and resolve_agency(parts[1]):
        return f"{RETURNS_DIR}/{resolve_agency(parts[1])}/{name}"
    if parts[0] == RETURNS_DIR:
        return f"{RETURNS_DIR}/{name}"
    return f"other/{name}"


def _inputs(data_dir: Path, cycles: list[str]) -> list[dict]:
    """Every input of the run: its cycle, a path relative to the cycle folder that is
    safe to show (:func:`_shown_path`), its size and its SHA-256; and the data folder's
    own ``ratings.yaml``, with no cycle."""
    files = []
    for cycle in cycles:
        folder = find_cycle_folder(data_dir, cycle)
        for number, (rel, path) in enumerate(_plain_files(folder), start=1):
            files.append(
                {
                    "cycle": cycle,
                    "path": _shown_path(rel, number),
                    "bytes": path.stat().st_size,
                    "sha256": _sha256(path),
                }
            )
    scale = data_dir / "ratings.yaml"  # the partnership's scale, for every cycle
    if scale.is_file() and not scale.is_symlink():
        files.append(
            {
                "cycle": None,
                "path": "ratings.yaml",
                "bytes": scale.stat().st_size,
                "sha256": _sha256(scale),
            }
        )
    return files


def _versions() -> dict[str, str]:
    """Python's version and each of :data:`VERSIONED`'s; the suite's own is the one its
    code was imported with (``__version__``, as the pages print it), not whatever package
    metadata the search path finds now: a wheel built in the clone leaves an
    ``audit_analysis.egg-info`` there, which ``python -m`` from the clone would find."""
    from audit_analysis import __version__

    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = __version__ if name == "audit-analysis" else metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


LOCK_FILE = PROJECT_ROOT / "requirements.lock"


def _now() -> datetime:
    return datetime.now(UTC)


def code_record(root: Path = PROJECT_ROOT) -> dict[str, object]:
    """Which code ran: the package's version (from git tags at build time,
    setuptools-scm) and, when the package runs from a clone, the commit and whether the
    clone had uncommitted changes (``dirty``). Outside a clone (an installed wheel)
    ``commit`` is None."""
    from audit_analysis import __version__

    record: dict[str, object] = {"version": __version__, "commit": None, "dirty": None}
    if not (root / ".git").exists():
        return record
    import subprocess

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit:
        status = git("status", "--porcelain", "--untracked-files=no")
        record.update(commit=commit, dirty=None if status is None else bool(status))
    return record


def _lock_record(lock: Path = LOCK_FILE) -> dict[str, object]:
    """What the run's environment was pinned by: the clone's ``requirements.lock`` (its
    SHA-256) and any installed package whose version differs from its pin."""
    if not lock.is_file():
        return {"file": None, "note": "no requirements.lock beside the package (a wheel)"}
    try:
        from packaging.markers import Marker
        from packaging.utils import canonicalize_name
    except ImportError:  # pragma: no cover - packaging comes with matplotlib
        return {"file": lock.name, "sha256": _sha256(lock)}
    differs = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "==" not in line:
            continue
        pin, _, marker = line.partition(";")
        name, _, version = pin.strip().partition("==")
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        try:
            installed = metadata.version(canonicalize_name(name))
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version.strip():
            differs.append(f"{name}=={version.strip()} (installed: {installed or 'none'})")
    return {
        "file": lock.name,
        "sha256": _sha256(lock),
        "matches_installed": not differs,
        "differs": differs,
    }


def _kernel_manager():
    """The kernel manager class for the run's kernels: IPC transport (Unix sockets in a
    private folder, 0700, of the temporary directory, removed with the kernel) where the
    platform has it, so no kernel listens on a TCP port and none warns that its traffic
    is unencrypted. On Windows, which has no IPC transport, nbclient's default: TCP on
    the loopback only, every message signed with the kernel's key (docs/reliability.md)."""
    import uuid

    from jupyter_client import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner
    from jupyter_client.provisioning.factory import KernelProvisionerFactory as KPF

    from audit_analysis.pipeline.kernels import ForkingProvisioner, ReadyClient

    if os.name == "nt":  # pragma: no cover - no IPC transport on Windows
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, *args, **kwargs):
            folder = tempfile.mkdtemp(prefix="audit-kernel-")  # short: a socket path
            kwargs.setdefault("transport", "ipc")  # is at most about 100 bytes
            kwargs.setdefault("connection_file", os.path.join(folder, "kernel.json"))
            # its clients know a started kernel is ready when it is (kernels.py)
            kwargs.setdefault("client_factory", ReadyClient)
            super().__init__(*args, **kwargs)
            self._private_folder = folder

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(self._private_folder, ignore_errors=True)

        cleanup_resources = _async_cleanup_resources

        async def _async_pre_start_kernel(self, **kw):
            # the local provisioner's kernel, forked from this worker (kernels.py)
            if self.provisioner is None:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                made = KPF.instance(parent=self.parent).create_provisioner_instance(
                    self.kernel_id, self.kernel_spec, parent=self
                )
                if type(made) is LocalProvisioner:
                    made = ForkingProvisioner(
                        kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                    )
                self.provisioner = made
            return await super()._async_pre_start_kernel(**kw)

        pre_start_kernel = _async_pre_start_kernel

    return IPCKernelManager


def _execute(
    source: str,
    target: str,
    parameters: dict,
    cwd: str,
    log: str,
    html: dict | None = None,
    cache: str | None = None,
    pdf: dict | None = None,
) -> tuple[str, str]:
    """Run one notebook (in a worker process). Returns its stem and a note ("" when
    there is nothing to say).

    The kernel talks to this worker over IPC (:func:`_kernel_manager`); its own chatter
    goes to ``log``, not the console; a failing cell's error comes back as
    :class:`~audit_analysis.exceptions.RunFailedError`. With ``html`` (``notebook_to_html``'s
    ``target``,
    ``title``, ``banner``) the worker exports the page too, while other notebooks still
    run; with ``cache`` the kernel reads the run's loaded cycles from there
    (:mod:`audit_analysis.io.cache`); with ``pdf``
    (:func:`~audit_analysis.render.pdf.print_to_pdf`'s
    ``target`` and metadata) it prints that page to PDF too, and the note says why not
    when it could not.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from audit_analysis.io import cache as cycle_cache

    os.environ.setdefault("MPLBACKEND", "Agg")
    if cache:
        os.environ[cycle_cache.ENV] = cache  # inherited by the kernel
    else:
        os.environ.pop(cycle_cache.ENV, None)
    with open(log, "ab") as fh:
        os.dup2(fh.fileno(), 2)  # this worker's stderr, inherited by its kernels
    try:
        executed = papermill.execute_notebook(
            papermill_path(source),  # papermill formats paths with the parameters
            papermill_path(target),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=cwd,
            log_output=False,
            # written once, when it ends (or fails), not at every cell's start and end: a
            # run's notebook takes seconds, and each save wrote and validated it whole
            request_save_on_cell_execute=False,
            shutdown_kernel="immediate",  # every output is in: no need to wait for it
            kernel_manager_class=_kernel_manager(),
        )
    except PapermillExecutionError as exc:
        raise RunFailedError(Path(source).name, exc.exec_count, exc.ename, exc.evalue) from None
    if html:
        from audit_analysis.render.export import notebook_to_html

        notebook_to_html(executed, **html)  # the notebook just written, not read back
    if html and pdf:
        from audit_analysis.render.pdf import print_to_pdf

        printed = print_to_pdf(html["target"], **pdf)
        return Path(source).stem, printed.note
    return Path(source).stem, ""


def skip_iri_grammar() -> None:
    """Make rfc3987-syntax read as absent in this process, before jsonschema is imported.

    jsonschema, under papermill and nbconvert, builds an IRI grammar with lark at import
    whenever rfc3987-syntax is installed (JupyterLab brings it): 1.5 to 2 s of CPU per
    process, for a format no notebook has (python-jsonschema/jsonschema#1428)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def run_annual(
    data_dir: str | Path,
    cycle: str,
    out: str | Path = "outputs",
    compare: list[str] | None = None,
    min_cell_count: int = 5,
    workers: int | None = None,
    progress: bool = True,
    notebook_dir: str | Path = NOTEBOOK_DIR,
    strict: bool = False,
) -> Path:
    """Execute every notebook for ``cycle`` and write ``out/<cycle>/``. Returns that path.

    Refuses (:class:`NothingToAnalyseError`) a cycle with no rating on the scale before
    any notebook runs; with ``strict``, refuses (:class:`StrictRefusalError`) a cycle
    with any rejection too. The manifest's ``notes`` say what the data lacked
    (:func:`~audit_analysis.pipeline.validation.run_notes`). Holds ``out``'s lock
    (:func:`output_lock`) while it works; what it writes is owner-only; a write that
    fails is an :class:`OutputError`."""

    skip_iri_grammar()
    from audit_analysis.render.export import index_page  # noqa: F401 - nbconvert, before the workers fork

    started = _now()
    cycle = normalise_cycle(cycle)
    data_dir = Path(data_dir).resolve()
    _refuse_output(data_dir, Path(out), cycle, _RUN_ENTRIES | _pages())
    # The workers start now and import what the kernels need while this process reads
    # and checks the data: until a notebook is given them they do nothing else, and a
    # run refused below stops them (_worker_pool).
    with _worker_pool(workers, _job_notebooks(notebook_dir)) as pool:
        return _checked_run(
            data_dir,
            cycle,
            out,
            compare,
            min_cell_count,
            pool,
            progress,
            notebook_dir,
            started,
            strict,
        )


def _checked_run(
    data_dir: Path,
    cycle: str,
    out: str | Path,
    compare: list[str] | None,
    min_cell_count: int,
    pool: ProcessPoolExecutor,
    progress: bool,
    notebook_dir: str | Path,
    started: datetime,
    strict: bool,
) -> Path:
    """:func:`run_annual` from reading the data on, its workers started (``pool``)."""
    from audit_analysis.io.dataset import load_cycle

    current = load_cycle(data_dir, cycle)  # fail fast, with the loader's message
    if strict and len(current.rejections):
        raise StrictRefusalError(
            f"{int(current.rejections['count'].sum())} rejections in {cycle} and --strict: "
            "no notebook was "
            "run and the outputs were left as they were; `audit-analysis validate` lists each",
            file=str(current.folder),
        )
    compare = (
        earlier_cycles(data_dir, cycle)
        if compare is None
        else [normalise_cycle(c) for c in compare]
    )
    for other in compare:
        find_cycle_folder(data_dir, other)
    out = Path(out).resolve()
    # Everything the run writes can name cases: owner-only, in this process and in the
    # workers and kernels it starts (they inherit the umask).
    with owner_only(), _writing(out), output_lock(out):
        refuse_empty(current)
        from audit_analysis.sections.commentary import refuse_unsound

        # a commentary the pages cannot show is refused in one line; a sound one says
        # whether the pages carry DRAFT
        commentary = refuse_unsound(current, compare)
        status = "ratified" if commentary is not None and commentary.ratified else "draft"
        return _run_locked(
            data_dir,
            cycle,
            current,
            compare,
            out,
            min_cell_count,
            pool,
            progress,
            notebook_dir,
            started,
            status,
        )


def _pages() -> set[str]:
    return {"executive-summary.html" if s.executive else f"{s.stem}.html" for s in NOTEBOOKS}


def _refuse_output(
    data_dir: Path, out: Path, cycle: str, writes: set[str], inner: str | None = None
) -> None:
    """Before anything is read or written: refuse an ``out`` that is, holds or lies in a
    cycle folder of ``data_dir`` (:meth:`DataFolder.refuse_output`), and an
    ``out/<cycle>`` (``/<inner>``) that is a link, a file, or holds files of the user's
    under the names the outputs take (:func:`check_replaceable`)."""
    DataFolder.scan(data_dir).refuse_output(out)
    final = out / cycle
    if os.path.islink(final) or (os.path.lexists(final) and not final.is_dir()):
        raise OutputError(
            "is not a folder audit-analysis wrote (a link or a file): nothing was written; "
            "move it away or choose another --out",
            file=str(final),
        )
    check_replaceable(final / inner if inner else final, writes)


@contextlib.contextmanager
def _writing(where: Path) -> Iterator[None]:
    """An OSError while writing outputs becomes an :class:`OutputError` naming the file
    (a full disk raises with no file name: then the output folder is named)."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        name = exc.filename or where
        raise OutputError(f"cannot write outputs: {exc.strerror or exc}", file=str(name)) from None


def _run_locked(
    data_dir: Path,
    cycle: str,
    current,
    compare: list[str],
    out: Path,
    min_cell_count: int,
    pool: ProcessPoolExecutor,
    progress: bool,
    notebook_dir: str | Path,
    started: datetime,
    status: str = "draft",
) -> Path:

    from audit_analysis.io import cache
    from audit_analysis.io.dataset import load_cycle
    from audit_analysis.pipeline.validation import run_notes
    from audit_analysis.render.export import index_page

    final = out / cycle
    staging = Path(tempfile.mkdtemp(prefix=f".{cycle}-", dir=out))
    notebook_dir = Path(notebook_dir)
    parameters = {
        "data_dir": str(data_dir),
        "cycle": cycle,
        "output_dir": str(staging),
        "compare_cycles": compare,
        "min_cell_count": int(min_cell_count),
    }
    (staging / "notebooks").mkdir()
    logs = staging / "logs"
    logs.mkdir()
    pages = {
        spec.stem: "executive-summary.html" if spec.executive else f"{spec.stem}.html"
        for spec in NOTEBOOKS
    }
    cycles_file = staging / ".cache" / "cycles.pickle"
    banner_qa, banner_exec = banners(status)
    pdf_notes: list[str] = []
    try:
        jobs = [
            (
                spec.stem,
                (
                    str(notebook_dir / f"{spec.stem}.ipynb"),
                    str(staging / "notebooks" / f"{spec.stem}.ipynb"),
                    parameters,
                    str(staging),
                    str(logs / f"{spec.stem}.log"),
                ),
                {
                    "html": {
                        "target": staging / pages[spec.stem],
                        "title": f"{spec.title}: case audit {cycle}",
                        "banner": banner_exec if spec.executive else banner_qa,
                    },
                    "cache": str(cycles_file),
                    "pdf": _executive_pdf(staging, cycle, banner_exec) if spec.executive else None,
                },
            )
            for spec in sorted(NOTEBOOKS, key=_start_order)
        ]
        results = _run_parallel(
            jobs,
            pool,
            f"Audit {cycle}",
            "notebook",
            progress,
            # while the kernels start: every cycle loaded once, for all of them
            meanwhile=lambda: cache.write_all(
                cycles_file,
                data_dir,
                lambda: [current, *(load_cycle(data_dir, other) for other in compare)],
            ),
        )
        pdf_notes = [note for _, note in results if note]
        notes = run_notes(current, staging / "tables", min_cell_count)
        notes += [{"kind": "pdf", "text": f"{EXECUTIVE_PDF} not written: {n}"} for n in pdf_notes]
        shutil.rmtree(staging / ".cache")
        entries = [(pages[spec.stem], spec.title, spec.description) for spec in NOTEBOOKS]
        if (staging / EXECUTIVE_PDF).is_file():
            entries.insert(
                next(i for i, s in enumerate(NOTEBOOKS) if s.executive) + 1,
                (EXECUTIVE_PDF, "Executive summary (PDF)", "The same page, to print or send."),
            )
        entries += [
            ("tables/", "Tables", "The CSV behind every chart."),
            ("figures/", "Figures", "Every chart as PNG and SVG."),
        ]
        (staging / "index.html").write_text(index_page(cycle, entries, banner_qa), encoding="utf-8")
        finished = _now()
        manifest = {
            "cycle": cycle,
            "readers": MANIFEST_READERS,
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "duration_seconds": round((finished - started).total_seconds(), 1),
            "code": code_record(),
            "parameters": {**parameters, "data_dir": str(data_dir), "output_dir": str(final)},
            "inputs": _inputs(data_dir, [cycle, *compare]),
            "notebooks": {
                spec.stem: _sha256(notebook_dir / f"{spec.stem}.ipynb") for spec in NOTEBOOKS
            },
            "versions": _versions(),
            "lock": _lock_record(),
            "pdf": EXECUTIVE_PDF if (staging / EXECUTIVE_PDF).is_file() else None,
            "notes": notes,
        }
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
    except BaseException as exc:
        shutil.rmtree(staging / ".cache", ignore_errors=True)
        failed = out / f"{cycle}.failed"
        shutil.rmtree(failed, ignore_errors=True)
        staging.rename(failed)
        _mark_failed(failed, cycle, reprint=isinstance(exc, Exception), banner=banner_exec)
        if isinstance(exc, RunFailedError):
            exc.folder, exc.logs = failed, failed / "logs"
        raise
    # case packs are built separately, and any file a user put there is theirs: kept
    _publish(staging, final)
    shutil.rmtree(out / f"{cycle}.failed", ignore_errors=True)
    for note in pdf_notes:  # no browser to print the PDF: the run succeeds, and says so
        log.warning("audit-analysis: %s not written: %s; the HTML is written", EXECUTIVE_PDF, note)
    return final


def _mark_failed(folder: Path, cycle: str, reprint: bool = True, banner: str = BANNER_EXEC) -> None:
    """Every page a failed run left in ``folder`` says so in its banner and marking line
    (:data:`~audit_analysis.render.export.FAILED_MARKING`); the executive PDF is printed
    again from its marked page (``reprint``), or removed when it cannot be: no complete-
    looking summary leaves a failed run unmarked. Never raises: the run's own error is
    what the operator must see."""
    from audit_analysis.render.export import FAILED_MARKING, mark_failed

    try:
        for page in folder.glob("*.html"):
            mark_failed(page)
        pdf = folder / EXECUTIVE_PDF
        if not pdf.exists():
            return
        pdf.unlink()
        if reprint and (folder / "executive-summary.html").is_file():
            from audit_analysis.render.pdf import print_to_pdf

            spec = _executive_pdf(folder, cycle, banner)  # DRAFT kept where it was
            spec["marking"] = f"{FAILED_MARKING}. {spec['marking']}"
            spec["keywords"] = [FAILED_MARKING, *spec["keywords"]]
            print_to_pdf(folder / "executive-summary.html", **spec)
    except Exception as exc:  # noqa: BLE001 - the run's error comes first
        log.warning("audit-analysis: could not mark %s as a failed run's: %s", folder, exc)


def notebook_page(notebook: str | Path, target: str | Path | None = None) -> Path:
    """The page ``audit-analysis run`` would have made of an executed notebook (one that
    papermill ran directly): code hidden, the banner and print stylesheet of its
    readers, titled by the notebook and the cycle it was run for. Written to ``target``
    (default: beside it, as ``.html``), owner-only. Returns the page's path."""
    import nbformat

    from audit_analysis.render.export import notebook_to_html

    source = Path(notebook)
    target = Path(target) if target else source.with_suffix(".html")
    try:
        nb = nbformat.read(source, as_version=4)
    except OSError as exc:
        raise AuditDataError(
            f"cannot read the notebook: {exc.strerror}", file=str(source)
        ) from None
    except Exception as exc:  # nbformat's several errors for a file that is not a notebook
        reason = " ".join(str(exc).split())[:200]
        raise AuditDataError(f"not a notebook: {reason}", file=str(source)) from None
    papermill_run = nb.metadata.get("papermill") or {}
    if not papermill_run:
        raise AuditDataError(
            "not executed by papermill: run it first (docs/operator.md, 'Running one "
            "notebook with papermill')",
            file=str(source),
        )
    cycle = str((papermill_run.get("parameters") or {}).get("cycle") or "").strip()
    banner_qa, banner_exec = _banners_of(papermill_run.get("parameters") or {}, cycle)
    spec = next((s for s in NOTEBOOKS if s.stem == source.stem), None)
    title = spec.title if spec else source.stem
    executive = bool(spec and spec.executive)
    with owner_only(), _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook_to_html(
            nb,
            target,
            title=f"{title}: case audit {cycle}" if cycle else title,
            banner=banner_exec if executive else banner_qa,
        )
    return target


def _banners_of(parameters: dict, cycle: str) -> tuple[str, str]:
    """The banners of the cycle a notebook was run for, as the run would give them
    (DRAFT until its commentary is ratified); where its data folder is no longer to be
    found, nothing is known of its commentary and the plain banners are used."""
    from audit_analysis.io.commentary import commentary_status

    try:
        folder = find_cycle_folder(parameters.get("data_dir") or "", cycle)
    except (AuditDataError, OSError, TypeError):
        return BANNER_QA, BANNER_EXEC
    return banners(commentary_status(folder))


def _job_notebooks(notebook_dir: str | Path) -> tuple[str, ...]:
    """The annual run's notebooks, in the order its jobs start."""
    return tuple(
        str(Path(notebook_dir) / f"{spec.stem}.ipynb")
        for spec in sorted(NOTEBOOKS, key=_start_order)
    )


@contextlib.contextmanager
def _worker_pool(workers: int | None, notebooks: tuple[str, ...]) -> Iterator[ProcessPoolExecutor]:
    """A run's process pool (``workers``, default one per notebook up to the cores),
    its workers started at once: each dies with this process and imports what the
    kernels of ``notebooks`` import (:func:`_worker_start`) while the caller goes on.
    They are forked owner-only (umask 077), as everything the run writes must be.

    :func:`_run_parallel` shuts the pool down once its jobs are done or one has failed.
    When the block raises before that (a run refused before any notebook), the workers
    are killed at once, in the middle of their imports, rather than waited for."""
    count = workers or min(len(notebooks), os.cpu_count() or 1)
    with owner_only():
        pool = ProcessPoolExecutor(
            max_workers=count,
            initializer=_worker_start,
            initargs=(os.getpid(), notebooks),
        )
        # the first job forks every worker (the "fork" start method starts them all)
        pool.submit(os.getpid)
    try:
        yield pool
    except BaseException:
        # ProcessPoolExecutor has no public way to kill its workers before Python 3.14's
        # kill_workers(): its own table of them, read as that method reads it
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, AttributeError):
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_parallel(
    jobs: list[tuple[str, tuple, dict]],
    pool: ProcessPoolExecutor,
    desc: str,
    unit: str,
    progress: bool,
    meanwhile=None,
) -> list[object]:
    """The one way a run executes notebooks: each job (label, :func:`_execute`'s
    arguments, its keywords) in ``pool`` (:func:`_worker_pool`), with a progress bar;
    ``meanwhile`` runs here while the kernels start. The first failure cancels what has
    not started and is raised. The pool is shut down before this returns or raises,
    the jobs still running waited for: nothing of a run writes after it. Returns the
    jobs' results."""
    from tqdm import tqdm

    results = []
    bar = tqdm(total=len(jobs), desc=desc, unit=unit, disable=not progress, file=sys.stderr)
    try:
        futures = {pool.submit(_execute, *args, **kw): label for label, args, kw in jobs}
        try:
            if meanwhile is not None:
                meanwhile()
            for future in as_completed(futures):
                results.append(future.result())  # raises RunFailedError
                bar.set_postfix_str(futures[future])
                bar.update(1)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return results


def _publish(staging: Path, final: Path) -> list[str]:
    """The one way outputs are published: ``staging``, complete, takes the place of
    ``final``, carrying over every entry of ``final`` the suite did not write there
    (:func:`check_replaceable`: a user's files, the case packs). Returns those entries.

    Each step is a rename, and a journal beside ``final`` says what is being carried, so
    that a run killed at any instant is recovered by the next (:func:`recover_publishing`):
    readers see the old outputs or the new, and nothing carried is lost."""
    carried = check_replaceable(final, {p.name for p in staging.iterdir()})
    entries = sorted(p.name for p in staging.iterdir() if p.name != MARKER)
    (staging / MARKER).write_text(
        json.dumps({"written_by": "audit-analysis", "entries": entries}) + "\n",
        encoding="utf-8",
    )
    previous, journal = _previous(final), _journal(final)
    shutil.rmtree(previous, ignore_errors=True)
    pending = journal.with_name(journal.name + ".tmp")
    pending.write_text(
        json.dumps({"staging": staging.name, "carried": carried}) + "\n", encoding="utf-8"
    )
    os.replace(pending, journal)
    for name in carried:
        os.rename(final / name, staging / name)
    if os.path.lexists(final):
        os.rename(final, previous)
    os.rename(staging, final)
    shutil.rmtree(previous, ignore_errors=True)
    journal.unlink()
    return carried


def recover_publishing(final: Path) -> str | None:
    """Finish or roll back a publishing of ``final`` that a kill cut short (its journal
    is there): before the new outputs took ``final``'s place, the old outputs are put
    back with every entry being carried; after, only the old outputs are removed.
    Returns one line saying what was done, or None when there was nothing to do."""
    journal = _journal(final)
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        staging = final.parent / str(record["staging"])
        carried = [str(n) for n in record["carried"]]
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return None
    previous = _previous(final)
    if not staging.is_dir() or staging.is_symlink():  # published: finish the tidying
        shutil.rmtree(previous, ignore_errors=True)
        journal.unlink(missing_ok=True)
        return None
    if not os.path.lexists(final) and previous.is_dir():
        os.rename(previous, final)
    back = 0
    for name in carried:
        if os.path.lexists(staging / name):
            if not os.path.lexists(final):
                private_folder(final)
            if not os.path.lexists(final / name):
                os.rename(staging / name, final / name)
                back += 1
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(previous, ignore_errors=True)
    journal.unlink(missing_ok=True)
    return (
        f"a run was stopped while publishing {final}: its previous outputs are kept as "
        f"they were ({back} carried entries put back) and its unpublished outputs removed"
    )


def _executive_pdf(staging: Path, cycle: str, banner: str = BANNER_EXEC) -> dict:
    """What :func:`~audit_analysis.render.pdf.print_to_pdf` needs for the Executive Group's PDF,
    written beside its page."""
    from audit_analysis.render.export import marking_of

    return {
        "target": staging / EXECUTIVE_PDF,
        "title": f"Executive summary: case audit {cycle}",
        "subject": f"Multi-agency case audit {cycle}: the Executive Group's summary",
        "marking": marking_of(banner),
        "keywords": [f"case audit {cycle}", "Executive Group", "aggregate figures only"],
    }


def run_case_packs(
    data_dir: str | Path,
    cycle: str,
    out: str | Path = "outputs",
    cases: list[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
    notebook_dir: str | Path = NOTEBOOK_DIR,
) -> Path:
    """One OFFICIAL-SENSITIVE case pack per case (default: the deep dive's flagged
    cases), run by papermill and written to ``out/<cycle>/case-packs/``, which is
    replaced only when every pack succeeded. Returns that folder."""
    from audit_analysis.io.dataset import load_cycle
    from audit_analysis.sections.casepack import flagged_cases

    cycle = normalise_cycle(cycle)
    data_dir = Path(data_dir).resolve()
    _refuse_output(data_dir, Path(out), cycle, {"notebooks", "logs"}, CASE_PACKS)
    data = load_cycle(data_dir, cycle)
    known = {identifier_key(c): c for c in data.cases["case_ref"]}
    if cases:
        unknown = [c for c in cases if identifier_key(c) not in known]
        if unknown:
            raise AuditDataError(f"no such case in {cycle}'s cases.csv", value=", ".join(unknown))
        cases = [known[identifier_key(c)] for c in cases]
    else:
        cases = flagged_cases(data)
        if not cases:
            raise AuditDataError(
                f"no cases flagged for the deep dive in {cycle} (no deep_dive.csv rows); "
                "name the cases with --cases"
            )
    out = Path(out).resolve()
    # A case_ref is data: each pack's files are named by a safe name of it, kept inside
    # the staging folder, and no two cases can share one.
    names = {case: safe_name(case) for case in cases}
    with owner_only(), _writing(out), output_lock(out):
        return _packs_locked(
            data, data_dir, cycle, cases, names, out, workers, progress, notebook_dir
        )


def _packs_locked(
    data: CycleData,
    data_dir: Path,
    cycle: str,
    cases: list[str],
    names: dict[str, str],
    out: Path,
    workers: int | None,
    progress: bool,
    notebook_dir: str | Path,
) -> Path:

    from audit_analysis.io import cache
    from audit_analysis.sections.casepack import BANNER, STYLE

    target = out / safe_name(cycle) / CASE_PACKS
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{CASE_PACKS}-", dir=target.parent))
    (staging / "notebooks").mkdir()
    logs = staging / "logs"
    logs.mkdir()
    source = str(Path(notebook_dir) / f"{CASE_PACK_NOTEBOOK}.ipynb")
    cycles_file = staging / ".cache" / "cycles.pickle"
    try:
        cache.write(cycles_file, data_dir, [data])  # loaded once, for every pack
        jobs = [
            (
                case,
                (
                    source,
                    str(inside(staging / "notebooks", f"{names[case]}.ipynb")),
                    {
                        "data_dir": str(data_dir),
                        "cycle": cycle,
                        "output_dir": str(staging),
                        "case_ref": case,
                    },
                    str(staging),
                    str(inside(logs, f"{names[case]}.log")),
                ),
                {
                    "cache": str(cycles_file),
                    "html": {  # each page made by the worker that ran its notebook
                        "target": inside(staging, f"{names[case]}.html"),
                        "title": f"Case pack {case}: case audit {cycle}",
                        "banner": BANNER,
                        "extra_style": STYLE,
                    },
                },
            )
            for case in cases
        ]
        with _worker_pool(workers or min(len(cases), os.cpu_count() or 1), (source,)) as pool:
            _run_parallel(jobs, pool, f"Case packs {cycle}", "case", progress)
        shutil.rmtree(staging / ".cache")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _publish(staging, target)
    return target
