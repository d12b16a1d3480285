"""The annual run: every notebook executed by papermill, exported, indexed, atomically.

Notebooks are independent, so they run side by side (one kernel per core). Everything is
written to a temporary folder beside the target and moved into place only when every
notebook succeeded: a failing run leaves the previous outputs exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import yaml

from .cycles import normalise_cycle, parse_cycle
from .dataset import CASES_FILE, find_cycle_folder

NOTEBOOK_DIR = Path(str(resources.files("audit_analysis.notebooks")))
"""Where the notebooks are: the project's ``notebooks/`` folder in a clone (an editable
install maps the package there), the package's own copy in an installed wheel."""
CASE_PACKS = "case-packs"
BANNER_QA = "OFFICIAL: for the case audit QA group. Aggregates and case-level detail."
BANNER_EXEC = "OFFICIAL: Executive Group summary. Aggregate figures only; small numbers suppressed."
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


class NotebookFailedError(Exception):
    """A notebook raised: the message names the notebook, the cell and the error."""


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
    """Cycles before ``cycle`` that have a folder with a ``cases.csv`` under ``data_dir``."""
    found = set()
    for child in Path(data_dir).iterdir():
        other = parse_cycle(child.name) if child.is_dir() else None
        if other and other < cycle and (child / CASES_FILE).is_file():
            found.add(other)
    return sorted(found)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _inputs(data_dir: Path, cycles: list[str]) -> list[dict]:
    files = []
    for cycle in cycles:
        folder = find_cycle_folder(data_dir, cycle)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            files.append(
                {
                    "path": path.relative_to(data_dir).as_posix(),
                    "bytes": path.stat().st_size,
                    "sha256": _sha256(path),
                }
            )
    return files


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


LOCK_FILE = Path(__file__).resolve().parent.parent / "requirements.lock"


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


def _execute(
    source: str,
    target: str,
    parameters: dict,
    cwd: str,
    log: str,
    html: dict | None = None,
    cache: str | None = None,
) -> str:
    """Run one notebook (in a worker process). Returns its stem.

    The kernel's own chatter (ipykernel warns at every start that its loopback link is
    unencrypted) goes to ``log``, not the console; a failing cell's error comes back as
    :class:`NotebookFailedError`. With ``html`` (``notebook_to_html``'s ``target``,
    ``title``, ``banner``) the worker exports the page too, while other notebooks still
    run; with ``cache`` the kernel reads the run's loaded cycles from there
    (:mod:`audit_analysis.cache`).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from . import cache as cycle_cache

    os.environ.setdefault("MPLBACKEND", "Agg")
    if cache:
        os.environ[cycle_cache.ENV] = cache  # inherited by the kernel
    else:
        os.environ.pop(cycle_cache.ENV, None)
    with open(log, "ab") as fh:
        os.dup2(fh.fileno(), 2)  # this worker's stderr, inherited by its kernels
    try:
        papermill.execute_notebook(
            source,
            target,
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=cwd,
            log_output=False,
            shutdown_kernel="immediate",  # every output is in: no need to wait for it
        )
    except PapermillExecutionError as exc:
        raise NotebookFailedError(
            f"notebook {Path(source).name} failed in cell {exc.exec_count}: "
            f"{exc.ename}: {exc.evalue}"
        ) from None
    if html:
        from .export import notebook_to_html

        notebook_to_html(target, **html)
    return Path(source).stem


def run_annual(
    data_dir: str | Path,
    cycle: str,
    out: str | Path = "outputs",
    compare: list[str] | None = None,
    min_cell_count: int = 5,
    workers: int | None = None,
    progress: bool = True,
    notebook_dir: str | Path = NOTEBOOK_DIR,
) -> Path:
    """Execute every notebook for ``cycle`` and write ``out/<cycle>/``. Returns that path."""
    from tqdm import tqdm

    from . import cache
    from .dataset import load_cycle

    # jsonschema, under papermill and nbconvert, builds an IRI grammar with lark at import
    # whenever rfc3987-syntax is installed (JupyterLab brings it): 2 s per process for a
    # format no notebook has (python-jsonschema/jsonschema#1428). Read it as absent.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from .export import index_page  # with nbconvert, before the workers fork: they export

    cycle = normalise_cycle(cycle)
    data_dir = Path(data_dir).resolve()
    current = load_cycle(data_dir, cycle)  # fail fast, with the loader's message
    compare = (
        earlier_cycles(data_dir, cycle)
        if compare is None
        else [normalise_cycle(c) for c in compare]
    )
    for other in compare:
        find_cycle_folder(data_dir, other)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
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
    workers = workers or min(len(NOTEBOOKS), os.cpu_count() or 1)
    pages = {
        spec.stem: "executive-summary.html" if spec.executive else f"{spec.stem}.html"
        for spec in NOTEBOOKS
    }
    cycles_file = staging / ".cache" / "cycles.pickle"
    try:
        bar = tqdm(
            total=len(NOTEBOOKS),
            desc=f"Audit {cycle}",
            unit="notebook",
            disable=not progress,
            file=sys.stderr,
        )
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(
                    _execute,
                    str(notebook_dir / f"{spec.stem}.ipynb"),
                    str(staging / "notebooks" / f"{spec.stem}.ipynb"),
                    parameters,
                    str(staging),
                    str(logs / f"{spec.stem}.log"),
                    html={
                        "target": staging / pages[spec.stem],
                        "title": f"{spec.title}: case audit {cycle}",
                        "banner": BANNER_EXEC if spec.executive else BANNER_QA,
                    },
                    cache=str(cycles_file),
                ): spec
                for spec in sorted(NOTEBOOKS, key=_start_order)
            }
            try:
                # While the kernels start: every cycle loaded once, for all of them.
                cache.write_all(
                    cycles_file,
                    data_dir,
                    lambda: [current, *(load_cycle(data_dir, other) for other in compare)],
                )
                for future in as_completed(futures):
                    future.result()  # raises NotebookFailedError
                    bar.set_postfix_str(futures[future].stem)
                    bar.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        bar.close()
        shutil.rmtree(staging / ".cache")
        entries = [(pages[spec.stem], spec.title, spec.description) for spec in NOTEBOOKS]
        entries += [
            ("tables/", "Tables", "The CSV behind every chart."),
            ("figures/", "Figures", "Every chart as PNG and SVG."),
        ]
        (staging / "index.html").write_text(index_page(cycle, entries, BANNER_QA), encoding="utf-8")
        manifest = {
            "cycle": cycle,
            "parameters": {**parameters, "data_dir": str(data_dir), "output_dir": str(final)},
            "inputs": _inputs(data_dir, [cycle, *compare]),
            "notebooks": {
                spec.stem: _sha256(notebook_dir / f"{spec.stem}.ipynb") for spec in NOTEBOOKS
            },
            "versions": _versions(),
            "lock": _lock_record(),
        }
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
    except BaseException:
        shutil.rmtree(staging / ".cache", ignore_errors=True)
        failed = out / f"{cycle}.failed"
        shutil.rmtree(failed, ignore_errors=True)
        staging.rename(failed)
        raise
    previous = out / f".{cycle}.previous"
    shutil.rmtree(previous, ignore_errors=True)
    if (final / CASE_PACKS).is_dir():  # case packs are built separately: keep them
        (final / CASE_PACKS).rename(staging / CASE_PACKS)
    if final.exists():
        final.rename(previous)
    staging.rename(final)
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(out / f"{cycle}.failed", ignore_errors=True)
    return final


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
    from tqdm import tqdm

    from .casepack import BANNER, STYLE, flagged_cases
    from .dataset import load_cycle
    from .exceptions import AuditDataError
    from .export import notebook_to_html

    cycle = normalise_cycle(cycle)
    data_dir = Path(data_dir).resolve()
    data = load_cycle(data_dir, cycle)
    known = {c.casefold(): c for c in data.cases["case_ref"]}
    if cases:
        unknown = [c for c in cases if c.casefold() not in known]
        if unknown:
            raise AuditDataError(f"no such case in {cycle}'s cases.csv", value=", ".join(unknown))
        cases = [known[c.casefold()] for c in cases]
    else:
        cases = flagged_cases(data)
        if not cases:
            raise AuditDataError(
                f"no cases flagged for the deep dive in {cycle} (no deep_dive.csv rows); "
                "name the cases with --cases"
            )
    out = Path(out).resolve()
    target = out / cycle / CASE_PACKS
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{CASE_PACKS}-", dir=target.parent))
    (staging / "notebooks").mkdir()
    logs = staging / "logs"
    logs.mkdir()
    source = str(Path(notebook_dir) / f"{CASE_PACK_NOTEBOOK}.ipynb")
    workers = workers or min(len(cases), os.cpu_count() or 1)
    try:
        bar = tqdm(
            total=len(cases),
            desc=f"Case packs {cycle}",
            unit="case",
            disable=not progress,
            file=sys.stderr,
        )
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(
                    _execute,
                    source,
                    str(staging / "notebooks" / f"{case}.ipynb"),
                    {
                        "data_dir": str(data_dir),
                        "cycle": cycle,
                        "output_dir": str(staging),
                        "case_ref": case,
                    },
                    str(staging),
                    str(logs / f"{case}.log"),
                ): case
                for case in cases
            }
            try:
                for future in as_completed(futures):
                    future.result()
                    bar.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        bar.close()
        for case in cases:
            notebook_to_html(
                staging / "notebooks" / f"{case}.ipynb",
                staging / f"{case}.html",
                title=f"Case pack {case}: case audit {cycle}",
                banner=BANNER,
                extra_style=STYLE,
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = target.parent / f".{CASE_PACKS}.previous"
    shutil.rmtree(previous, ignore_errors=True)
    if target.exists():
        target.rename(previous)
    staging.rename(target)
    shutil.rmtree(previous, ignore_errors=True)
    return target
