"""The ``audit-analysis`` command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
from collections.abc import Callable
from pathlib import Path

from audit_analysis.exceptions import AuditDataError, AuditError, RunFailedError
from audit_analysis.io.cycles import normalise_cycle
from audit_analysis.io.text import printable
from audit_analysis.render.labels import good

__all__ = ["build_parser", "main"]


def _say(text: object = "", file=None) -> None:
    """Print, every control character escaped: file names and case references are data,
    and data must not drive the terminal."""
    print(printable(str(text)), file=file or sys.stdout)


def _fail(text: object) -> None:
    _say(f"audit-analysis: {printable(str(text), False)}", file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    from audit_analysis.io.cycles import DataFolder
    from audit_analysis.io.dataset import load_cycle
    from audit_analysis.pipeline.validation import format_report
    from audit_analysis.render.outputs import write_csv

    inputs = DataFolder.scan(args.data)
    for option, path in (
        ("--rejections-csv", args.rejections_csv),
        ("--compliance-csv", args.compliance_csv),
    ):
        if path:  # before anything is read: a log is never written into the inputs
            inputs.refuse_output(path, option)
    data = load_cycle(args.data, args.cycle)
    _say(format_report(data))
    if args.rejections_csv:
        path = _written(write_csv, data.rejections, args.rejections_csv)
        _say(f"\nRejection log written to {path}")
    if args.compliance_csv:
        from audit_analysis.analysis.quality import compliance

        path = _written(write_csv, compliance(data), args.compliance_csv)
        _say(f"\nCompliance table written to {path}")
    return 0


def _written(write, frame, path: str) -> Path:
    """``write(frame, path)``; an OSError (a read-only folder, a full disk) names ``path``."""
    try:
        return write(frame, path)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise AuditDataError(
            f"cannot write the file: {exc.strerror or exc}", file=exc.filename or path
        ) from None


def _templates(args: argparse.Namespace) -> int:
    from audit_analysis.admin.templates import write_templates

    made = write_templates(
        args.data, args.cycle, args.out, agencies=args.agency, cases=args.cases, force=args.force
    )
    for warning in made.warnings:
        _say(f"audit-analysis: warning: {warning}", file=sys.stderr)
    _say(
        f"{len(made.files)} templates for {made.cycle} (template version "
        f"{made.template_version}): {len(made.agencies)} agencies x {len(made.cases)} cases, "
        f"in {made.folder}/<agency>/"
    )
    for path in made.records:
        _say(f"  blank {path.name} in {path.parent}/: fill in and copy to the cycle folder")
    return 0


def _new_cycle(args: argparse.Namespace) -> int:
    from audit_analysis.admin.newcycle import start_cycle

    made = start_cycle(args.data, args.from_cycle, args.to_cycle, force=args.force)
    _say(f"Cycle {made.cycle} started in {made.folder}")
    _say(f"  {made.framework_file}  copied from {made.copied_from}: edit it")
    _say("      (docs/analyst.md#editing-a-framework), keeping each standard's key")
    if made.kept_cases:
        _say(f"  {made.cases_file}  kept: it already lists cases")
    else:
        _say(f"  {made.cases_file}  empty: add the cohort ({', '.join(made.id_columns)})")
        _say(
            f"      or draw it: audit-analysis select-cases --data {args.data} --cycle "
            f"{made.cycle} --candidates <export> --per-priority 8"
        )
    _say(f"  {made.returns_dir}/  empty: returns go here")
    if made.progress_file is not None:
        _say(
            f"  {made.progress_file}  {made.carried} open areas for development and "
            "recommendations: fill in progress and status"
        )
    elif made.carried:
        _say(f"  progress.csv  kept as it was ({made.carried} open items to carry forward)")
    _say(f"Then: audit-analysis templates --data {args.data} --cycle {made.cycle} --out <folder>")
    return 0


def _draft_commentary(args: argparse.Namespace) -> int:
    from audit_analysis.admin.draft import draft_commentary

    made = draft_commentary(args.data, args.cycle, args.out, force=args.force)
    for warning in made.warnings:
        _say(f"audit-analysis: warning: {warning}", file=sys.stderr)
    since = f", changes since {', '.join(made.earlier)}" if made.earlier else ""
    _say(f"Commentary skeleton for {made.cycle} written to {made.path}")
    _say(f"  {len(made.kloes)} KLOEs with their figures as references{since}; the")
    _say("  distinctive phrases and quotes under each are comments for the QA group only")
    return 0


def _select_cases(args: argparse.Namespace) -> int:
    from audit_analysis.admin.selection import CandidateListError, select_cases

    try:
        made = select_cases(
            args.data,
            args.cycle,
            args.candidates,
            args.per_priority,
            seed=args.seed,
            force=args.force,
        )
    except CandidateListError as exc:
        for problem in exc.problems:
            _fail(f"{exc.file}: {problem}")
        raise
    for line in made.shortfalls:
        _say(f"audit-analysis: warning: {line}", file=sys.stderr)
    how = "given" if made.seed_given else "chosen at random: keep it to draw the same cases again"
    _say(f"{made.total_drawn} cases drawn for {made.cycle} with seed {made.seed} ({how})")
    for priority, count in made.drawn.items():
        _say(
            f"  {priority.replace('_', ' ')}: {count} drawn from {made.eligible[priority]} "
            f"eligible, {made.reserves[priority]} on the reserve list"
        )
    _say(f"  {made.cases_file}")
    _say(f"  {made.reserve_file}  (reserves in drawing order, per priority theme)")
    _say(f"  {made.record_file}  (how they were drawn: seed, criteria, counts)")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from audit_analysis.analysis.planning import COHORTS, minimum_detectable_change
    from audit_analysis.io.dataset import load_cycle
    from audit_analysis.sections.trends import detectable_sentence, plan_display, plan_method

    data = load_cycle(args.data, args.cycle)
    plan = minimum_detectable_change(
        data, cohorts=args.cases or COHORTS, agencies=args.agencies or None
    )
    if plan.empty:
        _say(
            f"{data.cycle}: too few cases rated to say what size of change the audit could detect."
        )
        return 0
    _say(f"Planning the next audit from {data.cycle}'s design")
    _say()
    _say(detectable_sentence(plan))
    _say()
    _say(
        "Smallest change detectable between two years, in percentage points (in brackets: "
        "the same for a standard or KLOE whose change is the only one among those compared)"
    )
    _say(plan_display(plan).to_string(index=False))
    _say()
    _say(plan_method(plan))
    return 0


def _run_options(args: argparse.Namespace) -> dict:
    """What the annual run and the case packs take alike from the command line."""
    return {"out": args.out, "workers": args.workers, "progress": not args.quiet}


def _guarded(job: Callable[[], Path], kept: Callable[[RunFailedError], str]) -> Path | None:
    """Run a job that publishes its outputs atomically; on a failed notebook, say what
    failed and what was kept (``kept``), and give None."""
    try:
        return job()
    except RunFailedError as exc:
        _fail(exc)
        _fail(kept(exc))
        return None


def _run(args: argparse.Namespace) -> int:
    from audit_analysis.pipeline.runner import run_annual

    final = _guarded(
        lambda: run_annual(
            args.data,
            args.cycle,
            compare=args.compare,
            min_cell_count=args.min_cell_count,
            strict=args.strict,
            **_run_options(args),
        ),
        lambda exc: (
            "previous outputs were left as they were; the failed run is in "
            f"{exc.folder or Path(args.out) / f'{normalise_cycle(args.cycle)}.failed'}"
        ),
    )
    if final is None:
        return 1
    _say(f"Outputs for {args.cycle} written to {final}")
    _say(f"  {final / 'index.html'}")
    _say(f"  {final / 'executive-summary.html'}  (for the Executive Group)")
    if (final / "executive-summary.pdf").is_file():
        _say(f"  {final / 'executive-summary.pdf'}  (the same, for the meeting pack)")
    return _run_status(final)


EXIT_PROBLEMS = 3
"""``run``'s exit status when the outputs were written but part of the data was not used
(rejections, returns not placed): docs/operator.md, "Exit statuses"."""


def _run_status(final: Path) -> int:
    """Say in one line, quiet or not, what the manifest notes (problems first); 0 when the
    data had no problem, :data:`EXIT_PROBLEMS` when it had."""
    import json

    from audit_analysis.pipeline.validation import PROBLEM_KINDS, summary_line

    manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    notes = manifest.get("notes", [])
    line = summary_line(manifest["cycle"], notes)
    if line:
        _fail(line.replace("manifest.json", str(final / "manifest.json")))
    return EXIT_PROBLEMS if any(n.get("kind") in PROBLEM_KINDS for n in notes) else 0


def _case_packs(args: argparse.Namespace) -> int:
    from audit_analysis.pipeline.runner import run_case_packs

    folder = _guarded(
        lambda: run_case_packs(args.data, args.cycle, cases=args.cases, **_run_options(args)),
        lambda exc: "previous case packs were left as they were",
    )
    if folder is None:
        return 1
    _say(f"OFFICIAL-SENSITIVE case packs written to {folder}")
    for page in sorted(folder.glob("*.html")):
        _say(f"  {page}")
    return 0


def _notebooks(args: argparse.Namespace) -> int:
    from audit_analysis.pipeline.runner import copy_notebooks

    written = copy_notebooks(Path(args.out), force=args.force)
    _say(
        f"Notebooks copied to {args.out} ({len(written)} written; existing ones kept "
        "unless --force)"
    )
    for path in written:
        _say(f"  {path}")
    _say("Open them in JupyterLab and set data_dir in each one's parameters cell.")
    return 0


def _page(args: argparse.Namespace) -> int:
    from audit_analysis.pipeline.runner import notebook_page

    _say(f"Page written to {notebook_page(args.notebook, args.out)}")
    return 0


def _demo_data(args: argparse.Namespace) -> int:
    from audit_analysis.demo import generate, generate_thematic

    summary = generate(Path(args.out), seed=args.seed)
    _say(f"Synthetic demo data written to {args.out}")
    for key, value in summary.items():
        _say(f"  {key}: {value}")
    second = Path(args.thematic_out or f"{args.out.rstrip('/')}-thematic")
    summary = generate_thematic(second)
    _say(f"The second demo partnership (thematic audits, Ofsted grades) written to {second}")
    for key, value in summary.items():
        _say(f"  {key}: {value}")
    return 0


def _positive(text: str) -> int:
    """An argument that is a whole number of at least 1 (``--workers``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not 1 or more")
    return value


def _data_and_cycle(parser, example: str, what: str = "the audit cycle") -> None:
    """The two options most commands take: the data folder and the cycle."""
    parser.add_argument(
        "--data", required=True, help="the data folder holding one folder per cycle"
    )
    parser.add_argument(
        "--cycle",
        required=True,
        help=f"{what}, e.g. {example}, or a thematic audit named YYYY-MM-theme",
    )


def build_parser() -> argparse.ArgumentParser:
    from audit_analysis import __version__

    parser = argparse.ArgumentParser(
        prog="audit-analysis",
        description="A safeguarding partnership's multi-agency case audit, from returns "
        "to findings.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = sub.add_parser(
        "validate",
        help="load a cycle's returns and report what loaded and what was rejected",
        description="Load DATA/<cycle>/ and report, per agency, returns, ratings, template "
        "versions and evidence rate, then every rejection with file, row and reason. Exit "
        "status 0 when the data loaded (rejections are findings), 1 when nothing usable "
        "could be read.",
    )
    validate.add_argument("data", help="the data folder holding one folder per cycle")
    validate.add_argument(
        "--cycle",
        required=True,
        help="the audit cycle, e.g. 2018-19, or a thematic audit named YYYY-MM-theme",
    )
    validate.add_argument(
        "--rejections-csv", metavar="PATH", help="also write the rejection log as CSV"
    )
    validate.add_argument(
        "--compliance-csv",
        metavar="PATH",
        help="also write who returned which case, on which template, with how much "
        "evidence, as CSV (one row per case and agency)",
    )
    validate.set_defaults(func=_validate)

    templates = sub.add_parser(
        "templates",
        help="write the toolkit workbooks the agencies fill in, one per agency per case",
        description="Write one toolkit workbook per agency per case of DATA/<cycle>/cases.csv "
        "to OUT/<agency>/<agency>-<cycle>-<case_ref>.xlsx, from the cycle's framework: "
        "header block filled in, every standard under its KLOE, a Rating drop-down and an "
        "Evidence cell; only the input cells can be changed. The case is named by its "
        "case_ref alone.",
    )
    _data_and_cycle(templates, "2019-20")
    templates.add_argument("--out", required=True, help="where to write the templates")
    templates.add_argument(
        "--agency",
        nargs="+",
        metavar="AGENCY",
        help="only these agencies: code, full name or abbreviation (default: every agency "
        "in the register)",
    )
    templates.add_argument(
        "--cases", nargs="+", metavar="CASE", help="only these case references (C01 C07 ...)"
    )
    templates.add_argument(
        "--force", action="store_true", help="overwrite templates already in OUT"
    )
    templates.set_defaults(func=_templates)

    new_cycle = sub.add_parser(
        "new-cycle",
        help="start the next cycle: its framework to edit, an empty cases.csv, returns/",
        description="Create DATA/<to>/ with framework.yaml (the --from cycle's framework "
        "under the new name, for the QA group to edit), an empty cases.csv with the right "
        "header and an empty returns/ folder. Refuses when the folder already holds "
        "cases.csv or framework.yaml, unless --force (a cases.csv listing cases is kept).",
    )
    new_cycle.add_argument(
        "--data", required=True, help="the data folder holding one folder per cycle"
    )
    new_cycle.add_argument(
        "--from",
        dest="from_cycle",
        required=True,
        help="the audit to copy, e.g. 2018-19 or 2018-10-neglect",
    )
    new_cycle.add_argument(
        "--to",
        dest="to_cycle",
        help="the new audit: a year (YYYY-YY) or a dated theme (YYYY-MM-theme, e.g. "
        "2019-06-neglect); default: the year after --from, which must then be a year",
    )
    new_cycle.add_argument(
        "--force", action="store_true", help="replace an existing framework.yaml"
    )
    new_cycle.set_defaults(func=_new_cycle)

    draft = sub.add_parser(
        "draft-commentary",
        help="write a skeleton of the QA group's commentary, with the evidence's distinctive "
        "phrases as comments",
        description="Write DATA/<cycle>/commentary.md (or --out): every heading the "
        "commentary takes, each KLOE's figures as references ({{ share KEY }}, {{ change "
        "KEY vs CYCLE }}), and under each KLOE, in comments that never reach a page, the "
        "phrases that most distinguish evidence where standards were not or partly met "
        f"from where they were {good()}, with counts and short quotes (case "
        "identifiers shown as [id]). An existing file is kept unless --force.",
    )
    _data_and_cycle(draft, "2018-19")
    draft.add_argument(
        "--out", metavar="FILE", help="where to write (default DATA/<cycle>/commentary.md)"
    )
    draft.add_argument("--force", action="store_true", help="replace an existing commentary")
    draft.set_defaults(func=_draft_commentary)
    select = sub.add_parser(
        "select-cases",
        help="draw the cycle's cases at random from a candidate list, N per priority theme",
        description="Read a candidate list (CSV or XLSX: identifier columns, priority, age, "
        "criteria columns), leave out every child audited in an earlier cycle and every "
        "candidate outside DATA/<cycle>/selection.yaml's criteria, and draw N cases per "
        "priority theme at random. Writes DATA/<cycle>/cases.csv, reserve.csv and "
        "selection_record.yaml; the same file, criteria and seed give the same draw. "
        "Refuses to replace a cases.csv that lists cases, unless --force. "
        "docs/selecting-cases.md explains it.",
    )
    _data_and_cycle(select, "2019-20", what="the cycle to draw for")
    select.add_argument(
        "--candidates", required=True, metavar="FILE", help="the candidate list (.csv or .xlsx)"
    )
    select.add_argument(
        "--per-priority", type=int, required=True, metavar="N", help="cases per priority theme"
    )
    select.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the draw's seed (default: a random one, printed and recorded)",
    )
    select.add_argument(
        "--force", action="store_true", help="replace a cases.csv that already lists cases"
    )
    select.set_defaults(func=_select_cases)

    run = sub.add_parser(
        "run",
        help="the annual run: execute every notebook and export the HTML",
        description="Execute every analysis notebook with papermill for one cycle and write "
        "OUT/<cycle>/: executed notebooks, figures, tables, HTML pages, index.html and a "
        "manifest. Outputs are replaced only when every notebook succeeded. Exit status: 0 "
        "outputs written, the data clean; 3 outputs written, but rows or files were rejected "
        "or returns could not be placed (one line on stderr says so, and the manifest's "
        "notes count each); 1 the run failed or was refused, previous outputs kept.",
    )
    _data_and_cycle(run, "2018-19")
    run.add_argument("--out", default="outputs", help="output folder (default outputs)")
    run.add_argument(
        "--compare",
        nargs="*",
        metavar="CYCLE",
        help="earlier audits to compare (default: the earlier audits in DATA of the same "
        "series: earlier years for a year, earlier audits of its theme for a thematic one)",
    )
    run.add_argument(
        "--min-cell-count",
        type=_positive,
        default=5,
        help="suppress breakdowns resting on fewer cases (default 5)",
    )
    run.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="notebooks run at once (default: one per core)",
    )
    run.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar (the one-line summary of data problems is still printed)",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="refuse to run (exit status 1, outputs left as they were) when any row or "
        "file was rejected",
    )
    run.set_defaults(func=_run)

    packs = sub.add_parser(
        "case-packs",
        help="build the deep dive's case packs (OFFICIAL-SENSITIVE)",
        description="One HTML page per case with every agency's rating of every standard "
        "side by side, disagreements first, and each agency's evidence; written to "
        "OUT/<cycle>/case-packs/, never linked from the executive page. Default cases: "
        "those listed in the cycle's deep_dive.csv.",
    )
    _data_and_cycle(packs, "2018-19")
    packs.add_argument("--cases", nargs="+", metavar="CASE", help="case references (C03 C07 ...)")
    packs.add_argument("--out", default="outputs", help="output folder (default outputs)")
    packs.add_argument("--workers", type=_positive, default=None, help="packs built at once")
    packs.add_argument("--quiet", action="store_true", help="no progress bar")
    packs.set_defaults(func=_case_packs)

    plan = sub.add_parser(
        "plan",
        help="what size of change the audit could detect, for cohort sizes and agencies a case",
        description="From the cycle's case-level design effects, the smallest change "
        "between two years detectable with 80%% power at a two-sided 5%% level, for a "
        "standard, a KLOE and all standards, by cases audited a year and agencies rating "
        "each case, with the method stated.",
    )
    _data_and_cycle(plan, "2018-19")
    plan.add_argument(
        "--cases",
        nargs="+",
        type=int,
        metavar="N",
        help="cohort sizes to show (default 12 24 36 48 72, and this cycle's)",
    )
    plan.add_argument(
        "--agencies",
        nargs="+",
        type=float,
        metavar="A",
        help="agencies rating each case (default 3 6 9, and this cycle's mean)",
    )
    plan.set_defaults(func=_plan)

    notebooks = sub.add_parser(
        "notebooks",
        help="copy the notebooks (the annual ones, the case pack, the explorer) to a folder",
        description="Copy the notebooks shipped with the package to OUT, to open in "
        "JupyterLab. Existing files are kept unless --force.",
    )
    notebooks.add_argument("--out", required=True, help="folder to copy them into")
    notebooks.add_argument("--force", action="store_true", help="replace existing files")
    notebooks.set_defaults(func=_notebooks)

    page = sub.add_parser(
        "page",
        help="turn a notebook papermill executed into the page the annual run would make",
        description="Export NOTEBOOK, executed by papermill directly, as the annual run "
        "exports it: code hidden, the banner and print stylesheet of its readers (the "
        "executive summary's for 05-executive-summary), titled with the cycle it ran for. "
        "No manifest, index or PDF: `audit-analysis run` makes those.",
    )
    page.add_argument("notebook", help="the executed notebook (.ipynb)")
    page.add_argument("--out", help="the page to write (default: NOTEBOOK with .html)")
    page.set_defaults(func=_page)

    demo = sub.add_parser(
        "demo-data",
        help="(re)generate the synthetic demo data",
        description="Write the deterministic synthetic demo data: one partnership's three "
        "annual audits, and a second partnership's three thematic audits on its own scale "
        "(docs/thematic-audits.md). Every name and identifier in it is invented.",
    )
    demo.add_argument("--out", default="data/demo", help="where to write (default data/demo)")
    demo.add_argument(
        "--thematic-out",
        help="where to write the second partnership (default: OUT-thematic, data/demo-thematic)",
    )
    demo.add_argument("--seed", type=int, default=2019, help="random seed (default 2019)")
    demo.set_defaults(func=_demo_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line. Every error a user can cause (their data, a read-only or full
    output folder, a closed pipe) ends it with one line on stderr, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        status = args.func(args)
        sys.stdout.flush()  # a reader that went away (`validate | head`) shows here
        return status
    except AuditError as exc:  # every error a user can cause: one line
        _fail(exc)
        return 1
    except BrokenPipeError:
        # The reader of our output has gone: say nothing more (Python would complain
        # again when it flushes stdout at exit, so stdout now goes nowhere).
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE
    except OSError as exc:
        what = exc.filename or "a file"
        _fail(f"{what}: {exc.strerror or exc}")
        return 1
    except csv.Error as exc:
        _fail(f"a CSV file cannot be read or written: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
