"""Builders for small synthetic cycles. Every identifier here is invented."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from audit_analysis.pipeline.runner import skip_iri_grammar

skip_iri_grammar()  # as the annual run does: the test modules import jsonschema (nbformat)

# Debian's chromium package, driven by playwright (never ``playwright install``).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """Modules with a slow test first, then those with an end-to-end one, then the rest;
    each module's tests kept together and in their order. Under xdist (``make test``, one
    module per worker at a time, in this order) the longest modules start first instead
    of leaving one worker busy at the end. No test depends on the order."""

    def module(item) -> str:
        return item.nodeid.split("::", 1)[0]

    rank: dict[str, int] = {}
    for item in items:
        tier = 0 if item.get_closest_marker("slow") else 1 if item.get_closest_marker("e2e") else 2
        rank[module(item)] = min(rank.get(module(item), 2), tier)
    items.sort(key=lambda item: rank[module(item)])  # stable: order within a tier kept


def needs_chromium(what: str):
    """Skip a test module when no Chromium is on PATH."""
    return pytest.mark.skipif(
        CHROMIUM is None,
        reason=f"no chromium on PATH: install Debian's chromium package (.ci/run does) to run "
        f"the {what} test",
    )


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by playwright: one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


CASES_HEADER = ["case_ref", "priority", "age", "CareFirst ID", "tribal_id", "initials"]
CASES = [
    ["C01", "early_help", "4", "900101", "TR-101", "AB"],
    ["C02", "neglect", "9", "900102", "TR-102", "JS"],
    ["C03", "exploitation", "15", "900103", "TR-103", "JS"],
    ["C04", "exploitation", "16", "", "TR-104", "KM"],
]


def write_cases(folder: Path, rows=None, header=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cases.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header or CASES_HEADER)
        writer.writerows(CASES if rows is None else rows)
    return path


def write_toolkit(
    path: Path,
    rows,
    *,
    header=None,
    agency="WMP",
    case_id="C01",
    case_id_type=None,
    template_version=None,
    audit_cycle=None,
    table_header=("KLOE", "Standard", "Wording", "Rating", "Evidence"),
    title_rows=2,
    label_col=2,
    sheet_title="Audit",
    extra_sheets=("Guidance",),
) -> Path:
    """A toolkit workbook. ``rows`` are (standard, rating, evidence) tuples, or None for a
    blank row; standard/rating/evidence go under the Standard/Rating/Evidence headings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    for name in extra_sheets:
        guide = wb.create_sheet(name, 0)
        guide["A1"] = "Guidance: rate each standard. Standard Rating"  # not a table
    ws = wb.active if not extra_sheets else wb.create_sheet(sheet_title)
    ws.title = sheet_title
    r = 1
    for _ in range(title_rows):
        ws.cell(r, 1, "Multi-agency case audit toolkit (synthetic test)")
        r += 1
    labels = (
        header
        if header is not None
        else [
            ("Agency:", agency),
            ("Case ID", case_id),
            ("Case ID type:", case_id_type),
            ("Audit cycle", audit_cycle),
            ("Template version", template_version),
            ("Auditor", "Test Auditor"),
        ]
    )
    for label, value in labels:
        ws.cell(r, label_col, label)
        if value is not None:
            ws.cell(r, label_col + 2, value)  # a gap: value is the next non-empty cell
        r += 1
    r += 1
    if table_header:
        for j, heading in enumerate(table_header, start=1):
            ws.cell(r, j, heading)
        r += 1
    positions = {h.casefold(): j for j, h in enumerate(table_header or (), start=1)}
    col_std = positions.get("standard", 2)
    col_rating = next(
        (positions[k] for k in ("rating", "judgement", "outcome") if k in positions), 4
    )
    col_ev = next(
        (positions[k] for k in ("evidence", "comments", "rationale") if k in positions), 5
    )
    for item in rows:
        if item is not None:
            standard, rating, evidence = (tuple(item) + (None, None))[:3]
            if standard is not None:
                ws.cell(r, col_std, standard)
            if rating is not None:
                ws.cell(r, col_rating, rating)
            if evidence is not None:
                ws.cell(r, col_ev, evidence)
        r += 1
    wb.save(path)
    return path


def write_bulk_csv(path: Path, header, rows, encoding="utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def cycle_dir(tmp_path: Path) -> Path:
    """``tmp/data/2018-19`` with the small cohort above and an empty returns folder."""
    folder = tmp_path / "data" / "2018-19"
    write_cases(folder)
    (folder / "returns").mkdir()
    return folder


def shared(request: pytest.FixtureRequest, name: str, build):
    """``build(folder)`` once for the whole test run: ``(folder, what it returned)``, the
    latter a JSON value.

    Without xdist that is once per session, in a folder of this session. Under xdist
    (``make test`` runs ``pytest -n``) every worker is a session of its own: the first
    worker to ask builds it in the folder all workers share (the parent of their
    temporary folders, as pytest-xdist's documentation suggests), under a file lock;
    the others wait for it and read what it wrote. A build that failed leaves no marker,
    so the next worker to ask builds it afresh (and fails the same way, saying why)."""
    tmp_path_factory = request.getfixturevalue("tmp_path_factory")
    # an xdist worker has workerinput (what pytest-xdist's is_xdist_worker checks); not the
    # environment, which a pytest started by a test would inherit
    if not hasattr(request.config, "workerinput"):
        folder = tmp_path_factory.mktemp(name)
        return folder, build(folder)
    from filelock import FileLock

    common = tmp_path_factory.getbasetemp().parent
    folder, marker = common / name, common / f"{name}.json"
    with FileLock(str(common / f"{name}.lock")):
        if marker.is_file():
            return folder, json.loads(marker.read_text(encoding="utf-8"))
        shutil.rmtree(folder, ignore_errors=True)  # what a failed build left
        folder.mkdir()
        value = build(folder)
        marker.write_text(json.dumps(value), encoding="utf-8")
        return folder, value


@pytest.fixture(scope="session")
def study(request):
    """A small three-cycle study of our own (tests/study.py): (root, case refs). Built
    once for the whole run (see :func:`shared`): no test may write into it."""
    from study import build_study

    def build(root: Path) -> dict[str, list[str]]:
        return build_study(root / "data")

    return shared(request, "study", build)


@pytest.fixture(scope="session")
def run(request, study):
    """The annual run on the study's 2019-20 cycle: (output folder, case refs). Made once
    for the whole run: a test that runs again must do so into a copy."""
    from audit_analysis.pipeline.runner import run_annual

    root, refs = study

    def build(_: Path) -> str:
        return str(run_annual(root / "data", "2019-20", out=root / "out", progress=False))

    return Path(shared(request, "run", build)[1]), refs


@pytest.fixture(scope="session")
def packs(request, run, study):
    """Case packs for the study's flagged cases, built after the annual run, beside it."""
    from audit_analysis.pipeline.runner import run_case_packs

    root, _ = study

    def build(_: Path) -> str:
        return str(run_case_packs(root / "data", "2019-20", out=root / "out", progress=False))

    return Path(shared(request, "packs", build)[1])


@pytest.fixture(autouse=True)
def _package_words_after_each_test():
    """The scale whose words the pages show and the themes in use are process state (set
    by loading a cycle, or by a session): put the built-in ones back after each test, so
    a test on a partnership's own scale or themes never changes another test's words."""
    yield
    from audit_analysis.io.labels import activate, package_labels
    from audit_analysis.io.ratings import BUILTIN
    from audit_analysis.render.labels import show_scale

    show_scale(BUILTIN)
    activate(package_labels())


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
