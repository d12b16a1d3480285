"""National scale: every partnership's ratings for several cycles, through every summary,
trend and agreement computation the notebooks make (no bootstrap).

Run as ``python -m bench.scale [partnerships] [cycles]`` in a fresh process, so that its
peak resident memory is this computation's own; it prints one line of JSON. What runs,
for each cycle, on that cycle's national table (every partnership's ratings, case
references unique nationally):

* per partnership (one grouped call each, as a ``by`` column): ``standard_summary``,
  ``kloe_summary`` by priority theme, by age band and by agency;
* pooled nationally: ``overall_summary``, ``with_case_characteristics``,
  ``agreement_by_standard`` and ``agreement_by_kloe`` (``n_boot=0``; raters are the
  agency types, units every partnership's cases), ``pairwise_agreement`` and
  ``disagreement_register``;

then, across the cycles, ``trend_table``, ``trend_long``, ``kloe_trend_table``,
``kloe_trend_long`` and ``overall_trend`` of the national tables (the latest cycle against
every earlier one). Every interval treats the case as the unit: case references are
unique nationally, so cases are the clusters within each partnership.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from audit_analysis.analysis import agreement, summaries, trends
from audit_analysis.io.dataset import CycleData

from .inputs import national_ratings


def compute(ratings, cases, cycles) -> int:
    """Every computation above; returns the number of result rows (so none is skipped)."""
    produced = 0
    national = []
    for cycle, framework in cycles:
        part = ratings[(ratings["cycle"] == cycle).to_numpy()].reset_index(drop=True)
        cohort = cases[(cases["cycle"] == cycle).to_numpy()]
        cohort = cohort[["case_ref", "priority", "age"]].reset_index(drop=True)
        themed = summaries.with_case_characteristics(part, cohort)
        tables = [
            summaries.standard_summary(part, framework, by="partnership"),
            summaries.overall_summary(part),
            summaries.kloe_summary(themed, framework, by=["partnership", "priority"]),
            summaries.kloe_summary(themed, framework, by=["partnership", "age_band"]),
            summaries.kloe_summary(part, framework, by=["partnership", "agency"]),
            agreement.agreement_by_standard(part, framework, n_boot=0),
            agreement.agreement_by_kloe(part, framework, n_boot=0),
            agreement.pairwise_agreement(part),
            agreement.disagreement_register(part),
        ]
        produced += sum(len(t) for t in tables)
        national.append(CycleData(cycle, framework, part, cohort, None, None, None))
    current, earlier = national[-1], national[:-1]
    for table in (
        trends.trend_table(current, earlier),
        trends.trend_long(current, earlier),
        trends.kloe_trend_table(current, earlier),
        trends.kloe_trend_long(current, earlier),
        trends.overall_trend(current, earlier),
    ):
        produced += len(table)
    return produced


def main(partnerships: int = 150, cycles: int = 5) -> dict:
    start = time.perf_counter()
    ratings, cases, chosen = national_ratings(partnerships=partnerships, cycles=cycles)
    made = time.perf_counter() - start
    start = time.perf_counter()
    produced = compute(ratings, cases, chosen)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "partnerships": partnerships,
        "cycles": cycles,
        "rows": len(ratings),
        "result_rows": produced,
        "generate_seconds": round(made, 2),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:3]))))
