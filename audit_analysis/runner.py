"""The annual run: every notebook executed by papermill, exported, indexed, atomically.

Notebooks are independent, so they run side by side (one kernel per core). Everything is
written to a temporary folder beside the target and moved into place only when every
notebook succeeded: a failing run leaves the previous outputs exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .cycles import normalise_cycle, parse_cycle
from .dataset import CASES_FILE, find_cycle_folder

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
EXECUTIVE_NOTEBOOK = "05-executive-summary"
CASE_PACK_NOTEBOOK = "06-case-pack"
CASE_PACKS = "case-packs"
BANNER_QA = "OFFICIAL: for the case audit QA group. Aggregates and case-level detail."
BANNER_EXEC = "OFFICIAL: Executive Group summary. Aggregate figures only; small numbers suppressed."
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


class NotebookFailedError(Exception):
    """A notebook raised: the message names the notebook, the cell and the error."""


@dataclass(frozen=True)
class NotebookSpec:
    stem: str
    title: str
    description: str
    executive: bool = False


NOTEBOOKS = (
    NotebookSpec(
        "01-data-quality",
        "Data quality and process",
        "Who returned what, on which template, with how much evidence; rejections.",
    ),
    NotebookSpec(
        "02-findings-by-kloe",
        "Findings by key line of enquiry",
        "Each standard's ratings, by priority theme and by agency.",
    ),
    NotebookSpec(
        "03-trends",
        "Trends against earlier years",
        "Every standard against earlier cycles, matched across the renumbering.",
    ),
    NotebookSpec(
        "04-agency-consistency",
        "Agency consistency",
        "How far agencies agree on the same cases; the disagreement register (QA only).",
    ),
    NotebookSpec(
        EXECUTIVE_NOTEBOOK,
        "Executive summary",
        "The headlines in plain words, aggregate only.",
        executive=True,
    ),
)
# The order notebooks start in (any not listed start last). On two cores, one worker takes
# the longest notebook then a long one while the other runs the two shortest then the
# third: both finish together, where starting longest first left one notebook running
# alone at the end (measured on the demo: README, "Performance").
START_ORDER = (
    "02-findings-by-kloe",
    "01-data-quality",
    "05-executive-summary",
    "04-agency-consistency",
    "03-trends",
)


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

    The kernel's own chatter (ipykernel warns at every start that its loopback link is
    unencrypted) goes to ``log``, not the console; a failing cell's error comes back as
    :class:`NotebookFailedError`. With ``html`` (``notebook_to_html``'s ``target``,
    ``title``, ``banner``) the worker exports the page too, while other notebooks still
    run; with ``cache`` the kernel reads the run's loaded cycles from there
    (:mod:`audit_analysis.cache`); with ``pdf`` (:func:`~audit_analysis.pdf.print_to_pdf`'s
    ``target`` and metadata) it prints that page to PDF too, and the note says why not
    when it could not.
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
    if html and pdf:
        from .pdf import print_to_pdf

        printed = print_to_pdf(html["target"], **pdf)
        return Path(source).stem, printed.note
    return Path(source).stem, ""


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
    notes: list[str] = []
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
                    pdf=_executive_pdf(staging, cycle) if spec.executive else None,
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
                    _, note = future.result()  # raises NotebookFailedError
                    notes += [note] if note else []
                    bar.set_postfix_str(futures[future].stem)
                    bar.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        bar.close()
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
        (staging / "index.html").write_text(index_page(cycle, entries, BANNER_QA), encoding="utf-8")
        manifest = {
            "cycle": cycle,
            "parameters": {**parameters, "data_dir": str(data_dir), "output_dir": str(final)},
            "inputs": _inputs(data_dir, [cycle, *compare]),
            "notebooks": {
                spec.stem: _sha256(notebook_dir / f"{spec.stem}.ipynb") for spec in NOTEBOOKS
            },
            "versions": _versions(),
            "pdf": EXECUTIVE_PDF if (staging / EXECUTIVE_PDF).is_file() else None,
            "notes": notes,
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
    for note in notes:  # no browser to print the PDF: the run succeeds, and says so
        log.warning("audit-analysis: %s not written: %s; the HTML is written", EXECUTIVE_PDF, note)
    return final


def _executive_pdf(staging: Path, cycle: str) -> dict:
    """What :func:`~audit_analysis.pdf.print_to_pdf` needs for the Executive Group's PDF,
    written beside its page."""
    from .export import marking_of

    return {
        "target": staging / EXECUTIVE_PDF,
        "title": f"Executive summary: case audit {cycle}",
        "subject": f"Multi-agency case audit {cycle}: the Executive Group's summary",
        "marking": marking_of(BANNER_EXEC),
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
