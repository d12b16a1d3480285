"""What size of change the audit could detect, and how many cases next year.

The minimum detectable change (MDC) of a comparison is the smallest true change that a
test at two-sided level ``alpha`` would detect with probability ``power`` (Bloom 1995):

    MDC = (t_{alpha/2, df} + t_{1 - power, df}) * SE(change)

with Student's t on ``df = cases - 1`` degrees of freedom (each cycle's interval uses
that many; :mod:`audit_analysis.analysis.inference`). For two independent cycles of the
same design, ``SE(change) = sqrt(V(p1) + V(p2))``, each cycle's variance at its own
share; the change is taken from this cycle's share towards 50%, the direction in which a
share's variance grows, so that a change of the stated size is detected at least as
often in the other direction.

``V`` for another design comes from this cycle's design effect. A share ``p`` resting on
``C`` cases with ``m`` ratings on the scale each has the variance (Kish 1965, section
5.4; Donner and Klar 2000, ch. 5)

    V = p (1 - p) / (C m) * (1 + (m - 1) rho)

where ``rho``, the intraclass correlation of ratings within a case, is read off this
cycle's case-level design effect ``deff = 1 + (m - 1) rho`` (the variance of
:mod:`~audit_analysis.analysis.inference` over ``p (1 - p) / N``; taken between 0 and 1).
More agencies per case means more ratings per case, ``m = agencies x ratings per agency
per case``; with ``rho`` near 1 they add almost nothing, and only more cases help.

Each level (a standard, a KLOE, all standards) takes the median, over its rows, of this
cycle's share, ``rho`` and ratings per agency per case. ``mdc`` is for one comparison at
``alpha``; the standards' and KLOEs' verdicts are adjusted for how many are compared
(Benjamini-Hochberg), which asks more of a change that is the only one: ``mdc_alone``
is the MDC at ``alpha / K`` (``K`` standards or KLOEs compared), which is what the
adjustment asks of a single change among ``K`` (the smallest p-value is compared with
``alpha / K``).

It is a planning figure: it takes the share, ``rho`` and ratings per agency as they
were this cycle, the mix of themes as it was, and the share's variance at the share it
starts from. ``bench/calibration.py`` (``planning``) and ``tests/test_planning.py``
check by simulation that a change of the stated size is detected about 80% of the time.

References
----------
Bloom HS (1995). Minimum detectable effects: a simple way to report the statistical
    power of experimental designs. Evaluation Review 19:547-556.
Donner A, Klar N (2000). Design and Analysis of Cluster Randomization Trials in Health
    Research. Arnold.
Kish L (1965). Survey Sampling. Wiley.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audit_analysis.io.dataset import CycleData
from audit_analysis.io.ratings import scale_of

__all__ = [
    "AGENCIES",
    "COHORTS",
    "LEVELS",
    "design",
    "detectable_change",
    "minimum_detectable_change",
]

COHORTS = (12, 24, 36, 48, 72)
"""Cohort sizes the plan shows by default."""

AGENCIES = (3, 6, 9)
"""Agencies per case the plan shows by default (with this cycle's own mean)."""

LEVELS = ("standard", "kloe", "overall")


def detectable_change(
    share: float,
    rho: float,
    ratings_per_case: float,
    cases: int,
    alpha: float = 0.05,
    power: float = 0.80,
) -> float:
    """Bloom's (1995) MDC for the change between two independent cycles, each with
    ``cases`` cases of ``ratings_per_case`` ratings, from the share ``share`` towards
    50% (the harder direction: a share's variance grows towards 50%), at the intraclass
    correlation ``rho`` (module docstring). The change ``d`` solves
    ``d = M * sqrt(V(share) + V(share -+ d))`` by fixed-point iteration, each cycle's
    variance at its own share. ``nan`` with fewer than 2 cases or a share of 0 or 1."""
    from scipy import special  # t.isf(q, df) is -stdtrit(df, q): scipy.stats' import spared

    if cases < 2 or not 0 < share < 1:
        return float("nan")
    m = max(float(ratings_per_case), 1.0)
    inflation = (1 + (m - 1) * rho) / (cases * m)
    df = cases - 1
    multiplier = float(-special.stdtrit(df, alpha / 2) - special.stdtrit(df, 1 - power))
    towards = -1.0 if share > 0.5 else 1.0
    change = multiplier * np.sqrt(2 * share * (1 - share) * inflation)
    for _ in range(100):
        other = min(max(share + towards * change, 0.0), 1.0)
        variance = (share * (1 - share) + other * (1 - other)) * inflation
        updated = multiplier * np.sqrt(variance)
        if abs(updated - change) < 1e-12:
            break
        change = updated
    return float(change)


def design(data: CycleData) -> pd.DataFrame:
    """This cycle's design, per level: one row per standard, KLOE and the overall
    share, with ``level``, ``key``, ``cases``, ``n`` (ratings on the scale),
    ``share``, ``deff`` (case-level design effect), ``ratings_per_case``,
    ``agencies_per_case`` (mean agencies rating a case on the scale) and ``rho``
    (``(deff - 1) / (ratings_per_case - 1)``, between 0 and 1)."""
    from audit_analysis.analysis.summaries import tally

    ratings = data.ratings
    kloe_of = {s.key: s.kloe_key for s in data.framework.standards}
    keyed = {
        "standard": ratings.assign(key=ratings["standard_key"]),
        "kloe": ratings.assign(key=ratings["standard_key"].map(kloe_of)),
        "overall": ratings.assign(key="all standards"),
    }
    rows = []
    for level, frame in keyed.items():
        frame = frame[frame["key"].notna()]
        counts = tally(frame, ["key"])
        scaled = frame[
            frame["rating"].astype(object).isin(list(scale_of(frame["rating"]).levels)).to_numpy()
        ]
        agencies = scaled.groupby(["key", "case_ref"], observed=True)["agency"].nunique()
        per_case = agencies.groupby(level=0).mean()
        for r in counts.itertuples():
            if r.n <= 0 or r.cases < 2:
                continue
            p = r.met_or_better / r.n
            variance = r.cases / (r.cases - 1) * r.case_ss / r.n**2
            plain = p * (1 - p) / r.n
            deff = max(variance / plain, 1.0) if plain > 0 else 1.0
            m = r.n / r.cases
            rho = float(np.clip((deff - 1) / (m - 1), 0.0, 1.0)) if m > 1 else 0.0
            rows.append(
                {
                    "level": level,
                    "key": r.key,
                    "cases": int(r.cases),
                    "n": int(r.n),
                    "share": p,
                    "deff": deff,
                    "ratings_per_case": m,
                    "agencies_per_case": float(per_case.get(r.key, np.nan)),
                    "rho": rho,
                }
            )
    return pd.DataFrame(rows)


def minimum_detectable_change(
    data: CycleData,
    cohorts: Sequence[int] = COHORTS,
    agencies: Sequence[float] | None = None,
    alpha: float = 0.05,
    power: float = 0.80,
) -> pd.DataFrame:
    """The smallest change between two cycles detectable at two-sided ``alpha`` with
    ``power``, per level and design, from this cycle's design effects (module docstring).

    Args:
        cohorts: cases audited per cycle.
        agencies: agencies rating each case; default :data:`AGENCIES` and this cycle's
            own mean (rounded to one decimal).

    Returns:
        One row per level (``standard``, ``kloe``, ``overall``), cohort and agencies per
        case: ``level``, ``cases``, ``agencies_per_case``, ``this_cycle`` (True for this
        cycle's own cases and agencies), ``share``, ``rho``, ``ratings_per_agency``
        (per case, at this level), ``compared`` (K, how many rows of the level are
        compared at once), ``mdc`` and ``mdc_alone`` (at ``alpha / K``), as shares
        (0.12 is 12 points).
    """
    table = design(data)
    if table.empty:
        return pd.DataFrame(
            columns=[
                "level",
                "cases",
                "agencies_per_case",
                "this_cycle",
                "share",
                "rho",
                "ratings_per_agency",
                "compared",
                "mdc",
                "mdc_alone",
            ]
        )
    own_cases = int(table.loc[table["level"] == "overall", "cases"].iloc[0])
    own_agencies = round(
        float(table.loc[table["level"] == "overall", "agencies_per_case"].iloc[0]), 1
    )
    if agencies is None:  # the defaults, bar one within half an agency of this cycle's
        agencies = sorted({*(a for a in AGENCIES if abs(a - own_agencies) >= 0.5), own_agencies})
    cohorts = sorted({*cohorts, own_cases})
    rows = []
    for level in LEVELS:
        part = table[table["level"] == level]
        if part.empty:
            continue
        share = float(part["share"].median())
        rho = float(part["rho"].median())
        per_agency = float((part["ratings_per_case"] / part["agencies_per_case"]).median())
        k = len(part)
        for c in cohorts:
            for a in agencies:
                m = a * per_agency
                rows.append(
                    {
                        "level": level,
                        "cases": int(c),
                        "agencies_per_case": float(a),
                        "this_cycle": bool(c == own_cases and a == own_agencies),
                        "share": share,
                        "rho": rho,
                        "ratings_per_agency": per_agency,
                        "compared": k,
                        "mdc": detectable_change(share, rho, m, c, alpha, power),
                        "mdc_alone": detectable_change(share, rho, m, c, alpha / k, power),
                    }
                )
    return pd.DataFrame(rows)
