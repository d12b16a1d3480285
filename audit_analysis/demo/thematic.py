"""A second synthetic partnership: thematic audits of a few cases, graded its own way.

EVERYTHING THIS MODULE WRITES IS SYNTHETIC. The partnership, the children, their
identifiers and initials, the auditors and the evidence text are invented; no real
child, family, practitioner or record lies behind any of it.

The first demo (:mod:`audit_analysis.demo.generator`) is one partnership's annual audit
of 24 cases on the built-in Exceeded / Met / Partially met / Not met scale. This one
shows the other way partnerships audit (issue 24): several thematic audits a year of
5 to 8 cases each, graded on Ofsted's four grades, with the partnership's own priority
themes and age bands. ``generate_thematic(out_dir, seed)`` writes:

- ``ratings.yaml`` (the partnership's scale: Outstanding, Good, Requires improvement,
  Inadequate; ``good: [good, outstanding]``) and ``labels.yaml`` (its themes and age
  bands) at the top of ``out_dir``;
- three audits, each with its own ``framework.yaml`` (the same six graded domains,
  so they compare), ``cases.csv`` and ``returns/<agency>/*.xlsx``:

  - ``2019-06-neglect``: 6 neglect cases;
  - ``2019-11-domestic-abuse``: 5 domestic abuse cases, with a draft commentary;
  - ``2020-03-front-door``: 8 contacts and referrals, on a scale the QA group changed
    for that audit to Yes / Partly / No (its own ``ratings.yaml``);

- ``README.md``, saying all of this is synthetic.

The model is the first demo's in small: a latent score per agency, case and domain
(``base + theme shift + case effect + agency bias + noise``) cut into the audit's
grades. The front door is the partnership's strength and impact its weakness. All
randomness comes from ``numpy.random.default_rng(seed)``, so one seed gives
byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from audit_analysis.admin.toolkit import write_toolkit
from audit_analysis.io.frameworks import parse_framework

__all__ = [
    "AUDITS",
    "DOMAINS",
    "PARTNERSHIP",
    "THEMATIC_SEED",
    "Audit",
    "generate_thematic",
]

PARTNERSHIP = "Westmere Safeguarding Children Partnership (synthetic)"
THEMATIC_SEED = 2020


@dataclass(frozen=True)
class Audit:
    name: str  # the audit folder: a year-month and a theme
    theme: str  # the priority theme of every case it audits
    cases: int
    scale: str  # "ofsted" or "yes-partly-no"
    shift: float  # the theme's effect on every latent score


AUDITS = (
    Audit("2019-06-neglect", "neglect", 6, "ofsted", -0.3),
    Audit("2019-11-domestic-abuse", "domestic_abuse", 5, "ofsted", 0.0),
    Audit("2020-03-front-door", "front_door", 8, "yes-partly-no", 0.4),
)

#: The six graded domains, as (KLOE key, title, question, [(standard key, short, text,
#: base)]). ``base`` is the domain's latent level before theme, case and agency.
DOMAINS = (
    (
        "recognition-and-assessment",
        "Recognising and assessing need",
        "Was the child's need recognised early and assessed well?",
        [
            (
                "recognition",
                "Need and risk recognised early",
                "Practitioners recognised the child's needs and the risks to the child early "
                "and acted on them.",
                0.9,
            ),
            (
                "assessment",
                "Assessment of good quality",
                "The assessment is up to date, draws on every agency involved and analyses "
                "what life is like for the child.",
                0.5,
            ),
        ],
    ),
    (
        "planning-and-joint-working",
        "Planning and working together",
        "Did the plan meet the need, and did agencies work together to deliver it?",
        [
            (
                "planning-and-intervention",
                "Plan and help match the need",
                "The plan says who will do what by when, and the help given matches the "
                "child's assessed needs.",
                0.2,
            ),
            (
                "joint-working",
                "Agencies work together",
                "Agencies share information in time, attend the meetings that concern the "
                "child and follow up what they agreed.",
                0.7,
            ),
        ],
    ),
    (
        "impact",
        "The difference made",
        "Did the child's circumstances improve, and how good was practice overall?",
        [
            (
                "impact",
                "The child's life improved",
                "There is evidence that the child's circumstances improved because of the "
                "help given.",
                -0.1,
            ),
            (
                "overall-quality",
                "Overall quality of practice",
                "Taking everything together, the quality of practice for this child.",
                0.4,
            ),
        ],
    ),
)

#: Each scale's ratings.yaml, then (in ``_SCALES``) the words written in returns, worst to
#: best, and the cuts between them on the latent score.
_OFSTED_YAML = """\
# SYNTHETIC DEMO DATA. This partnership grades its audits on Ofsted's four grades
# (docs/own-scale.md). The levels, worst to best; "good" names those counted as a good
# outcome; spellings map the words auditors write to each level.
scale: [inadequate, requires_improvement, good, outstanding]
good: [good, outstanding]
outside_scale: [not_recorded, not_applicable]
labels:
  outstanding: Outstanding
  good: Good
  requires_improvement: Requires improvement
  inadequate: Inadequate
  not_applicable: N/A
  not_recorded: Not recorded
spellings:
  outstanding: [outstanding]
  good: [good]
  requires_improvement: [requires improvement, ri]
  inadequate: [inadequate]
  not_applicable: [n/a, na, not applicable]
"""
_YES_PARTLY_NO_YAML = """\
# SYNTHETIC DEMO DATA. For its front door audit the QA group asked questions answered
# Yes, Partly or No (docs/own-scale.md): this file overrides the partnership's scale for
# this audit only.
scale: ["no", partly, "yes"]
good: ["yes"]
outside_scale: [not_recorded, not_applicable]
labels:
  "yes": "Yes"
  partly: Partly
  "no": "No"
  not_applicable: N/A
  not_recorded: Not recorded
spellings:
  "yes": ["yes", "y"]
  partly: [partly, partially]
  "no": ["no", "n"]
  not_applicable: [n/a, na, not applicable]
"""
_SCALES = {
    "ofsted": (("Inadequate", "Requires improvement", "Good", "Outstanding"), (-0.4, 0.3, 1.6)),
    "yes-partly-no": (("No", "Partly", "Yes"), (-0.2, 0.4)),
}
#: How many top words of each scale its ratings.yaml counts as good (its ``good:``).
_GOOD_LEVELS = {"ofsted": 2, "yes-partly-no": 1}
_LABELS_YAML = """\
# SYNTHETIC DEMO DATA. This partnership's priority themes and age bands
# (docs/thematic-audits.md): cases.csv's priority column is checked against them.
priority:
  neglect: Neglect
  domestic_abuse: Domestic abuse
  child_sexual_abuse: Child sexual abuse
  front_door: The front door
age_band:
  "0-4": Under 5
  "5-11": 5 to 11 years
  "12-17": 12 to 17 years
  "18+": 18 and over
"""

#: Agencies of the package's register that audit a thematic case, with their bias and
#: whether they audit every case (else about half).
_AGENCIES = (
    ("CSC-SW", 0.1, True),
    ("WMP", 0.2, False),
    ("CCG", -0.1, False),
    ("EDU", 0.0, False),
)
_CASE_SD = 0.35
_NOISE_SD = 0.6
_P_NA = 0.04

_EVIDENCE_POS = {
    "recognition": "Concerns were noticed at the first contact and passed on the same day.",
    "assessment": "The assessment was updated after each change and gives the child's view.",
    "planning-and-intervention": "The plan names who does what by when and is reviewed.",
    "joint-working": "Every agency attended the core group and shared its chronology.",
    "impact": "School attendance and the home conditions improved over six months.",
    "overall-quality": "Consistent, child-focused work across the agencies involved.",
}
_EVIDENCE_NEG = {
    "recognition": "Earlier signs were recorded but not acted on for several weeks.",
    "assessment": "The assessment predates the latest incident and omits the father.",
    "planning-and-intervention": "Actions have no owner or date; the plan drifted.",
    "joint-working": "Health was not invited to the strategy discussion.",
    "impact": "No evidence yet that the child's circumstances have changed.",
    "overall-quality": "Practice was reactive and the child's voice is hard to find.",
}

_COMMENTARY = """\
---
status: draft
---

<!-- A synthetic commentary for the second demo partnership. Invented throughout. -->

## Summary

The QA group audited {{ cases }} domestic abuse cases with {{ agencies }} agencies.
With so few cases the figures below are counts of cases, not shares to compare with
other audits; the auditors' evidence and the round table's discussion carry the findings.

## What worked well

- Police notifications reached schools the next morning in every case looked at.
- Agencies knew who the lead professional was and how to reach them.

## What needs to improve

- Plans rarely said what would change for the child, or by when.
- The non-abusing parent's own needs were seldom assessed.

## Conclusions

The group will look again at planning in its spring audit, and asks the partnership's
training lead to add domestic abuse planning to the next multi-agency course.
"""


def _framework_yaml(audit: Audit) -> str:
    kloes = []
    number = 0
    for k, (kloe_key, title, question, standards) in enumerate(DOMAINS, start=1):
        rows = []
        for key, short, text, _ in standards:
            number += 1
            rows.append({"number": number, "key": key, "short": short, "text": text})
        kloes.append(
            {"number": k, "key": kloe_key, "title": title, "question": question, "standards": rows}
        )
    head = (
        f"# SYNTHETIC DEMO DATA: {PARTNERSHIP}.\n"
        "# The framework of this audit: six graded domains under three lines of enquiry,\n"
        "# the same in each of the partnership's thematic audits.\n"
    )
    body = {
        "cycle": audit.name,
        "reconstructed": False,
        "note": "Six graded domains, invented for the second demo partnership.",
        "kloes": kloes,
    }
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=88)


def _cases(audit: Audit, rng: np.random.Generator, first_id: int) -> list[dict[str, str]]:
    rows = []
    letters = "ABCDEFGHJKLMNPRSTW"
    used: set[str] = set()
    for i in range(audit.cases):
        age = int(rng.integers(0, 18))
        while True:
            initials = "".join(letters[int(j)] for j in rng.integers(0, len(letters), size=2))
            if initials not in used:
                used.add(initials)
                break
        rows.append(
            {
                "case_ref": f"T{i + 1:02d}",
                "priority": audit.theme,
                "age": str(age),
                "carefirst_id": str(first_id + i),
                "tribal_id": f"TR-8{first_id % 1000 + i:04d}" if 4 <= age <= 16 else "",
                "initials": initials,
            }
        )
    return rows


def _write_cases(path: Path, rows: list[dict[str, str]]) -> None:
    header = ("case_ref", "priority", "age", "carefirst_id", "tribal_id", "initials")
    lines = [",".join(header)] + [",".join(r[h] for h in header) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def _grade(z: float, scale: str) -> str:
    words, cuts = _SCALES[scale]
    return words[int(np.searchsorted(np.asarray(cuts), z, side="right"))]


def _write_audit(folder: Path, audit: Audit, rng: np.random.Generator, first_id: int) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    framework_text = _framework_yaml(audit)
    (folder / "framework.yaml").write_bytes(framework_text.encode("utf-8"))
    fw = parse_framework(yaml.safe_load(framework_text), str(folder / "framework.yaml"))
    if audit.scale != "ofsted":
        (folder / "ratings.yaml").write_bytes(_YES_PARTLY_NO_YAML.encode("utf-8"))
    cases = _cases(audit, rng, first_id)
    _write_cases(folder / "cases.csv", cases)
    effects = rng.normal(0.0, _CASE_SD, size=len(cases))
    bases = {key: b for *_, standards in DOMAINS for key, _, _, b in standards}
    year, month = int(audit.name[:4]), int(audit.name[5:7])
    returns = 0
    for agency, bias, every in _AGENCIES:
        for case, effect in zip(cases, effects, strict=True):
            if agency == "EDU" and case["tribal_id"] == "":
                continue  # not of school age
            if not every and rng.random() < 0.5:
                continue
            rows: dict[int, tuple[str | None, str | None]] = {}
            for std in fw.standards:
                if rng.random() < _P_NA:
                    rows[std.number] = ("N/A", None)
                    continue
                z = bases[std.key] + audit.shift + effect + bias + rng.normal(0.0, _NOISE_SD)
                word = _grade(z, audit.scale)
                words = _SCALES[audit.scale][0]
                good = words.index(word) >= len(words) - _GOOD_LEVELS[audit.scale]
                bank = _EVIDENCE_POS if good else _EVIDENCE_NEG
                rows[std.number] = (word, bank[std.key])
            ident = case["tribal_id"] if agency == "EDU" else case["carefirst_id"]
            id_type = "Tribal ID" if agency == "EDU" else "CareFirst ID"
            write_toolkit(
                folder / "returns" / agency / f"{agency} {ident}.xlsx",
                fw,
                agency=agency,
                case_id=ident,
                case_id_type=id_type,
                audit_cycle=audit.name,
                template_version=audit.name,
                auditor=f"Auditor {agency[0]} (synthetic)",
                date_completed=dt.date(year, month, 1) + dt.timedelta(days=int(rng.integers(20))),
                rows=rows,
                title=f"{PARTNERSHIP}: thematic audit {audit.name}",
            )
            returns += 1
    if audit.theme == "domestic_abuse":
        (folder / "commentary.md").write_bytes(_COMMENTARY.encode("utf-8"))
    return {"cases": len(cases), "returns": returns, "scale": audit.scale}


def _readme(seed: int, summary: dict) -> str:
    lines = [
        f"# {PARTNERSHIP}: SYNTHETIC demo data",
        "",
        "Everything in this folder is invented: the partnership, the children, their",
        "identifiers and initials, the auditors and the evidence text. No real child,",
        "family, practitioner or record lies behind any of it. Written by",
        f"`audit-analysis demo-data` (seed {seed}); see docs/thematic-audits.md.",
        "",
        "A partnership that runs thematic audits of a few cases, graded on Ofsted's four",
        "grades (`ratings.yaml`), with its own themes and age bands (`labels.yaml`):",
        "",
    ]
    for audit in AUDITS:
        s = summary[audit.name]
        scale = "Yes / Partly / No (its own ratings.yaml)" if s["scale"] != "ofsted" else "Ofsted"
        lines.append(f"- `{audit.name}`: {s['cases']} cases, {s['returns']} returns, {scale}")
    lines.append("")
    return "\n".join(lines)


def generate_thematic(out_dir: Path, seed: int = THEMATIC_SEED) -> dict:
    """Write the second demo partnership under ``out_dir``.

    Removes ``out_dir``'s three audit folders, ``ratings.yaml``, ``labels.yaml`` and
    ``README.md`` first (nothing else). Returns per audit its cases, returns and scale."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for audit in AUDITS:
        if (out_dir / audit.name).is_dir():
            shutil.rmtree(out_dir / audit.name)
    for name in ("ratings.yaml", "labels.yaml", "README.md"):
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / "ratings.yaml").write_bytes(_OFSTED_YAML.encode("utf-8"))
    (out_dir / "labels.yaml").write_bytes(_LABELS_YAML.encode("utf-8"))
    root = np.random.default_rng(seed)
    summary = {}
    for i, (audit, rng) in enumerate(zip(AUDITS, root.spawn(len(AUDITS)), strict=True)):
        summary[audit.name] = _write_audit(out_dir / audit.name, audit, rng, 810000 + 100 * i)
    (out_dir / "README.md").write_bytes(_readme(seed, summary).encode("utf-8"))
    return {"seed": seed, "audits": summary}
