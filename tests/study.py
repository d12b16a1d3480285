"""A small, invented three-cycle study for end-to-end tests of the notebooks.

Deliberately unlike the demo data: other case references, a handful of agencies, a
partnership's own 2019-20 framework (one standard added, one dropped), hostile evidence
text, and small cohorts so that disclosure control has something to suppress.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from conftest import write_bulk_csv, write_cases, write_toolkit

from audit_analysis.io.frameworks import load_framework

AGENCIES = ["CCG", "WMP", "EDU", "CSC-SW", "SCH"]
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
# The partnership's own texts (areas for development, recommendations, progress) may
# reach the executive page; hostile ones must arrive there escaped.
DEV_HOSTILE = '<img src=x onerror="dev()"> & <i>plans</i>'
DEV_FORMULA = "=cmd|' /c calc'!A1"
FORMULA = '=HYPERLINK("http://evil.invalid")'
# The QA group's commentary: hostile text in every form Markdown could carry it, beside
# figure references that the pages must fill in.
COMMENTARY_HOSTILE = "<script>window.qa = 1</script>"
COMMENTARY = f"""---
status: draft
---

## Summary

Overall {{{{ share overall }}}}; since 2018-19 {{{{ change overall vs 2018-19 }}}}.
{COMMENTARY_HOSTILE} and <b>bold</b> & <img src="http://evil.invalid/c.png">.

![remote](http://evil.invalid/remote.png) and [click](javascript:void(0)).

## What needs to improve

- **Plans**: {{{{ share smart-plans }}}}.

## KLOE thresholds

Thresholds: {{{{ share thresholds }}}}, {{{{ change thresholds vs 2018-19 }}}}.

## Conclusions

Agree the recommendations.
"""
WORDS = ["unmet", "Not met", "partially met", "Met", "met", "Exceeded", "N/A"]


def own_framework(root: Path) -> None:
    """2019-20: the 2018-19 framework with standard 24 dropped and a new standard added."""
    fw = yaml.safe_load(Path(load_framework("2018-19").source).read_text(encoding="utf-8"))
    fw["cycle"] = "2019-20"
    fw["reconstructed"] = False
    fw["note"] = "Test framework."
    kloe6 = fw["kloes"][5]
    kloe6["standards"] = [s for s in kloe6["standards"] if s["key"] != "dispute-resolved-in-line"]
    kloe6["standards"].append(
        {"number": 24, "key": "escalation-recorded", "text": "Escalations are recorded."}
    )
    folder = root / "2019-20"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "framework.yaml").write_text(yaml.safe_dump(fw, sort_keys=False), encoding="utf-8")


def build_study(
    root: Path,
    seed: int = 7,
    words: dict[str, list[str]] | None = None,
    disagree: tuple[str, str] = ("Met", "Not met"),
) -> dict[str, list[str]]:
    """Write cycles 2017-18, 2018-19 and 2019-20 under ``root``; return case refs per cycle.

    ``words``: each cycle's rating words, worst to best then N/A (default :data:`WORDS`),
    for a study on a partnership's own scale; ``disagree``: the good and the worst word
    two agencies give standard 13 of two cases."""
    rng = np.random.default_rng(seed)
    own_framework(root)
    refs: dict[str, list[str]] = {}
    for index, cycle in enumerate(["2017-18", "2018-19", "2019-20"]):
        folder = root / cycle
        n_cases = 9
        cases = []
        for i in range(n_cases):
            priority = ["early_help", "neglect", "exploitation"][i % 3]
            cases.append(
                [
                    f"Q{index}{i:02d}",
                    priority,
                    str(3 + 2 * i),
                    f"77{index}{i:03d}",
                    "",
                    "XY" if i in (1, 2) else f"Z{i}",
                ]
            )
        write_cases(folder, rows=cases)
        refs[cycle] = [c[0] for c in cases]
        fw = load_framework(cycle, root)
        for a, agency in enumerate(AGENCIES):
            rows_bulk = []
            for i, case in enumerate(cases):
                if (i + a) % 4 == 3:
                    continue  # this agency does not work with this child
                rows = []
                for s in fw.standards:
                    level = rng.integers(0, 6) + index  # later cycles do better
                    these = (words or {}).get(cycle, WORDS)
                    word = these[min(int(level), len(these) - 2)]
                    if s.number == 24 and rng.random() < 0.5:
                        word = these[-1]
                    evidence = None if agency == "SCH" else f"Seen in record {s.number}."
                    if i in (0, 2) and s.number == 13:  # agencies disagree, hostile evidence
                        word = disagree[0] if a % 2 == 0 else disagree[1]
                        # (a formula survives only in CSV: Excel keeps a formula's value)
                        evidence = HOSTILE if i == 0 else FORMULA
                    rows.append((s.number, word, evidence))
                if agency == "EDU":  # a bulk table for this agency
                    rows_bulk += [[case[0], "case_ref", n, w, e or ""] for n, w, e in rows]
                    continue
                write_toolkit(
                    folder / "returns" / agency / f"{case[3]}.xlsx",
                    rows,
                    agency=agency,
                    case_id=case[3],
                    case_id_type="CareFirst ID",
                    audit_cycle=cycle,
                )
            if rows_bulk:
                write_bulk_csv(
                    folder / "returns" / "EDU" / "edu.csv",
                    ["case_id", "case_id_type", "standard", "rating", "evidence"],
                    rows_bulk,
                )
        (folder / "returns" / "notes.txt").write_text("chase SCH")
    current = root / "2019-20"
    (current / "deep_dive.csv").write_text(
        "case_ref,discussed,reason_not_discussed,themes,action_required\n"
        "Q200,yes,,CSE,yes\nQ202,no,Family moved away,,no\n",
        encoding="utf-8",
    )
    (current / "learning_event.csv").write_text(
        "kloe,column,text\n4,worried,Plans <b>not</b> SMART\n4,next,Review plans\n",
        encoding="utf-8",
    )
    previous = root / "2018-19"
    _write_rows(
        previous / "development_areas.csv",
        ["area_id", "kloe", "standards", "area", "owner", "due"],
        [
            ["D1", "4", "13", f"{DEV_HOSTILE} SMART plans", DEV_FORMULA, "2019-03"],
            ["D2", "6", "23; 24", "Dispute resolution known", "LSCB Business Unit", "2019-03"],
        ],
    )
    _write_rows(
        previous / "recommendations.csv",
        ["id", "recommendation", "owner", "due"],
        [["R1", f"{DEV_HOSTILE} brief the auditors", "=1+1", "2019-06"]],
    )
    _write_rows(
        current / "progress.csv",
        ["area_id", "progress", "status"],
        [
            ["D1", f"{DEV_FORMULA} progress {DEV_HOSTILE}", "open"],
            ["D2", "Procedure now on the website", "met"],
            ["R1", "Briefing held", "met"],
        ],
    )
    (current / "family_feedback.csv").write_text(
        "case_ref,invited,responded\nQ201,yes,yes\nQ203,yes,no\n", encoding="utf-8"
    )
    (current / "commentary.md").write_text(COMMENTARY, encoding="utf-8")
    return refs


def _write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


#: The thematic study (:func:`build_thematic`): one annual audit and two audits of one
#: theme, the later one of five cases.
THEMATIC = {"2018-19": 9, "2018-10-neglect": 6, "2019-06-neglect": 5}


def theme_framework(root: Path, cycle: str) -> None:
    """A neglect audit's own tool: the 2018-19 framework's KLOEs 1 to 3, renamed."""
    fw = yaml.safe_load(Path(load_framework("2018-19").source).read_text(encoding="utf-8"))
    fw["cycle"] = cycle
    fw["reconstructed"] = False
    fw["note"] = "Test framework of a thematic audit of neglect."
    fw["kloes"] = fw["kloes"][:3]
    folder = root / cycle
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "framework.yaml").write_text(yaml.safe_dump(fw, sort_keys=False), encoding="utf-8")


def build_thematic(root: Path, seed: int = 11) -> dict[str, list[str]]:
    """Write an annual audit (2018-19, nine cases) and two thematic audits of neglect
    (2018-10-neglect, six cases; 2019-06-neglect, five) under ``root``; return the case
    refs per audit. Agencies WMP and CCG return every case (toolkits), EDU a bulk table."""
    rng = np.random.default_rng(seed)
    refs: dict[str, list[str]] = {}
    for index, (cycle, n_cases) in enumerate(THEMATIC.items()):
        if cycle != "2018-19":
            theme_framework(root, cycle)
        folder = root / cycle
        cases = [
            [
                f"T{index}{i:02d}",
                "neglect" if cycle != "2018-19" else ["early_help", "neglect"][i % 2],
                str(4 + i),
                f"88{index}{i:03d}",
                "",
                f"Z{i}",
            ]
            for i in range(n_cases)
        ]
        write_cases(folder, rows=cases)
        refs[cycle] = [c[0] for c in cases]
        fw = load_framework(cycle, root)
        for agency in ("WMP", "CCG", "EDU"):
            bulk = []
            for case in cases:
                rows = [
                    (s.number, WORDS[int(rng.integers(0, 6))], f"Seen in record {s.number}.")
                    for s in fw.standards
                ]
                if agency == "EDU":
                    bulk += [[case[0], "case_ref", n, w, e] for n, w, e in rows]
                    continue
                write_toolkit(
                    folder / "returns" / agency / f"{case[3]}.xlsx",
                    rows,
                    agency=agency,
                    case_id=case[3],
                    case_id_type="CareFirst ID",
                    audit_cycle=cycle,
                )
            write_bulk_csv(
                folder / "returns" / "EDU" / "edu.csv",
                ["case_id", "case_id_type", "standard", "rating", "evidence"],
                bulk,
            )
    (root / "2019-06-neglect" / "commentary.md").write_text(
        "---\nstatus: draft\n---\n\n## Summary\n\nThe QA group: neglect is seen late "
        "<b>here</b>. Since 2018-10-neglect {{ change overall vs 2018-10-neglect }}.\n",
        encoding="utf-8",
    )
    return refs
