"""Audit return templates: the toolkit workbooks the agencies fill in, one per agency per
case, written from the same framework that reads the returns back.

A template is a toolkit workbook (docs/data-contract.md, form 1) written by
:func:`audit_analysis.admin.toolkit.write_toolkit` as a form (:class:`~audit_analysis.admin.toolkit.
FormOptions`): its header block names the agency, the case by its audit reference
(``case_ref``, with ``Case ID type: case_ref``), the audit cycle and the template version
(the framework whose numbering it uses), and leaves the auditor and the date blank; the
standards table lists every standard under its KLOE with its full wording, a Rating cell
with a drop-down of the rating words and an Evidence cell. Only those input cells can be
changed. No identifier other than ``case_ref`` is ever written: templates travel by email.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audit_analysis.admin.toolkit import FormOptions, write_toolkit
from audit_analysis.exceptions import AuditDataError, RejectionCode
from audit_analysis.io.agencies import agency_codes, resolve_agency
from audit_analysis.io.cycles import DataFolder, normalise_cycle
from audit_analysis.io.dataset import find_cycle_folder, read_cases
from audit_analysis.io.frameworks import Framework, load_framework
from audit_analysis.io.ratings import BUILTIN, NOT_APPLICABLE, Scale, scale_for
from audit_analysis.io.records import RECORDS_FOLDER, write_blank_records
from audit_analysis.io.text import identifier_key
from audit_analysis.paths import inside, owner_only, safe_name
from audit_analysis.render.labels import agency_name

__all__ = [
    "CASE_ID_TYPE",
    "EVIDENCE_NEEDED",
    "RATING_CHOICES",
    "evidence_needed",
    "rating_choices",
    "TemplateSet",
    "template_form",
    "template_path",
    "write_template",
    "write_templates",
]

#: The Rating drop-down, best to worst, then N/A. Each parses with
#: :func:`audit_analysis.io.ratings.parse_rating` (a test keeps it so).
RATING_CHOICES: tuple[str, ...] = ("Exceeded", "Met", "Partially met", "Not met", "N/A")
#: Ratings that need evidence (the report's section 2.3.4: a bare "met" cannot be checked).
EVIDENCE_NEEDED: tuple[str, ...] = ("Exceeded", "Met")


def rating_choices(scale: Scale = BUILTIN) -> tuple[str, ...]:
    """The Rating drop-down on ``scale``: its levels' words best first, then N/A
    (:data:`RATING_CHOICES` on the built-in scale). Each parses with ``scale.parse``."""
    return (*(scale.label(c) for c in scale.best_first), scale.label(NOT_APPLICABLE))


def evidence_needed(scale: Scale = BUILTIN) -> tuple[str, ...]:
    """The ratings that need evidence: the scale's good levels, best first."""
    return tuple(scale.label(c) for c in reversed(scale.good))


#: The one identifier a template carries: the audit's own case reference.
CASE_ID_TYPE = "case_ref"
#: Sheet protection guards against slips, not people, so it has no password: Review >
#: Unprotect Sheet lifts it.
PASSWORD: str | None = None

GUIDANCE_ROW = (
    "How to fill this in: choose a rating for every standard from the drop-down in its "
    "yellow Rating cell ({words}). A rating of {needs} needs evidence: write in the "
    "Evidence cell what in the record shows it, since a bare '{bare}' cannot be checked. Use "
    "N/A only where the standard could not apply, and say why. Only the yellow cells can "
    "be changed."
)


@dataclass(frozen=True)
class TemplateSet:
    """What :func:`write_templates` wrote."""

    cycle: str
    template_version: str
    folder: Path
    files: list[Path]
    agencies: list[str]
    cases: list[str]
    warnings: list[str] = field(default_factory=list)
    records: list[Path] = field(default_factory=list)


def template_form(
    framework: Framework, agency: str, case_ref: str, cycle: str, scale: Scale = BUILTIN
) -> FormOptions:
    """The form options of the template for ``agency`` (a code) and ``case_ref``, its
    drop-down, guidance and validation list on ``scale`` (docs/own-scale.md)."""
    name = agency_name(agency)
    choices, needed = rating_choices(scale), evidence_needed(scale)
    words = ", ".join(choices[:-1]) + " or " + choices[-1]
    needs = " or ".join(needed)
    bare = scale.good_short if "good_short" in scale.words else needed[-1]
    shows = (
        f"shows the standard is {scale.good_short}"
        if "good_short" in scale.words
        else f"supports a rating of {needs}"
    )
    return FormOptions(
        rating_words=choices,
        evidence_words=needed,
        guidance_row=GUIDANCE_ROW.format(words=words, needs=needs, bare=bare.lower()),
        guidance=(
            "Guidance for auditors",
            f"This toolkit is {name}'s audit of case {case_ref} in the {cycle} multi-agency "
            "case audit. Name the case only by this reference: write no other identifier, "
            "name or initials of the child or family anywhere in the workbook.",
            "Fill in your name and the date completed at the top of the Audit sheet.",
            f"For each standard choose a rating from the drop-down: {words}. A blank rating "
            "is counted as not recorded.",
            f"A rating of {needs} needs evidence: say what in the record {shows}, "
            "so that the QA group can check it (a highlighted Evidence "
            "cell is still waiting for it). Evidence for a lower rating helps too.",
            "Use N/A only where the standard could not apply to this case, and say why.",
            f"Do not change the agency, the case, the audit cycle or the template version "
            f"({framework.cycle}): they tell the analysis how to read your return.",
            "Only the yellow cells can be changed. The sheet is protected against slips, "
            "with no password; rows can be made taller to show long evidence.",
            "Return the completed workbook to the audit co-ordinator by secure email by "
            "the agreed date.",
        ),
        footer=f"{agency} | case {case_ref} | {cycle} audit | template {framework.cycle}",
        password=PASSWORD,
    )


def template_path(out: str | Path, agency: str, cycle: str, case_ref: str) -> Path:
    """Where the template for ``agency`` and ``case_ref`` goes:
    ``OUT/<agency>/<agency>-<cycle>-<case_ref>.xlsx``, so it still says whose it is when
    it travels alone as an email attachment. Each part is a :func:`~audit_analysis.paths.
    safe_name`, and the path is refused if it would leave ``out``."""
    agency = safe_name(agency)
    name = f"{agency}-{safe_name(cycle)}-{safe_name(case_ref)}.xlsx"
    inside(out, agency, name)
    return Path(out) / agency / name


def _unwritable(framework: Framework, refs: Sequence[str], codes: Sequence[str]) -> str | None:
    """The first text a workbook cannot hold (control characters), named; else None.
    Checked before any template is written, so a bad text never leaves half a set."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    texts = [(f"case_ref {r!r}", r) for r in refs]
    texts += [(f"agency {c}", agency_name(c)) for c in codes]
    for kloe in framework.kloes:
        texts += [(f"KLOE {kloe.number}", f"{kloe.title} {kloe.question}")]
        texts += [(f"standard {s.number}", s.text) for s in kloe.standards]
    for what, text in texts:
        if ILLEGAL_CHARACTERS_RE.search(str(text)):
            return what
    return None


def write_template(
    path: str | Path,
    framework: Framework,
    *,
    agency: str,
    case_ref: str,
    cycle: str,
    scale: Scale = BUILTIN,
) -> Path:
    """Write one template: ``agency`` is a register code, ``case_ref`` the case's audit
    reference, ``cycle`` the audit cycle; ``framework`` gives the standards and the
    template version."""
    return write_toolkit(
        path,
        framework,
        agency=agency_name(agency),
        case_id=case_ref,
        case_id_type=CASE_ID_TYPE,
        audit_cycle=cycle,
        template_version=framework.cycle,
        title=f"Multi-agency case audit {cycle}: toolkit",
        form=template_form(framework, agency, case_ref, cycle, scale),
    )


def _resolve_agencies(names: Sequence[str] | None) -> list[str]:
    if not names:
        return agency_codes()
    codes = []
    for name in names:
        code = resolve_agency(name)
        if code is None:
            raise AuditDataError(
                f"unknown agency {name!r}; name it by a code, full name or abbreviation from "
                "the agency register (codes: " + ", ".join(agency_codes()) + ")"
            )
        if code not in codes:
            codes.append(code)
    order = {c: i for i, c in enumerate(agency_codes())}
    return sorted(codes, key=lambda c: order.get(c, len(order)))


def _select_cases(cohort: list[str], wanted: Sequence[str] | None) -> list[str]:
    if not wanted:
        return cohort
    by_key = {identifier_key(ref): ref for ref in cohort}
    chosen = []
    for ref in wanted:
        found = by_key.get(identifier_key(ref))
        if found is None:
            raise AuditDataError(f"case {ref!r} is not in cases.csv (its case_ref column)")
        if found not in chosen:
            chosen.append(found)
    return chosen


def write_templates(
    data_dir: str | Path,
    cycle: str,
    out: str | Path,
    *,
    agencies: Sequence[str] | None = None,
    cases: Sequence[str] | None = None,
    force: bool = False,
) -> TemplateSet:
    """One template per agency per case of ``DATA/<cycle>/cases.csv``, under ``out``.

    ``agencies`` are names the agency register resolves (default: every agency in it);
    ``cases`` are case references (default: the whole cohort). Raises
    :class:`~audit_analysis.exceptions.AuditDataError` for an unknown agency or case,
    a cycle with no folder, ``cases.csv`` or framework, an ``out`` inside the cycle's
    returns folder (blank templates there would be read as returns), or files already
    in ``out`` that would be overwritten without ``force``. Rows of ``cases.csv`` the
    loader would leave out are left out here too, each named in ``warnings``.
    """
    cycle = normalise_cycle(cycle)
    data_dir = Path(data_dir)
    # Before anything else: blank templates in or around a cycle's folder would be read
    # as returns, or overwrite them.
    DataFolder.scan(data_dir).refuse_output(out)
    codes = _resolve_agencies(agencies)
    folder = find_cycle_folder(data_dir, cycle)
    framework = load_framework(cycle, data_dir)
    scale = scale_for(data_dir, folder)  # the partnership's own scale, if it has one
    problems: list[dict] = []
    cohort, _ = read_cases(folder, problems)
    warnings = [
        f"cases.csv row {p['source_row']}: {p['reason']}"
        for p in problems
        if p["code"] == RejectionCode.CASE_LEFT_OUT
    ]
    refs = _select_cases(list(cohort["case_ref"]), cases)
    if not refs:
        raise AuditDataError(
            "cases.csv lists no cases: add the cohort first (or draw it: select-cases)",
            file=str(folder),
        )

    out = Path(out)
    bad = _unwritable(framework, refs, codes)
    if bad is not None:
        raise AuditDataError(
            f"{bad} holds a control character that a workbook cannot hold; no template was written",
            file=framework.source or None,
        )
    targets = {(code, ref): template_path(out, code, cycle, ref) for code in codes for ref in refs}
    if len(set(targets.values())) < len(targets):
        raise AuditDataError(
            "two case references give the same file name; make case_ref values differ "
            "in more than punctuation",
            file=str(folder / "cases.csv"),
        )
    existing = sorted(p for p in targets.values() if p.exists())
    if existing and not force:
        raise AuditDataError(
            f"{len(existing)} template file(s) already exist (first: {existing[0]}); "
            "pass --force to overwrite them",
            file=str(out),
        )
    with owner_only():  # a template names its case: owner-only on disk (0600, 0700)
        files = [
            write_template(path, framework, agency=code, case_ref=ref, cycle=cycle, scale=scale)
            for (code, ref), path in targets.items()
        ]
        records = write_blank_records(inside(out, RECORDS_FOLDER), force=force)
    return TemplateSet(
        cycle=cycle,
        template_version=framework.cycle,
        folder=out,
        files=files,
        agencies=codes,
        cases=refs,
        warnings=warnings,
        records=records,
    )
