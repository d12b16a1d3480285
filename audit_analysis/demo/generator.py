"""Synthetic demo data: three audit cycles of invented audit returns.

EVERYTHING THIS MODULE WRITES IS SYNTHETIC. The children, their identifiers and
initials, the auditors and the evidence text are invented; no real child, family,
practitioner or record lies behind any of it. The data exist so that the suite can be
demonstrated and tested end to end on something shaped like a real audit: the
Solihull LSCB multi-agency case audit of 2018-19 (the reference report) and the two
cycles before it.

``generate(out_dir, seed)`` writes ``out_dir/<cycle>/cases.csv`` and
``out_dir/<cycle>/returns/...`` for 2016-17, 2017-18 and 2018-19, plus
``out_dir/README.md``. All randomness comes from ``numpy.random.default_rng(seed)``
(one child generator per cycle), so the same seed gives byte-identical files.

The model
---------
*Cohort.* Each cycle audits 24 cases, ``C01``-``C24``: ``C01``-``C08`` early help,
``C09``-``C16`` neglect, ``C17``-``C24`` exploitation (report 2.2.3: 8 per priority).
In 2018-19 the ages are exactly the report's table in 2.2.3; the eight oldest go to
exploitation (report 2.3.7: that cohort are teenagers) and the other sixteen are
shuffled between early help and neglect. Earlier cycles draw plausible ages (0-15 for
early help and neglect, 12-21 for exploitation). Identifiers are invented:
``carefirst_id`` six digits from 900000 (blank for a few early-help children never known
to social care), ``tribal_id`` ``TR-9xxxx`` for children aged 3-18 (blank otherwise),
``initials`` two letters, unique except that in 2018-19 ``C05`` and ``C17`` are both
``JS``.

*Which agency audits which case.* Children's Social Care Early Help audits every early
help case and one neglect case stepped down to early help; Social Work audits the other
neglect and all exploitation cases; Education audits every child aged 4-16; the other
agencies audit a fixed number of cases each, drawn with weights that follow their
work (police mostly exploitation, addiction services mostly neglect, young carers aged
8-18, probation a few cases where a parent is on their caseload). About six agencies
per case, roughly 145 returns per cycle.

*Case IDs.* Each agency names a case in its own scheme (report 2.3.5): Social Care by
CareFirst ID, Education by Tribal ID, others by initials or CareFirst ID, some with no
``Case ID type`` at all. An agency whose scheme is initials uses the CareFirst ID for
the two children who share initials, except one deliberate slip (see quirks).

*Ratings.* For each agency, case and standard a latent score is drawn::

    z = base(cycle, standard key) + case effect + agency bias + adjustment + noise

``base`` is set per standard *key* (so renumbering is the framework's business) as its
2018-19 value minus a yearly step for each earlier cycle: most standards improve year
on year; SMART plans (``smart-plans``) and dispute resolution
(``dispute-procedure-known``, ``dispute-resolved-in-line``) stay weaker, and consent
being explained (``consent-explained``) stays flat (report 3.2.2). Case effects are
centred normal (sd 0.35); agency biases are fixed (an auditor who accepts a standard as
met on the practitioner's word rates higher, report 2.3.4); adjustments lower
intervention outcomes for exploitation cases (report 3.5.1) and voice-of-the-child
standards for adult-facing agencies (Appendix II). The noise (sd 0.7) is large so that
agencies partly disagree on the same case and standard (report 2.3.5). ``z`` is cut
into unmet < 0 <= partially met < 0.3 <= met < 1.9 <= exceeded; only the agencies
whose style has "partially met" use it (so it is rare), the others read the middle band
by its midpoint, and yes/no agencies cannot record "exceeded". Before rating,
``dispute-resolved-in-line`` is N/A in most returns (no dispute arose),
``referral-feedback`` sometimes (no referral was made), and an occasional rating is
left blank. Each agency writes ratings in its own spelling; evidence is a short
invented sentence per standard, written for most ratings except by CRC.

*Quirks.* Deliberate problems a loader must handle are listed, with their files, in the
generated README and in :func:`generate`'s summary.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audit_analysis.admin.toolkit import normalise_zip, write_bulk_csv, write_toolkit
from audit_analysis.demo.commentary import COMMENTARY
from audit_analysis.io.frameworks import Framework, load_framework

__all__ = [
    "ADULT_FACING",
    "AGENCY_BIAS",
    "AGENCY_NAMES",
    "AGENCY_ORDER",
    "AGES_2018_19",
    "BASE_2018_19",
    "CASES_COLUMNS",
    "CANDIDATES_FILE",
    "CANDIDATES_PER_PRIORITY",
    "CANDIDATE_COLUMNS",
    "CASES_PER_PRIORITY",
    "CRITERIA_EXAMPLE",
    "ELIGIBLE_2018_19",
    "CASE_SD",
    "CYCLES",
    "Case",
    "DEEP_DIVE",
    "DEFAULT_EVIDENCE_RATE",
    "DEVELOPMENT_AREAS",
    "EVIDENCE",
    "EVIDENCE_RATE",
    "EXCEEDED_EXTRA",
    "FAMILY_FEEDBACK",
    "GENERIC_NA",
    "LEARNING_EVENT",
    "NEXT_CYCLE",
    "NOISE_SD",
    "NOTE_ROW",
    "PRIORITIES",
    "PROGRESS",
    "P_BLANK",
    "RECOMMENDATIONS",
    "REPORT_AGES",
    "REPORT_AGE_COUNTS",
    "SCHEMES",
    "SHARED_INITIALS",
    "STYLES",
    "UNKNOWN_AGENCY",
    "UNKNOWN_RATING",
    "WEIGHTED",
    "base",
    "case_id_for",
    "generate",
    "involvement",
    "make_cases",
    "rate",
]


CYCLES = ("2016-17", "2017-18", "2018-19")
PRIORITIES = ("early_help", "neglect", "exploitation")
CASES_PER_PRIORITY = 8
#: Report 2.2.3: the ages of the 24 children audited in 2018-19 (the table's two rows).
REPORT_AGES = (2, 4, 5, 7, 11, 12, 13, 14, 15, 16, 17, 18, 21)
REPORT_AGE_COUNTS = (2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 3, 1, 1)
AGES_2018_19 = dict(zip(REPORT_AGES, REPORT_AGE_COUNTS, strict=True))
#: The two 2018-19 children who share initials.
SHARED_INITIALS = ("C05", "C17", "JS")
CASES_COLUMNS = ("case_ref", "priority", "age", "carefirst_id", "tribal_id", "initials")

# --- the ratings model -----------------------------------------------------------------
#: Latent base of each standard in 2018-19, and how much lower it was one cycle earlier.
BASE_2018_19: dict[str, tuple[float, float]] = {
    "threshold-guidance": (1.20, 0.30),
    "consent-requirement": (0.95, 0.25),
    "consent-explained": (0.80, 0.00),
    "referral-feedback": (0.95, 0.35),
    "partners-engaged": (1.00, 0.30),
    "sharing-protocols": (1.15, 0.25),
    "meeting-contribution": (0.90, 0.25),
    "meeting-record": (0.90, 0.30),
    "life-of-the-child": (0.90, 0.30),
    "wishes-and-feelings": (0.80, 0.30),
    "diversity-and-disability": (0.95, 0.25),
    "voice-shapes-intervention": (0.70, 0.30),
    "smart-plans": (0.20, 0.20),
    "roles-in-complex-cases": (0.60, 0.00),
    "interventions-assessed": (0.75, 0.25),
    "evidence-based-tools": (0.80, 0.35),
    "action-on-deterioration": (0.85, 0.25),
    "disguised-compliance": (0.70, 0.25),
    "child-central-in-supervision": (1.00, 0.25),
    "supervision-frequency": (1.10, 0.35),
    "reflective-supervision": (0.80, 0.25),
    "management-oversight": (0.95, 0.25),
    "dispute-procedure-known": (0.30, 0.20),
    "dispute-resolved-in-line": (-0.10, 0.10),
}
AGENCY_BIAS = {
    "CCG": 0.10,
    "BSMHF": -0.10,
    "CRC": 0.35,
    "EDU": 0.20,
    "CSC-EH": 0.05,
    "CSC-SW": 0.00,
    "SIAS": 0.00,
    "SWFT": 0.15,
    "NPS": -0.05,
    "SCH": -0.25,
    "UHB": -0.10,
    "VCS": 0.20,
    "WMP": -0.20,
}
ADULT_FACING = ("NPS", "CRC", "SIAS", "SCH")
CASE_SD = 0.35
NOISE_SD = 0.70
CUT_UNMET, CUT_PARTIAL, CUT_EXCEEDED = 0.0, 0.3, 1.9
P_BLANK = 0.01

# --- how each agency writes ------------------------------------------------------------
#: Spellings per category; "scale" says which categories the agency can express.
STYLES: dict[str, dict] = {
    "CSC-EH": {
        "scale": 3,
        "exceeded": ["Exceeded"],
        "met": ["Met", "met"],
        "unmet": ["Not met"],
        "na": ["N/A"],
    },
    "CSC-SW": {
        "scale": 4,
        "exceeded": ["Exceeded"],
        "met": ["Met"],
        "partially_met": ["Partially met"],
        "unmet": ["Not Met"],
        "na": ["N/A"],
    },
    "EDU": {
        "scale": 3,
        "exceeded": ["Standard exceeded"],
        "met": ["Standard met"],
        "unmet": ["Standard not met"],
        "na": ["Not applicable"],
    },
    "CCG": {
        "scale": 3,
        "exceeded": ["Exceeded"],
        "met": ["Met"],
        "unmet": ["Not-Met"],
        "na": ["N/A"],
    },
    "SWFT": {
        "scale": 4,
        "exceeded": ["Exceeds"],
        "met": ["Met", "met."],
        "partially_met": ["Partly met"],
        "unmet": ["Unmet"],
        "na": ["n/a"],
    },
    "UHB": {"scale": 2, "met": ["Yes"], "unmet": ["No"], "na": ["N/A"]},
    "BSMHF": {
        "scale": 4,
        "exceeded": ["Exceeded"],
        "met": ["Met"],
        "partially_met": ["Partially met"],
        "unmet": ["Not met"],
        "na": ["NA"],
    },
    "WMP": {
        "scale": 3,
        "exceeded": ["EXCEEDED"],
        "met": ["MET"],
        "unmet": ["NOT MET"],
        "na": ["N/A"],
    },
    "NPS": {
        "scale": 3,
        "exceeded": ["Exceeded"],
        "met": ["Met"],
        "unmet": ["Unmet"],
        "na": ["N/A"],
    },
    "CRC": {"scale": 2, "met": ["Met"], "unmet": ["Not Met"], "na": ["N/A"]},
    "SIAS": {
        "scale": 3,
        "exceeded": ["Exceeded"],
        "met": ["Achieved"],
        "unmet": ["Not achieved"],
        "na": ["No opportunity"],
    },
    # Non-breaking spaces around the word, as pasted from another document.
    "SCH": {
        "scale": 3,
        "exceeded": ["Exceeded"],
        "met": ["Met\xa0", "\xa0Met"],
        "unmet": ["\xa0Not met"],
        "na": ["N/A"],
    },
    "VCS": {"scale": 3, "exceeded": ["exceeds"], "met": ["yes"], "unmet": ["no"], "na": ["n/a"]},
}
#: How each agency names itself in the Agency cell (code, full name or abbreviation).
AGENCY_NAMES = {
    "CCG": "CCG",
    "BSMHF": "BSMHF",
    "CRC": "CRC",
    "EDU": "Education and Early Years",
    "CSC-EH": "Children's Social Care Early Help",
    "CSC-SW": "Solihull Children's Social Care (Social Work)",
    "SIAS": "SIAS",
    "SWFT": "South Warwickshire Foundation Trust",
    "NPS": "National Probation Service",
    "SCH": "Solihull Community Housing",
    "UHB": "UHB-HoEFT",
    "VCS": "Young Carers",
    "WMP": "West Midlands Police",
}
#: Case-ID scheme, Case ID type written (None: left blank), file-name prefix.
SCHEMES = {
    "CSC-EH": ("carefirst_id", "CareFirst ID", "EH-"),
    "CSC-SW": ("carefirst_id", "CareFirst ID", ""),
    "EDU": ("tribal_id", "Tribal ID", ""),
    "CCG": ("carefirst_id", "CareFirst ID", "CCG audit "),
    "SWFT": ("initials", "Initials", "SWFT "),
    "UHB": ("initials", None, "UHB-HoEFT "),
    "BSMHF": ("carefirst_id", None, "BSMHF_"),
    "WMP": ("carefirst_id", "CareFirst ID", "WMP "),
    "NPS": ("initials", "Initials", "NPS "),
    "CRC": ("initials", "Initials", "CRC-"),
    "SIAS": ("initials", None, "SIAS "),
    "SCH": ("carefirst_id", "CareFirst ID", "SCH "),
    "VCS": ("initials", "initials", "Young Carers "),
}
#: Share of ratings given evidence (unmet: 0.8 of it; N/A: 0.6 of it).
EVIDENCE_RATE = {"CRC": 0.0, "WMP": 0.6, "UHB": 0.7, "NPS": 0.75}
DEFAULT_EVIDENCE_RATE = 0.9
AGENCY_ORDER = (
    "CCG", "BSMHF", "CRC", "EDU", "CSC-EH", "CSC-SW", "SIAS",
    "SWFT", "NPS", "SCH", "UHB", "VCS", "WMP",
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    ref: str
    priority: str
    age: int
    carefirst_id: str
    tribal_id: str
    initials: str

    def ident(self, scheme: str) -> str:
        return getattr(self, scheme)


#: Weighted draws: agency -> (how many cases, eligibility, weight).
_W = Callable[[Case], float]
WEIGHTED: dict[str, tuple[int, _W]] = {
    "SWFT": (21, lambda c: 1.0 if c.age <= 18 else 0.0),
    "CCG": (20, lambda c: 1.0),
    "UHB": (14, lambda c: {"exploitation": 2.0, "neglect": 1.5}.get(c.priority, 1.0)),
    "BSMHF": (10, lambda c: {"exploitation": 2.5, "neglect": 1.2}.get(c.priority, 1.0)),
    "WMP": (11, lambda c: {"exploitation": 8.0, "neglect": 1.0}.get(c.priority, 0.4)),
    "SCH": (12, lambda c: {"neglect": 1.5}.get(c.priority, 1.0)),
    "SIAS": (6, lambda c: {"neglect": 3.0, "exploitation": 1.0}.get(c.priority, 0.7)),
    "NPS": (3, lambda c: 1.0),
    "CRC": (3, lambda c: 1.0),
    "VCS": (3, lambda c: 1.0 if 8 <= c.age <= 18 else 0.0),
}

# --- evidence text (invented; never about a real person) ------------------------------
EVIDENCE: dict[str, dict[str, list[str]]] = {
    "threshold-guidance": {
        "pos": [
            "Practitioner located the threshold guidance on the LSCB website and used it "
            "to frame the referral.",
            "Referral wording mirrors the threshold descriptors; practitioner could explain "
            "the level of need.",
        ],
        "neg": ["Practitioner was unsure where the current threshold guidance is kept.",
                "Referral did not set out why the threshold was met."],
    },
    "consent-requirement": {
        "pos": ["Practitioner explained when consent is and is not needed.",
                "Consent requirements discussed in supervision and recorded."],
        "neg": ["Practitioner believed consent was always needed before sharing a "
                "safeguarding concern."],
    },
    "consent-explained": {
        "pos": ["Record shows consent discussed with the parent and the reason explained.",
                "Family told why information would be shared; their response recorded."],
        "neg": ["No record of consent being discussed with the family."],
    },
    "referral-feedback": {
        "pos": ["Feedback on the referral received within the expected timescale.",
                "Practitioner chased feedback and recorded the outcome."],
        "neg": ["No feedback recorded and no follow-up by the referrer."],
        "na": ["No referral made by this agency during the audit period."],
    },
    "partners-engaged": {
        "pos": ["All agencies involved were invited to the core group from the start.",
                "Relevant partners identified at the strategy discussion and engaged."],
        "neg": ["School nurse not told of the child in need plan until late.",
                "One partner was not invited to the review meeting."],
    },
    "sharing-protocols": {
        "pos": ["Practitioner cited Working Together and applied the sharing protocol.",
                "Information shared promptly and the rationale recorded."],
        "neg": ["Information shared by email without the rationale being recorded."],
    },
    "meeting-contribution": {
        "pos": ["Report submitted on the agreed template before conference.",
                "Practitioner attended and contributed to every core group."],
        "neg": ["No written report provided for the review meeting.",
                "Practitioner did not attend the last two meetings."],
    },
    "meeting-record": {
        "pos": ["Minutes on file with actions, owners and dates; shared with the family.",
                "Signs of Safety summary shared at the end of conference."],
        "neg": ["Minutes of the child in need meeting not received.",
                "Actions recorded without owners."],
    },
    "life-of-the-child": {
        "pos": ["Daily life of the child described in the assessment.",
                "Three houses tool used to understand the child's experience."],
        "neg": ["Focus on the parent's needs; little about the child's day-to-day life."],
    },
    "wishes-and-feelings": {
        "pos": ["Child's views gathered through direct work suited to their age.",
                "Young person's wishes recorded in their own words."],
        "neg": ["No direct work with the child recorded.",
                "Child's views not recorded in the assessment."],
    },
    "diversity-and-disability": {
        "pos": ["Child's additional needs identified and addressed in the plan.",
                "Cultural and language needs considered; interpreter arranged."],
        "neg": ["Disability mentioned but not reflected in the plan."],
    },
    "voice-shapes-intervention": {
        "pos": ["Visits moved after the child said after-school times did not suit.",
                "Practitioner explained how the child's views shaped the work."],
        "neg": ["No link made between the child's views and the plan."],
    },
    "smart-plans": {
        "pos": ["Plan reviewed at core group; actions have owners and dates.",
                "Contingency plan clear and known to the practitioner."],
        "neg": ["Plan actions lack timescales and owners.",
                "No contingency plan recorded.",
                "Single agency plan only; outcomes not measurable."],
    },
    "roles-in-complex-cases": {
        "pos": ["Each professional clear about their role across the plans in place.",
                "Lead professional identified and known to all partners."],
        "neg": ["Several plans with overlapping actions; roles unclear.",
                "Family faced multiple meetings with no clear lead."],
        "na": ["Single plan only; no complex needs identified."],
    },
    "interventions-assessed": {
        "pos": ["Progress reviewed at each visit; school attendance improved.",
                "Scaling shows improvement since the last review."],
        "neg": ["Interventions continued without review of their impact.",
                "Work completed but risk remains high; little change for the young person."],
    },
    "evidence-based-tools": {
        "pos": ["Graded Care Profile 2 completed and used to review progress.",
                "Signs of Safety mapping used to measure change."],
        "neg": ["Graded Care Profile 2 could have been used but was not.",
                "Danger statements unclear."],
        "na": ["No tool suited to this agency's involvement."],
    },
    "action-on-deterioration": {
        "pos": ["Strategy discussion held promptly when missing episodes increased.",
                "Plan revised promptly when concerns grew."],
        "neg": ["Deterioration noted but no change to the plan for several weeks."],
    },
    "disguised-compliance": {
        "pos": ["Parental assertions checked with school and health visitor.",
                "Non-engagement recognised and challenged at core group."],
        "neg": ["Parent's account accepted without checking with other agencies.",
                "Missed appointments not followed up."],
    },
    "child-central-in-supervision": {
        "pos": ["Supervision record focuses on the child's needs and risks.",
                "Child discussed in supervision with clear actions."],
        "neg": ["Supervision notes focus on workload, not the child."],
    },
    "supervision-frequency": {
        "pos": ["Supervision held monthly, in line with agency policy.",
                "Case discussed in supervision within the last 3 months."],
        "neg": ["Gap of over four months between supervision sessions.",
                "No case supervision recorded."],
    },
    "reflective-supervision": {
        "pos": ["Practitioner described supervision as reflective and challenging.",
                "Case learning meeting used to reflect with partners."],
        "neg": ["Supervision recorded as task-focused only."],
    },
    "management-oversight": {
        "pos": ["Manager's oversight recorded with clear decisions.",
                "Management review checked compliance with local procedures."],
        "neg": ["No management oversight recorded on the case file."],
    },
    "dispute-procedure-known": {
        "pos": ["Practitioner knew where to find the dispute resolution procedure.",
                "Practitioner could describe the escalation stages."],
        "neg": ["Practitioner unaware of the LSCB dispute resolution procedure.",
                "Disagreements resolved informally; procedure not known."],
    },
    "dispute-resolved-in-line": {
        "pos": ["Disagreement about threshold escalated and resolved in line with the "
                "procedure."],
        "neg": ["Non-response from a partner should have been escalated but was not.",
                "Disagreement resolved informally; procedure not used."],
        "na": ["No dispute arose in this case."],
    },
}  # fmt: skip
GENERIC_NA = "Not applicable to this agency's involvement."
EXCEEDED_EXTRA = (
    "Practice here was a strength.",
    "Good example to share at the learning event.",
    "Consistently evidenced on the record.",
)
NOTE_ROW = (
    "Auditor note: plan reviewed with the team manager; see the supervision record for "
    "the contingency plan."
)
UNKNOWN_AGENCY = "Solihull Leisure Services"
UNKNOWN_RATING = "Met?"


def _slash(cycle: str) -> str:
    return cycle.replace("-", "/")


def _title(cycle: str) -> str:
    return f"Solihull LSCB multi-agency case audit toolkit {_slash(cycle)}"


def _auditor(agency: str) -> str:
    return f"Auditor {chr(ord('A') + AGENCY_ORDER.index(agency))} (synthetic)"


# --- the cohort ------------------------------------------------------------------------
def _ages(cycle: str, rng: np.random.Generator) -> list[int]:
    """Ages of C01..C24 in order (early help, neglect, exploitation, 8 each)."""
    n = CASES_PER_PRIORITY
    if cycle == "2018-19":
        ages = sorted(a for a, k in AGES_2018_19.items() for _ in range(k))
        younger, older = ages[:-n], ages[-n:]
        younger = [int(a) for a in rng.permutation(younger)]
        older = [int(a) for a in rng.permutation(older)]
        return younger + older
    early = rng.integers(0, 16, size=2 * n)
    exploit = rng.integers(12, 19, size=n)
    exploit[int(rng.integers(0, n))] = int(rng.integers(19, 22))  # a care leaver
    return [int(a) for a in (*early, *exploit)]


def _initials(count: int, rng: np.random.Generator, exclude: set[str]) -> list[str]:
    letters = np.array(list("ABCDEFGHJKLMNPRSTW"))
    out: list[str] = []
    while len(out) < count:
        pair = "".join(rng.choice(letters, size=2))
        if pair not in exclude and pair not in out:
            out.append(pair)
    return out


def make_cases(cycle: str, rng: np.random.Generator) -> list[Case]:
    """The invented cohort of ``cycle``: 24 cases with ages and identifiers."""
    n = CASES_PER_PRIORITY
    total = n * len(PRIORITIES)
    refs = [f"C{i:02d}" for i in range(1, total + 1)]
    priorities = [p for p in PRIORITIES for _ in range(n)]
    ages = _ages(cycle, rng)
    carefirst = [str(x) for x in 900000 + rng.choice(100000, size=total, replace=False)]
    tribal = [f"TR-{x}" for x in 90000 + rng.choice(10000, size=total, replace=False)]
    shared = cycle == "2018-19"
    initials = _initials(total, rng, exclude={SHARED_INITIALS[2]})
    if shared:
        for ref in SHARED_INITIALS[:2]:
            initials[refs.index(ref)] = SHARED_INITIALS[2]
    # A few early-help children were never known to social care: no CareFirst ID.
    candidates = [i for i in range(n) if refs[i] not in SHARED_INITIALS[:2]]
    for i in rng.choice(candidates, size=2 if cycle != "2018-19" else 3, replace=False):
        carefirst[int(i)] = ""
    return [
        Case(
            ref=refs[i],
            priority=priorities[i],
            age=ages[i],
            carefirst_id=carefirst[i],
            tribal_id=tribal[i] if 3 <= ages[i] <= 18 else "",
            initials=initials[i],
        )
        for i in range(total)
    ]


def _write_cases(path: Path, cases: list[Case]) -> None:
    lines = [",".join(CASES_COLUMNS)]
    for c in cases:
        values = (c.ref, c.priority, str(c.age), c.carefirst_id, c.tribal_id, c.initials)
        lines.append(",".join(values))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


# --- who audits which case ---------------------------------------------------------------
def involvement(
    cases: list[Case], rng: np.random.Generator, forced: dict[str, list[str]] | None = None
) -> dict[str, list[Case]]:
    """Agency code -> the cases it audits, in case order."""
    forced = forced or {}
    by_ref = {c.ref: c for c in cases}
    neglect = [c for c in cases if c.priority == "neglect"]
    step_down = neglect[int(rng.integers(0, len(neglect)))]
    chosen: dict[str, list[Case]] = {
        "CSC-EH": [c for c in cases if c.priority == "early_help" or c is step_down],
        "CSC-SW": [c for c in cases if c.priority != "early_help" and c is not step_down],
        "EDU": [c for c in cases if 4 <= c.age <= 16],
    }
    for agency, (count, weight) in WEIGHTED.items():
        must = [by_ref[r] for r in forced.get(agency, [])]
        pool = [c for c in cases if weight(c) > 0 and c not in must]
        w = np.array([weight(c) for c in pool])
        k = min(count - len(must), len(pool))
        picks = rng.choice(len(pool), size=k, replace=False, p=w / w.sum())
        picked = set(must) | {pool[int(i)] for i in picks}
        chosen[agency] = [c for c in cases if c in picked]
    return {a: chosen[a] for a in AGENCY_ORDER}


def case_id_for(agency: str, case: Case, *, slip: bool = False) -> tuple[str, str | None]:
    """The ID and Case ID type ``agency`` writes for ``case``.

    An agency whose scheme is initials falls back to the CareFirst ID for a child whose
    initials are shared; ``slip`` keeps the shared initials (with no type), the
    deliberate ambiguous-ID quirk. A missing identifier falls back to CareFirst ID,
    then initials, then the audit's own case reference (with no type).
    """
    scheme, type_, _ = SCHEMES[agency]
    shared = case.initials == SHARED_INITIALS[2] and case.ref in SHARED_INITIALS[:2]
    if slip:
        return case.initials, None
    if scheme == "initials" and shared:
        scheme, type_ = "carefirst_id", "CareFirst ID"
    if case.ident(scheme):
        return case.ident(scheme), type_
    if case.carefirst_id:
        return case.carefirst_id, "CareFirst ID"
    if not shared:
        return case.initials, "Initials"
    return case.ref, None


# --- ratings ---------------------------------------------------------------------------
def base(cycle: str, key: str) -> float:
    """The latent base of standard ``key`` in ``cycle``."""
    level, step = BASE_2018_19[key]
    return level - step * (2018 - int(cycle[:4]))


def _na_probability(agency: str, case: Case, key: str) -> float:
    if key == "dispute-resolved-in-line":
        return 0.7
    if key == "referral-feedback":
        return 0.25
    if key == "roles-in-complex-cases":
        return 0.4 if case.priority == "early_help" else 0.1
    if key == "wishes-and-feelings" and agency in ADULT_FACING:
        return 0.3
    if key == "evidence-based-tools":
        return 0.1
    return 0.02


def _category(z: float, scale: int) -> str:
    if scale == 4 and CUT_UNMET <= z < CUT_PARTIAL:
        return "partially_met"
    if z < (CUT_UNMET + CUT_PARTIAL) / 2:
        return "unmet"
    if z >= CUT_EXCEEDED and scale >= 3:
        return "exceeded"
    return "met"


def rate(
    agency: str,
    case: Case,
    case_effect: float,
    framework: Framework,
    cycle: str,
    rng: np.random.Generator,
) -> dict[int, tuple[str, str | None]]:
    """One return's rows: standard number (in ``framework``) -> (rating text, evidence).

    Ratings come from ``cycle``'s bases whatever numbering ``framework`` uses."""
    style = STYLES[agency]
    evidence_rate = EVIDENCE_RATE.get(agency, DEFAULT_EVIDENCE_RATE)
    rows: dict[int, tuple[str, str | None]] = {}
    for std in framework.standards:
        key = std.key
        bank = EVIDENCE[key]
        noise = rng.normal(0.0, NOISE_SD)
        u_na, u_blank, u_ev, u_pick, u_pick2 = rng.random(5)
        if u_blank < P_BLANK:
            rows[std.number] = ("", None)
            continue
        if u_na < _na_probability(agency, case, key):
            na_texts = bank.get("na", [GENERIC_NA])
            ev = na_texts[int(u_pick * len(na_texts))] if u_ev < evidence_rate * 0.6 else None
            rows[std.number] = (_spell(style, "na", u_pick2), ev)
            continue
        z = base(cycle, key) + case_effect + AGENCY_BIAS[agency] + noise
        if case.priority == "exploitation" and key in (
            "interventions-assessed",
            "action-on-deterioration",
        ):
            z -= 0.5
        if agency in ADULT_FACING and std.kloe_key == "voice-of-the-child":
            z -= 0.4
        category = _category(z, style["scale"])
        ev = None
        if category in ("met", "exceeded") and u_ev < evidence_rate:
            ev = bank["pos"][int(u_pick * len(bank["pos"]))]
            if category == "exceeded":
                ev += " " + EXCEEDED_EXTRA[int(u_pick2 * len(EXCEEDED_EXTRA))]
        elif category in ("unmet", "partially_met") and u_ev < evidence_rate * 0.8:
            ev = bank["neg"][int(u_pick * len(bank["neg"]))]
        rows[std.number] = (_spell(style, category, u_pick2), ev)
    return rows


def _spell(style: dict, category: str, u: float) -> str:
    options = style[category]
    return options[int(u * len(options))]


# --- one cycle -------------------------------------------------------------------------
@dataclass
class _CycleWriter:
    folder: Path
    cycle: str
    rng: np.random.Generator
    files: Counter = field(default_factory=Counter)
    returns_by_agency: Counter = field(default_factory=Counter)
    quirks: dict[str, list[str]] = field(default_factory=dict)

    def quirk(self, what: str, path: Path) -> None:
        """Record a deliberate quirk and the file (relative to the cycle) that has it."""
        self.quirks.setdefault(what, []).append(path.relative_to(self.folder).as_posix())

    def date(self) -> dt.date:
        return dt.date(int(self.cycle[:4]), 6, 1) + dt.timedelta(days=int(self.rng.integers(150)))


def _file_name(agency: str, case_id: str) -> str:
    return f"{SCHEMES[agency][2]}{case_id}.xlsx"


def _generate_cycle(folder: Path, cycle: str, rng: np.random.Generator) -> dict:
    w = _CycleWriter(folder, cycle, rng)
    fw = load_framework(cycle)
    previous = load_framework(CYCLES[CYCLES.index(cycle) - 1]) if cycle != CYCLES[0] else None
    latest = cycle == CYCLES[-1]
    cases = make_cases(cycle, rng)
    _write_cases(folder / "cases.csv", cases)
    effects = rng.normal(0.0, CASE_SD, size=len(cases))
    effects -= effects.mean()
    effect = {c.ref: float(e) for c, e in zip(cases, effects, strict=True)}
    forced = {"UHB": [SHARED_INITIALS[1]]} if latest else {}
    who = involvement(cases, rng, forced)
    returns = folder / "returns"

    bulk_agency = {"2016-17": "EDU", "2018-19": "WMP"}.get(cycle)
    for agency in AGENCY_ORDER:
        bulk_rows: list[dict] = []
        for i, case in enumerate(who[agency]):
            w.returns_by_agency[agency] += 1
            quirks: list[str] = []
            slip = latest and agency == "UHB" and case.ref == SHARED_INITIALS[1]
            if slip:
                quirks.append(
                    f"initials {case.initials!r} with no Case ID type: two children share "
                    "them, so the ID is ambiguous and the return is rejected"
                )
            case_id, id_type = case_id_for(agency, case, slip=slip)
            if agency == bulk_agency:
                rows = rate(agency, case, effect[case.ref], fw, cycle, rng)
                bulk_rows += _bulk_rows(agency, case_id, id_type, rows)
                continue
            template = fw
            if latest and agency == "SCH" and i % 2 == 1:
                template = previous  # report 2.3.6: alternated with last year's template
                quirks.append(
                    f"last year's template (Template version {template.cycle}: old "
                    "numbering, no standard 14; report 2.3.6)"
                )
            rows = rate(agency, case, effect[case.ref], template, cycle, rng)
            notes = None
            if latest and agency == "CSC-SW" and i == 0:
                notes = {fw.by_key("smart-plans").number: NOTE_ROW}
                quirks.append("note row (text in the Standard column, no rating)")
            if latest and agency == "SIAS" and i == 0:
                number = fw.by_key("sharing-protocols").number
                rows[number] = (UNKNOWN_RATING, rows[number][1])
                quirks.append(f"unknown rating word {UNKNOWN_RATING!r} (that row is rejected)")
            written_id: str | int = case_id
            if agency == "CSC-SW" and id_type == "CareFirst ID":
                written_id = int(case_id)  # typed into Excel: a number cell
                if i == 0:
                    quirks.append("CareFirst ID as a number cell (every CSC-SW toolkit), e.g.")
            if agency == "CRC":
                quirks.append("bare ratings with no evidence (report 2.3.4)")
            if agency == "CSC-EH" and not case.carefirst_id:
                quirks.append("child not known to CareFirst: CSC-EH names the case by initials")
            path = returns / agency / _file_name(agency, case_id)
            write_toolkit(
                path,
                template,
                agency=AGENCY_NAMES[agency],
                case_id=written_id,
                case_id_type=id_type,
                audit_cycle=_slash(cycle) if agency in ("EDU", "SCH") else cycle,
                template_version=template.cycle,
                auditor=_auditor(agency),
                date_completed=w.date().strftime("%d/%m/%Y") if agency == "VCS" else w.date(),
                rows=rows,
                title=_title(template.cycle),
                notes=notes,
            )
            w.files["toolkit"] += 1
            for quirk in quirks:
                w.quirk(quirk, path)
        if bulk_rows:
            _write_bulk(w, agency, bulk_rows)

    if latest:
        _write_broken_files(w, cases, who, fw)
    elif cycle == "2017-18":
        _write_lock_file(w, "CCG", who["CCG"][0])
    return {
        "cases": len(cases),
        "returns": sum(w.returns_by_agency.values()),
        "returns_by_agency": dict(w.returns_by_agency),
        "files": dict(sorted(w.files.items())),
        "quirks": [{"quirk": q, "files": files} for q, files in w.quirks.items()],
    }


def _bulk_rows(
    agency: str, case_id: str, id_type: str | None, rows: dict[int, tuple[str, str | None]]
) -> list[dict]:
    out = []
    for number, (rating, evidence) in rows.items():
        if agency == "WMP" and evidence:
            evidence = evidence.replace("'", "\u2019")  # Word's curly apostrophe
        out.append(
            {
                "agency": AGENCY_NAMES[agency],
                "case_id": case_id,
                "case_id_type": id_type,
                "standard": number if agency == "WMP" else f"S{number}",
                "rating": rating,
                "evidence": evidence,
            }
        )
    return out


def _write_bulk(w: _CycleWriter, agency: str, rows: list[dict]) -> None:
    path = w.folder / "returns" / agency / f"{agency.lower()}-audit-{w.cycle}.csv"
    if agency == "WMP":
        if not any("\u2019" in (r["evidence"] or "") for r in rows):
            first = next(r for r in rows if r["evidence"])
            first["evidence"] += " Officer\u2019s notes checked."
        write_bulk_csv(
            path,
            rows,
            encoding="cp1252",
            include_agency=False,
            header=["Case ID", "Case ID type", "Std", "Outcome", "Comments"],
        )
        w.quirk(
            "bulk CSV instead of toolkits (report 2.3.6): Windows-1252, no agency column "
            "(agency from the folder name), header synonyms Std/Outcome/Comments, "
            "curly apostrophes in evidence",
            path,
        )
    else:
        write_bulk_csv(path, rows, encoding="utf-8-sig", include_agency=True)
        w.quirk(
            "bulk CSV instead of toolkits: UTF-8 with BOM, agency by full name, "
            "standards written as S1, S2, ...",
            path,
        )
    w.files["bulk"] += 1


def _write_lock_file(w: _CycleWriter, agency: str, case: Case) -> None:
    """The ``~$`` file Excel leaves beside a workbook that is open."""
    target = w.folder / "returns" / agency / _file_name(agency, case_id_for(agency, case)[0])
    lock = target.with_name("~$" + target.name)
    lock.write_bytes(_lock_file_bytes())
    w.files["other"] += 1
    w.quirk("Excel lock file (to be listed as skipped)", lock)


def _lock_file_bytes() -> bytes:
    owner = "Synthetic user"
    head = bytes([len(owner)]) + owner.encode("ascii")
    head = head.ljust(54, b" ")
    tail = owner.encode("utf-16-le")
    return (head + bytes([len(owner), 0]) + tail).ljust(165, b"\x00")


def _write_broken_files(
    w: _CycleWriter, cases: list[Case], who: dict[str, list[Case]], fw: Framework
) -> None:
    returns = w.folder / "returns"
    # A corrupt workbook: one BSMHF return whose zip was cut short.
    victim = who["BSMHF"][0]
    path = returns / "BSMHF" / _file_name("BSMHF", case_id_for("BSMHF", victim)[0])
    normalise_zip(path, compression=zipfile.ZIP_STORED)  # its bytes then need no zlib
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    w.quirk("corrupt workbook (zip truncated to half its bytes): one whole-file rejection", path)
    # A toolkit naming an agency that is not in the register.
    case = next(c for c in cases if c.priority == "neglect" and c.carefirst_id)
    path = returns / "Other" / f"Leisure services audit {case.carefirst_id}.xlsx"
    write_toolkit(
        path,
        fw,
        agency=UNKNOWN_AGENCY,
        case_id=case.carefirst_id,
        case_id_type="CareFirst ID",
        audit_cycle=w.cycle,
        template_version=fw.cycle,
        auditor="Auditor Z (synthetic)",
        date_completed=w.date(),
        rows=rate("CCG", case, 0.0, fw, w.cycle, w.rng),
        title=_title(fw.cycle),
    )
    w.files["toolkit"] += 1
    w.quirk(f"toolkit from an unknown agency ({UNKNOWN_AGENCY!r}): whole-file rejection", path)
    # An Excel lock file beside an open workbook, and a stray note.
    _write_lock_file(w, "SWFT", who["SWFT"][0])
    note = returns / "notes.txt"
    note.write_bytes(
        b"SYNTHETIC DEMO DATA. Co-ordinator's notes: WMP sent one spreadsheet instead of "
        b"toolkits; SCH used last year's template for some cases.\n"
    )
    w.quirk("a text file among the returns (to be listed as skipped)", note)
    w.files["other"] += 1


# --- the whole demo --------------------------------------------------------------------
def generate(out_dir: Path, seed: int = 2019) -> dict:
    """Write the synthetic demo data for all three cycles under ``out_dir``.

    Removes ``out_dir/<cycle>/`` for the three cycles and ``out_dir/README.md`` first
    (nothing else). Returns a summary: per cycle the number of cases, returns (agency
    and case pairs), returns per agency, files by form and the deliberate quirks.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for cycle in CYCLES:
        if (out_dir / cycle).is_dir():
            shutil.rmtree(out_dir / cycle)
    for name in ("README.md", CANDIDATES_FILE, CRITERIA_EXAMPLE):
        (out_dir / name).unlink(missing_ok=True)
    root = np.random.default_rng(seed)
    summary: dict = {}
    for cycle, rng in zip(CYCLES, root.spawn(len(CYCLES)), strict=True):
        summary[cycle] = _generate_cycle(out_dir / cycle, cycle, rng)
    _write_records(out_dir / CYCLES[-1])
    for cycle in CYCLES:
        _write_development(out_dir / cycle, cycle)
        if cycle in COMMENTARY:  # the QA group's words, a draft
            (out_dir / cycle / "commentary.md").write_bytes(COMMENTARY[cycle].encode("utf-8"))
    # the draw of the next cycle's cases (issue 26): after the cycles, from a generator of
    # its own, so the cycles' files are what they were before it existed
    candidates = _write_candidates(out_dir, root.spawn(1)[0])
    _write_selection_record(out_dir / CYCLES[-1])
    (out_dir / "README.md").write_bytes(_readme(seed, summary).encode("utf-8"))
    return {"seed": seed, "cycles": summary, "candidates": candidates}


# The rest of the 2018-19 cycle (issue 6), modelled on the report's appendices: the mock
# JTAI deep dive of eight exploitation cases (Appendix I: seven discussed, immediate action
# on two siblings), the learning event's three columns (Appendix III, paraphrased and
# invented) and the first year of family feedback (section 4.2.2: few responses).
DEEP_DIVE = [
    ("C17", "yes", "", "CSE; missing from home", "no"),
    ("C18", "yes", "", "gang association; school exclusion", "no"),
    ("C19", "yes", "", "CSE; domestic abuse at home", "no"),
    ("C20", "yes", "", "criminal exploitation; trafficking concerns; sibling of C21", "yes"),
    ("C21", "yes", "", "criminal exploitation; trafficking concerns; sibling of C20", "yes"),
    ("C22", "no", "Case closed before the round table: the family moved out of the area", "", "no"),
    ("C23", "yes", "", "missing from education; disability", "no"),
    ("C24", "yes", "", "care leaver; CSE history", "no"),
]
LEARNING_EVENT = {
    1: {
        "well": [
            "Good awareness that there is a threshold document",
            "Feedback on referrals from the front door helps understanding",
        ],
        "worried": [
            "Are thresholds for wider exploitation understood as well as others?",
            "Consent still sought where it is not needed (GDPR)",
        ],
        "next": [
            "Multi-agency workshops on how thresholds are met",
            "Include thresholds in every agency's induction",
        ],
    },
    2: {
        "well": ["Team around the family meetings share information well"],
        "worried": ["Minutes of meetings not always sent to those who could not attend"],
        "next": ["Clear procedures for every multi-agency meeting, including early help"],
    },
    3: {
        "well": ["Creative, age-appropriate ways of hearing children", "Children seen alone"],
        "worried": ["The child's voice not always recorded in assessments"],
        "next": ["Ask in supervision: what would the child say?"],
    },
    4: {
        "well": ["More use of evidence-based tools such as Signs of Safety"],
        "worried": [
            "Plans that are not SMART cannot be reviewed well",
            "Families overwhelmed by many plans and meetings",
        ],
        "next": [
            "Can the audit compare agencies' views of SMART plans case by case?",
            "Co-ordinate and sequence interventions in complex cases",
        ],
    },
    5: {
        "well": ["Strong sense that case supervision processes are in place"],
        "worried": ["Is time for supervision protected well enough?"],
        "next": [
            "Share supervision models between agencies",
            "Group case learning meetings for practitioners",
        ],
    },
    6: {
        "well": ["Most issues are resolved before the formal process"],
        "worried": ["Practitioners may not know where to find the procedure"],
        "next": ["Share examples of disputes taken through the procedure"],
    },
}
FAMILY_FEEDBACK = [
    ("C03", "yes", "yes"),
    ("C05", "yes", "no"),
    ("C09", "yes", "no"),
    ("C10", "yes", "yes"),
    ("C12", "yes", "no"),
    ("C14", "yes", "no"),
    ("C17", "yes", "no"),
    ("C19", "yes", "yes"),
    ("C23", "yes", "no"),
    ("C24", "no", "no"),
]


def _write_small_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    """A small CSV of the demo's cycle records: UTF-8, ``\\n`` line ends, quoted only
    where needed, the same bytes on every machine."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def _write_records(folder: Path) -> None:
    """Write the invented deep-dive record, learning event and family feedback."""

    def write(name: str, header: list[str], rows: list[tuple]) -> None:
        _write_small_csv(folder / name, header, rows)

    write(
        "deep_dive.csv",
        ["case_ref", "discussed", "reason_not_discussed", "themes", "action_required"],
        DEEP_DIVE,
    )
    write(
        "learning_event.csv",
        ["kloe", "column", "text"],
        [
            (k, col, t)
            for k, cols in LEARNING_EVENT.items()
            for col, texts in cols.items()
            for t in texts
        ],
    )
    write("family_feedback.csv", ["case_ref", "invited", "responded"], FAMILY_FEEDBACK)


# Areas for development, progress and recommendations (issue 11), paraphrased from the
# report's Appendix II and section 4.3.3 (synthetic: reworded, owners are roles). Each
# cycle's standards are numbered as that cycle's framework numbers them (2016-17 and
# 2017-18: KLOE 1 information sharing, KLOE 2 thresholds).
DEVELOPMENT_AREAS = {
    "2016-17": [
        (
            "A16-1",
            1,
            "3; 4",
            "Make sure the right agencies are at multi-agency meetings and "
            "that records and minutes of meetings are consistent.",
            "LSCB Business Unit",
            "2017-03",
        ),
        (
            "A16-2",
            2,
            "8",
            "Keep improving the feedback agencies receive on their referrals.",
            "Children's Services front door",
            "2017-03",
        ),
        (
            "A16-3",
            2,
            "5",
            "Use the threshold guidance in day-to-day practice.",
            "LSCB Training Group",
            "2017-03",
        ),
        (
            "A16-4",
            2,
            "6; 7",
            "Be clear across agencies about when consent must be obtained.",
            "LSCB Policy and Procedures Group",
            "2017-03",
        ),
        (
            "A16-5",
            3,
            "10",
            "Gather the child's wishes and feelings and make sure every agency "
            "takes account of them.",
            "All agencies' safeguarding leads",
            "2017-03",
        ),
        (
            "A16-6",
            4,
            "13; 14",
            "Continue work on SMART plans, contingency planning and the "
            "re-assessment of interventions.",
            "All agencies' safeguarding leads",
            "2017-03",
        ),
        (
            "A16-7",
            5,
            "19",
            "Hold supervision as often as planned.",
            "All agencies' safeguarding leads",
            "2017-03",
        ),
        (
            "A16-8",
            6,
            "22",
            "Promote the dispute resolution procedure further to embed it in practice.",
            "LSCB Business Unit",
            "2017-03",
        ),
    ],
    "2017-18": [
        (
            "A17-1",
            1,
            "3; 4",
            "Free practitioners to attend the meetings they are invited to; "
            "minutes with the right detail, sent promptly.",
            "LSCB Business Unit",
            "2018-03",
        ),
        (
            "A17-2",
            2,
            "8",
            "Every organisation receives feedback on its referrals; review the "
            "revised online referral process with professionals.",
            "Children's Services front door",
            "2018-03",
        ),
        (
            "A17-3",
            2,
            "5",
            "New staff know the threshold guidance, where to find it and how it applies.",
            "LSCB Training Group",
            "2018-03",
        ),
        (
            "A17-4",
            2,
            "6; 7",
            "Record the rationale whenever a referral is made without first seeking consent.",
            "LSCB Policy and Procedures Group",
            "2018-03",
        ),
        (
            "A17-5",
            3,
            "9; 10",
            "Agencies without direct contact with the child keep the child in mind.",
            "Adult services' safeguarding leads",
            "2018-03",
        ),
        (
            "A17-6",
            4,
            "13; 16",
            "A contingency plan for when progress stalls or the family's engagement falls away.",
            "All agencies' safeguarding leads",
            "2018-03",
        ),
        (
            "A17-7",
            5,
            "19; 20",
            "Keep supervision regular through absence and sickness; make it "
            "reflective and respectfully challenging.",
            "All agencies' safeguarding leads",
            "2018-03",
        ),
        (
            "A17-8",
            6,
            "22; 23",
            "Raise awareness and understanding of the dispute resolution "
            "procedure; make it easier to find on the LSCB website.",
            "LSCB Business Unit",
            "2018-03",
        ),
    ],
    "2018-19": [
        (
            "A18-1",
            2,
            "5; 7",
            "Clear multi-agency procedures for assessment, intervention and "
            "planning in early help and non-social-care work, so every professional is engaged "
            "from the start.",
            "LSCB Policy and Procedures Group",
            "2020-03",
        ),
        (
            "A18-2",
            1,
            "4",
            "Check that referral feedback is still valued as children's services "
            "restructure in 2019-20; review the out-of-hours response.",
            "Children's Services front door",
            "2020-03",
        ),
        (
            "A18-3",
            1,
            "1",
            "Add guidance on wider exploitation and contextual safeguarding to the "
            "threshold document.",
            "LSCB Policy and Procedures Group",
            "2019-09",
        ),
        (
            "A18-4",
            1,
            "2; 3",
            "Review procedures against GDPR so that consent is sought only when "
            "the law requires it.",
            "LSCB Policy and Procedures Group",
            "2019-09",
        ),
        (
            "A18-5",
            3,
            "10; 12",
            "Record the child's voice accurately in assessments; share "
            "innovative practice such as joint reflective learning between child and adult "
            "services.",
            "All agencies' safeguarding leads",
            "2020-03",
        ),
        (
            "A18-6",
            4,
            "13; 14; 16",
            "Embed the graded care profile early; agree a definition of "
            "wider exploitation with a screening tool.",
            "Exploitation sub-group",
            "2020-03",
        ),
        (
            "A18-7",
            5,
            "21",
            "Promote and audit case learning meetings; share supervision models between agencies.",
            "LSCB Case Audit Group",
            "2020-03",
        ),
        (
            "A18-8",
            6,
            "23; 24",
            "Find out whether disputes are resolved early without the "
            "procedure, or whether people are wary of using it.",
            "LSCB Case Audit Group",
            "2020-03",
        ),
    ],
}
PROGRESS = {
    "2017-18": [
        (f"A16-{i}", "Work continues under the 2017-18 area for development.", "carried forward")
        for i in range(1, 9)
    ],
    "2018-19": [
        (
            "A16-1",
            "Most practitioners are invited to the right meetings; less consistency in "
            "child in need and early help.",
            "carried forward",
        ),
        (
            "A16-2",
            "Feedback on referrals is helping people understand and apply thresholds.",
            "met",
        ),
        ("A16-3", "Most practitioners know the threshold guidance and where to find it.", "met"),
        (
            "A16-4",
            "Better recording of consent, with some confusion about when it is needed.",
            "carried forward",
        ),
        (
            "A16-5",
            "Signs of Safety and specific tools have strengthened the child's voice.",
            "carried forward",
        ),
        (
            "A16-6",
            "More use of tools, not yet consistent; not all plans are SMART.",
            "carried forward",
        ),
        ("A16-7", "Supervision processes are in place and valued.", "met"),
        (
            "A16-8",
            "Practitioners can say where the procedure is; no use of it seen in the cases.",
            "carried forward",
        ),
        (
            "A17-1",
            "A summary and outline plan are shared at the end of conferences; minutes of "
            "other meetings vary.",
            "open",
        ),
        (
            "A17-2",
            "Feedback on referrals is positively received; no reference to out of hours.",
            "met",
        ),
        ("A17-3", "New staff generally know the guidance; no gaps raised.", "met"),
        ("A17-4", "Some confusion remains about when consent is needed.", "carried forward"),
        (
            "A17-5",
            "Hard for adult-focused services to evidence; some creative engagement seen.",
            "open",
        ),
        ("A17-6", "Contingency plans still missing from some plans.", "carried forward"),
        ("A17-7", "Supervision valued, but not always recorded in case notes.", "open"),
        ("A17-8", "Awareness of the procedure has grown; no evidence of it being used.", "open"),
        ("R17-1", "Findings were shared at the Executive Group, which agreed the leads.", "met"),
        ("R17-2", "Shared with the Troubled Families lead.", "met"),
        ("R17-3", "Feedback from managers received from most teams.", "open"),
        ("R17-4", "Audit tool amended; learning shared with neighbouring partnerships.", "met"),
    ],
}
RECOMMENDATIONS = {
    "2017-18": [
        (
            "R17-1",
            "Share the audit's findings at the Executive Group to decide who leads the learning.",
            "LSCB Business Unit",
            "2018-06",
        ),
        (
            "R17-2",
            "Share the report with the Troubled Families lead for a whole-family approach.",
            "LSCB Business Unit",
            "2018-06",
        ),
        (
            "R17-3",
            "Secure managers' feedback on the assurance questions exercise.",
            "LSCB Case Audit Group",
            "2018-09",
        ),
        (
            "R17-4",
            "Amend the audit tool and share learning on the process with other partnerships.",
            "LSCB Business Unit",
            "2018-12",
        ),
    ],
    "2018-19": [
        (
            "R18-1",
            "A briefing for every agency representative so that audits are carried out "
            "and rated consistently.",
            "LSCB Business Unit",
            "2019-09",
        ),
        (
            "R18-2",
            "A quality assurance step in the next cycle: compare agencies' findings on the "
            "same cases, or audit jointly across agencies.",
            "LSCB Case Audit Group",
            "2020-03",
        ),
        (
            "R18-3",
            "Refine family feedback by contacting the lead worker early.",
            "LSCB Case Audit Group",
            "2019-09",
        ),
        (
            "R18-4",
            "Share the findings at the next Executive Group to shape the partnership's priorities.",
            "LSCB Business Unit",
            "2019-06",
        ),
        (
            "R18-5",
            "The next audit to look at practitioners' understanding of childhood trauma "
            "and of complex needs.",
            "LSCB Case Audit Group",
            "2020-03",
        ),
    ],
}


def _write_development(folder: Path, cycle: str) -> None:
    """Write the cycle's areas for development, progress and recommendations."""

    def write(name: str, header: list[str], rows: list[tuple]) -> None:
        if rows:
            _write_small_csv(folder / name, header, rows)

    write(
        "development_areas.csv",
        ["area_id", "kloe", "standards", "area", "owner", "due"],
        DEVELOPMENT_AREAS.get(cycle, []),
    )
    write("progress.csv", ["area_id", "progress", "status"], PROGRESS.get(cycle, []))
    write(
        "recommendations.csv",
        ["id", "recommendation", "owner", "due"],
        RECOMMENDATIONS.get(cycle, []),
    )


# --- choosing the next cycle's cases (issue 26) -------------------------------------------
NEXT_CYCLE = "2019-20"
CANDIDATES_FILE = f"candidates-{NEXT_CYCLE}.csv"
CRITERIA_EXAMPLE = f"selection-{NEXT_CYCLE}.yaml"
#: Children on the demo's candidate list per priority theme (before any criterion).
CANDIDATES_PER_PRIORITY = {"early_help": 150, "neglect": 220, "exploitation": 60}
#: Eligible children per theme that the synthetic 2018-19 selection record states.
ELIGIBLE_2018_19 = {"early_help": 146, "neglect": 213, "exploitation": 52}
CANDIDATE_COLUMNS = (
    "carefirst_id", "tribal_id", "initials", "priority", "age", "family_id",
    "lead_professional",
)  # fmt: skip
_CRITERIA_TEXT = f"""\
# An example of the QA group's criteria for drawing the {NEXT_CYCLE} cases (synthetic demo).
# Copy it to DATA/{NEXT_CYCLE}/selection.yaml before running select-cases;
# docs/selecting-cases.md explains each key.
ages:
  early_help: [0, 15]
  neglect: [0, 17]
  exploitation: [10, 17]   # the exploitation cohort is in the upper age range
required: [lead_professional]   # a child with no lead professional cannot be audited
one_per_family: family_id       # at most one child of a family
"""


def _earlier_children(out_dir: Path) -> list[dict[str, str]]:
    import csv

    children = []
    for cycle in CYCLES:
        with (out_dir / cycle / "cases.csv").open(encoding="utf-8", newline="") as fh:
            children += list(csv.DictReader(fh))
    return children


def _write_candidates(out_dir: Path, rng: np.random.Generator) -> dict:
    """The demo's candidate export for the next cycle: ``CANDIDATES_PER_PRIORITY``
    invented children with CareFirst IDs from 800000 (the audited cohorts' are from
    900000), Tribal IDs ``TR-8xxxx`` for ages 3 to 18, sibling groups sharing a
    ``family_id``, a few with no lead professional, ages outside the example criteria,
    and five children audited in an earlier cycle (matched by CareFirst ID, one written
    as Excel writes a whole number, ``931021.0``, or by Tribal ID in another case), whom
    ``select-cases`` leaves out. Writes it and the example criteria; returns counts."""
    total = sum(CANDIDATES_PER_PRIORITY.values())
    carefirst = [str(x) for x in 800000 + rng.choice(100000, size=total, replace=False)]
    tribal = [f"TR-{x}" for x in 80000 + rng.choice(10000, size=total, replace=False)]
    initials = ["".join(p) for p in rng.choice(list("ABCDEFGHJKLMNPRSTW"), size=(total, 2))]
    ages_for = {"early_help": (0, 17), "neglect": (0, 18), "exploitation": (9, 21)}
    rows: list[list[str]] = []
    k = 0
    family = 0
    for priority, count in CANDIDATES_PER_PRIORITY.items():
        low, high = ages_for[priority]
        ages = rng.integers(low, high + 1, size=count)
        i = 0
        while i < count:
            # one child in eight starts a sibling group of two or three (same theme)
            size = int(rng.choice([2, 3])) if rng.random() < 0.125 else 1
            size = min(size, count - i)
            family += 1
            for _ in range(size):
                age = int(ages[i])
                lead = "" if rng.random() < 0.05 else str(rng.choice(["SW", "EH", "TAC"]))
                rows.append(
                    [
                        carefirst[k],
                        tribal[k] if 3 <= age <= 18 else "",
                        initials[k],
                        priority,
                        str(age),
                        f"FAM-{family:04d}" if size > 1 else "",
                        lead,
                    ]
                )
                i += 1
                k += 1
    # children audited before, on the list again
    earlier = _earlier_children(out_dir)
    picked = [earlier[int(j)] for j in rng.choice(len(earlier), size=5, replace=False)]
    planted = 0
    for child in picked:
        target = rows[int(rng.integers(len(rows)))]
        if child["carefirst_id"]:
            excel = planted == 0
            target[0] = child["carefirst_id"] + (".0" if excel else "")
        else:
            target[1] = child["tribal_id"]
        planted += 1
    _write_small_csv(out_dir / CANDIDATES_FILE, list(CANDIDATE_COLUMNS), [tuple(r) for r in rows])
    (out_dir / CRITERIA_EXAMPLE).write_bytes(_CRITERIA_TEXT.encode("utf-8"))
    return {"file": CANDIDATES_FILE, "candidates": len(rows), "audited_before": planted}


def _write_selection_record(folder: Path) -> None:
    """A selection record for the demo's 2018-19 cohort, so the pages can say how its
    cases were chosen: the design the reference report describes (8 cases drawn at
    random from each priority theme, 2.2.3) and invented eligible counts. It is marked
    synthetic and has no seed: no candidate list lies behind it."""
    import yaml

    drawn = dict.fromkeys(PRIORITIES, CASES_PER_PRIORITY)
    record = {
        "cycle": CYCLES[-1],
        "note": (
            "SYNTHETIC demo record, written by the demo generator: the demo's 2018-19 "
            "cohort was invented first, so no candidate list or seed lies behind it. It "
            "states the design the reference report describes (8 cases drawn at random "
            "from each priority theme) and invented counts of eligible children."
        ),
        "method": "simple random sample without replacement within each priority theme",
        "seed": None,
        "seed_given": False,
        "per_priority": CASES_PER_PRIORITY,
        "eligible": dict(ELIGIBLE_2018_19),
        "drawn": drawn,
        "reserves": {p: ELIGIBLE_2018_19[p] - drawn[p] for p in PRIORITIES},
        "drawn_by": "audit-analysis demo generator (synthetic)",
    }
    text = "# How the 2018-19 demo cases were chosen: SYNTHETIC (see note).\n" + yaml.safe_dump(
        record, sort_keys=False, allow_unicode=True, width=100
    )
    (folder / "selection_record.yaml").write_bytes(text.encode("utf-8"))


def _readme(seed: int, summary: dict) -> str:
    no_type = [a for a in AGENCY_ORDER if SCHEMES[a][1] is None]
    lines = [
        "# Demo data: ALL OF IT IS SYNTHETIC",
        "",
        "**Every file under this folder is invented.** The children, their CareFirst and",
        "Tribal IDs, their initials, the auditors and every line of evidence were made up",
        "by a program. No real child, family, practitioner or case record lies behind",
        "any of it, and any likeness to a real person or ID is chance. Never copy real",
        "audit data into this folder: it is committed to the repository.",
        "",
        "The data imitate the shape of the Solihull LSCB multi-agency case audit of",
        "2018-19 (the reference report) and the two cycles before it, so that the suite",
        "can be shown and tested end to end.",
        "",
        "## How it is made",
        "",
        f"Generated by `audit_analysis.demo.generate` with seed `{seed}`. The same seed",
        "gives byte-identical files, and a test checks that this folder equals a fresh",
        "generation, so **do not edit these files by hand**: change the generator and",
        "regenerate:",
        "",
        "```",
        'python -c "from pathlib import Path; from audit_analysis.demo import generate; '
        "generate(Path('data/demo'))\"",
        "```",
        "",
        "- Cohort: 24 cases per cycle, `C01`-`C08` early help, `C09`-`C16` neglect,",
        "  `C17`-`C24` exploitation. In 2018-19 the ages are exactly those of the report's",
        "  table (2.2.3), the oldest eight being the exploitation cases (2.3.7).",
        "  `cases.csv` holds the crosswalk of invented identifiers (`carefirst_id`,",
        "  `tribal_id`, `initials`); a few early-help children have no CareFirst ID and",
        "  children under 3 or over 18 no Tribal ID.",
        "- The rest of the 2018-19 cycle: `deep_dive.csv` (the mock JTAI's eight",
        "  exploitation cases, seven discussed, immediate action on two siblings, as in the",
        "  report's Appendix I), `learning_event.csv` (invented feedback in the three",
        "  columns of Appendix III) and `family_feedback.csv` (nine families invited, three",
        "  responded).",
        "- Every cycle: `development_areas.csv` (the areas for development it raised, eight a",
        "  year, one per KLOE or more), `recommendations.csv` (2017-18 and 2018-19) and, in",
        "  2017-18 and 2018-19, `progress.csv` against the earlier areas and",
        "  recommendations: paraphrased from the report's Appendix II and section 4.3.3;",
        "  owners are teams or roles.",
        "- 2018-19's `commentary.md`: the QA group's words for the report, invented, every",
        "  figure a `{{ share ... }}` or `{{ change ... }}` reference; a draft, so its pages",
        "  say DRAFT.",
        f"- Choosing the next cycle's cases: `{CANDIDATES_FILE}`, an invented candidate",
        "  export for the draw (`audit-analysis select-cases`, docs/selecting-cases.md):",
        "  children by priority theme with invented IDs, sibling groups sharing a",
        "  `family_id`, a few with no lead professional, and five children audited in an",
        f"  earlier cycle, whom the draw leaves out; `{CRITERIA_EXAMPLE}` is example",
        "  criteria to copy to the cycle's `selection.yaml`. 2018-19 has a",
        "  `selection_record.yaml` stating the report's design (8 cases drawn at random",
        "  per theme) with invented eligible counts and no seed (the cohort came first).",
        "- Returns: each agency of the register audits the cases it would plausibly work",
        "  with (about six agencies per case), one toolkit workbook per case in",
        "  `returns/<AGENCY>/`, named by the case's ID in that agency's own scheme.",
        "- Ratings: a latent score, standard base (per cycle, set by standard key) + case",
        "  effect + agency bias + noise, cut into unmet / partially met (rare) / met /",
        "  exceeded. Most standards improve each year; SMART plans and dispute resolution",
        "  stay weaker; `dispute-resolved-in-line` is mostly N/A (no dispute arose) and",
        "  `referral-feedback` sometimes N/A. The noise is large, so agencies partly",
        "  disagree on the same case and standard. The module docstring of",
        "  `audit_analysis/demo.py` gives the full model.",
        "- Spellings vary by agency, as auditors write them: `Met`, `met.`, `Not Met`,",
        "  `Not-Met`, `Standard met`, `Exceeds`, `N/A`, `NA`, `Partially met`, `yes`, `no`,",
        "  `Achieved`, `No opportunity`, and `Met` with a non-breaking space beside it.",
        "",
        "## Returns per cycle",
        "",
        "| cycle | cases | returns (agency x case) | toolkit files | bulk files | other files |",
        "|---|---|---|---|---|---|",
    ]
    for cycle, s in summary.items():
        f = s["files"]
        lines.append(
            f"| {cycle} | {s['cases']} | {s['returns']} | {f.get('toolkit', 0)} "
            f"| {f.get('bulk', 0)} | {f.get('other', 0)} |"
        )
    lines += [
        "",
        "| agency | " + " | ".join(summary) + " |",
        "|---|" + "---|" * len(summary),
    ]
    for agency in AGENCY_ORDER:
        counts = " | ".join(str(s["returns_by_agency"].get(agency, 0)) for s in summary.values())
        lines.append(f"| {agency} | {counts} |")
    lines += [
        "",
        "## Deliberate quirks",
        "",
        "Problems real returns have (report 2.3.4 to 2.3.6), put here on purpose so the",
        "loader's handling of each can be seen. Paths are relative to the cycle folder.",
        "",
        "In every cycle: every CSC-SW toolkit writes its CareFirst ID as a number cell;",
        f"{', '.join(no_type)} give no Case ID type (the loader then searches every",
        "identifier column); Young Carers (VCS) write the Case ID type in lower case and",
        "the date completed as text.",
        "",
    ]
    for cycle, s in summary.items():
        lines.append(f"### {cycle}")
        lines.append("")
        for q in s["quirks"]:
            files = ", ".join(f"`{f}`" for f in q["files"])
            lines.append(f"- {q['quirk']}: {files}")
        lines.append("")
    return "\n".join(lines)
