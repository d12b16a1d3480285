"""Calibration: do the suite's intervals and verdicts mean what they say?

Simulates pairs of cycles from a known model with case effects, runs the suite's own
summaries and trend tables on them, and counts how often a verdict is declared where
nothing changed, how often a share's interval covers the true share, and how often a
real improvement is detected. ``python -m bench.calibration [pairs]`` prints the
figures; ``make bench`` records them as ``calibration.*``; ``tests/test_calibration.py``
runs a few dozen pairs through ``load_cycle`` as a quick check. ``python -m
bench.calibration --decompose [pairs]`` takes the KLOE verdicts' power apart step by step
(:func:`kloe_power_decomposition`; docs/case-mix-and-planning.md, "Where KLOE power goes").

The model (one simulated partnership per pair of cycles)
--------------------------------------------------------
* The 2018-19 framework's 24 standards in 6 KLOEs. Each standard has its own
  difficulty, drawn once per partnership: ``b_s ~ N(0, 0.6)`` on the logit scale
  around a share met or exceeded of about 72% (``mu = logit(0.72)``).
* Each cycle audits 24 new cases (cycles are independent samples of cases), each with
  a case effect ``u_i ~ N(0, 1)`` on the logit scale: a case handled well is rated
  well by every agency at once.
* 10 agencies, each with a leniency ``a_j ~ N(0, 0.4)``; 6 to 8 of them, at random,
  rate each case, on every standard. With **no drift** the agencies' leniencies stay
  the same in both cycles; with **drift** they are drawn afresh each cycle (an
  auditor grows more lenient or stricter, with no change in practice).
* A rating is met or exceeded with probability ``expit(mu + b_s + u_i + a_j + d)``,
  ``d`` being 0 in the earlier cycle and the true change in the later one; 5% of
  ratings are "not applicable"; a tenth of met-or-better ratings are "exceeded" and
  15% of the others "partially met".

The true share of a standard in a cycle is the expected share of ratings met or
exceeded, ``mean_j E_u[expit(mu + b_s + a_j + u + d)]`` (each agency equally likely to
rate a case), computed by Gauss-Hermite quadrature; a KLOE's and the overall share
average their standards'.

Harder designs (issue 20), each run with no change and with +1 logit (:data:`HARDER`):
10 cases a cycle; shares near 95% with 40% of ratings "not applicable"; 1 to 10
agencies a case; a case-mix shift (priority themes differ by +1, -1 and 0 on the
logit scale, early help, neglect and exploitation, and the cycles audit 4/16/4 then
8/8/8 cases of them: practice unchanged, the mix changed; the true share is that of
each cycle's own mix). And :data:`SHARED_DRIFT`: every agency 0.5 logit more lenient in
the later cycle with practice unchanged, which moves every rating alike: nothing in the
ratings can tell it from better practice, and no method on these data can see it.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from audit_analysis.analysis import summaries, trends
from audit_analysis.analysis.stats import newcombe_difference_interval
from audit_analysis.io.dataset import CycleData
from audit_analysis.io.frameworks import Framework, load_framework
from audit_analysis.io.ratings import CATEGORIES

AGENCIES = ("CCG", "BSMHF", "CRC", "EDU", "CSC-EH", "CSC-SW", "SWFT", "NPS", "UHB", "WMP")
PRIORITIES = ("early_help", "neglect", "exploitation")
EARLIER, LATER = "2018-19", "2019-20"
MU = float(np.log(0.72 / 0.28))


@dataclass(frozen=True)
class Scenario:
    name: str
    change: float = 0.0  # true change on the logit scale, every standard
    drift: bool = False  # agencies' leniency redrawn each cycle
    shared_drift: float = 0.0  # every agency more lenient by this much in the later cycle
    case_sd: float = 1.0
    agency_sd: float = 0.4
    standard_sd: float = 0.6
    cases: int = 24
    share: float = 0.72  # around which the standards' shares are drawn
    not_applicable: float = 0.05  # share of ratings "not applicable"
    agencies: tuple[int, int] = (6, 8)  # agencies rating a case, fewest and most
    theme_effect: tuple[float, float, float] = (0.0, 0.0, 0.0)  # early help, neglect, exploitation
    mix: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None  # cases per theme


NULL = Scenario("no change")
DRIFT = Scenario("no change, agency drift", drift=True)
IMPROVED = Scenario("improvement of 1 logit", change=1.0)
# the harder designs of issue 20: each run with no change and with +1 logit
FEW_CASES = Scenario("10 cases", cases=10)
HIGH_SHARE = Scenario("shares near 95%, 40% not applicable", share=0.95, not_applicable=0.40)
UNBALANCED = Scenario("1 to 10 agencies a case", agencies=(1, 10))
CASE_MIX = Scenario(
    "case mix 4/16/4 then 8/8/8, themes differ",
    theme_effect=(1.0, -1.0, 0.0),
    mix=((4, 16, 4), (8, 8, 8)),
)
SHARED_DRIFT = Scenario("no change, every agency 0.5 logit more lenient", shared_drift=0.5)
MDC_DESIGNS = ((24, 6, 0.75, 0.3), (12, 24, 0.8, 0.2), (48, 5, 0.4, 0.5), (24, 140, 0.77, 0.13))
"""(cases, ratings a case, share, intraclass correlation) at which :func:`mdc_detection`
checks the minimum detectable change; the last is the demo's overall share."""
HARDER = {
    "few_cases": FEW_CASES,
    "high_share": HIGH_SHARE,
    "unbalanced": UNBALANCED,
    "case_mix": CASE_MIX,
}


def framework(cycle: str) -> Framework:
    """The 2018-19 framework under ``cycle``'s name (a partnership's own, unchanged)."""
    return dataclasses.replace(load_framework("2018-19"), cycle=cycle)


def framework_yaml(cycle: str) -> str:
    data = yaml.safe_load(Path(load_framework("2018-19").source).read_text(encoding="utf-8"))
    data["cycle"] = cycle
    data["reconstructed"] = False
    data["note"] = "Calibration simulation: the 2018-19 framework, unchanged."
    return yaml.safe_dump(data, sort_keys=False)


_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _expected(eta: np.ndarray, sd: float) -> np.ndarray:
    """E[expit(eta + u)], u ~ N(0, sd), for each value of ``eta``."""
    return (1 / (1 + np.exp(-(eta[..., None] + sd * _NODES)))) @ _WEIGHTS


def simulate_cycle(
    rng: np.random.Generator,
    scenario: Scenario,
    cycle: str,
    fw: Framework,
    difficulty: np.ndarray,
    leniency: np.ndarray,
    change: float,
    drift: float = 0.0,
    mix: tuple[int, int, int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """One cycle's ratings (``load_cycle``'s columns) and cases, and its true shares
    (keyed by standard key, KLOE key and ``"overall"``): of practice, so a ``drift``
    shared by every agency moves the ratings and not the truth. ``mix``: cases per
    priority theme (default ``scenario.cases`` cycled through the themes)."""
    standards = fw.standards
    if mix is None:
        theme = np.arange(scenario.cases) % len(PRIORITIES)
    else:
        theme = np.repeat(np.arange(len(PRIORITIES)), mix)
    size = len(theme)
    refs = [f"S{cycle[2:4]}{i:02d}" for i in range(size)]
    case_effect = rng.normal(0.0, scenario.case_sd, size)
    effect = np.asarray(scenario.theme_effect)[theme]
    mu = float(np.log(scenario.share / (1 - scenario.share)))
    low, high = scenario.agencies
    rows: dict[str, list] = {k: [] for k in ("agency", "case_ref", "s", "rating")}
    for i, ref in enumerate(refs):
        chosen = rng.choice(len(AGENCIES), size=rng.integers(low, high + 1), replace=False)
        eta = (
            mu
            + difficulty[None, :]
            + case_effect[i]
            + effect[i]
            + leniency[chosen][:, None]
            + change
            + drift
        )
        met = rng.random(eta.shape) < 1 / (1 + np.exp(-eta))
        draw = rng.random(eta.shape)
        rating = np.where(
            met,
            np.where(draw < 0.10, "exceeded", "met"),
            np.where(draw < 0.15, "partially_met", "unmet"),
        )
        rating = np.where(rng.random(eta.shape) < scenario.not_applicable, "not_applicable", rating)
        for a, agency in enumerate(chosen):
            rows["agency"] += [AGENCIES[agency]] * len(standards)
            rows["case_ref"] += [ref] * len(standards)
            rows["s"] += list(range(len(standards)))
            rows["rating"] += list(rating[a])
    s = np.array(rows["s"])
    ratings = pd.DataFrame(
        {
            "cycle": cycle,
            "agency": rows["agency"],
            "case_ref": rows["case_ref"],
            "kloe": np.array([x.kloe for x in standards])[s],
            "standard": np.array([x.number for x in standards])[s],
            "standard_key": np.array([x.key for x in standards], dtype=object)[s],
            "rating": pd.Categorical(rows["rating"], categories=list(CATEGORIES), ordered=True),
            "evidence": pd.Series([None] * len(s), dtype="object"),
            "source_file": "returns/all.csv",
            "source_row": np.arange(2, len(s) + 2),
        }
    )
    cases = pd.DataFrame(
        {
            "case_ref": refs,
            "priority": [PRIORITIES[t] for t in theme],
            "age": [(3 * i) % 18 for i in range(size)],
        }
    )
    # the true share: practice (no drift), over this cycle's mix of themes
    weights = np.bincount(theme, minlength=len(PRIORITIES)) / size
    per_standard = np.zeros(len(standards))
    for t, w in enumerate(weights):
        if w:
            eta = mu + scenario.theme_effect[t] + difficulty[:, None] + leniency[None, :] + change
            per_standard += w * _expected(eta, scenario.case_sd).mean(axis=1)
    truth = {x.key: float(p) for x, p in zip(standards, per_standard, strict=True)}
    for kloe in fw.kloes:
        truth[kloe.key] = float(np.mean([truth[x.key] for x in kloe.standards]))
    truth["overall"] = float(per_standard.mean())
    return ratings, cases, truth


def simulate_pair(rng: np.random.Generator, scenario: Scenario):
    """Two cycles of one simulated partnership: ``(earlier, later)``, each
    ``(ratings, cases, truth)``."""
    fws = framework(EARLIER), framework(LATER)
    difficulty = rng.normal(0.0, scenario.standard_sd, len(fws[0].standards))
    leniency = rng.normal(0.0, scenario.agency_sd, len(AGENCIES))
    mixes = scenario.mix or (None, None)
    first = simulate_cycle(rng, scenario, EARLIER, fws[0], difficulty, leniency, 0.0, mix=mixes[0])
    if scenario.drift:
        leniency = rng.normal(0.0, scenario.agency_sd, len(AGENCIES))
    second = simulate_cycle(
        rng,
        scenario,
        LATER,
        fws[1],
        difficulty,
        leniency,
        scenario.change,
        drift=scenario.shared_drift,
        mix=mixes[1],
    )
    return first, second


def as_cycle(cycle: str, ratings: pd.DataFrame, cases: pd.DataFrame) -> CycleData:
    """A simulated cycle as :func:`load_cycle` would give it (no files involved)."""
    return CycleData(
        cycle=cycle,
        framework=framework(cycle),
        ratings=ratings,
        cases=cases,
        returns=pd.DataFrame(),
        rejections=pd.DataFrame(),
        folder=Path("."),
    )


def write_cycle(root: Path, cycle: str, ratings: pd.DataFrame, cases: pd.DataFrame) -> None:
    """A simulated cycle as a cycle folder: its framework, ``cases.csv`` and one bulk
    table, for :func:`load_cycle`."""
    folder = root / cycle
    (folder / "returns").mkdir(parents=True, exist_ok=True)
    (folder / "framework.yaml").write_text(framework_yaml(cycle), encoding="utf-8")
    cases.to_csv(folder / "cases.csv", index=False)
    words = {"not_applicable": "n/a", "partially_met": "partially met"}
    with (folder / "returns" / "all.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["agency", "case_id", "standard", "rating"])
        for agency, ref, number, rating in zip(
            ratings["agency"],
            ratings["case_ref"],
            ratings["standard"],
            ratings["rating"].astype(str),
            strict=True,
        ):
            out.writerow([agency, ref, number, words.get(rating, rating)])


# ----------------------------------------------------------------- evaluation


def evaluate(earlier: CycleData, later: CycleData, truths: tuple[dict, dict]) -> dict:
    """One pair's verdicts and coverage, per level (standard, KLOE, overall)."""
    e = earlier.cycle
    tables = {
        "standard": trends.trend_table(later, [earlier]).rename(columns={"standard_key": "key"}),
        "kloe": trends.kloe_trend_table(later, [earlier]).rename(columns={"kloe_key": "key"}),
        "overall": trends.overall_trend(later, [earlier]).assign(key="overall"),
    }
    out: dict[str, dict] = {}
    for level, table in tables.items():
        verdict = table[f"verdict_vs_{e}"]
        covered, intervals = 0, 0
        for cycle, truth in zip((e, later.cycle), truths, strict=True):
            low, high = table[f"low_{cycle}"], table[f"high_{cycle}"]
            true = table["key"].map(truth)
            ok = low.notna() & high.notna()
            covered += int(((low <= true) & (true <= high))[ok].sum())
            intervals += int(ok.sum())
        # What the suite did before case-level inference: every rating independent,
        # Newcombe's interval on rating counts, no adjustment for many standards.
        naive = 0
        columns = [f"{k}_{c}" for c in (later.cycle, e) for k in ("met_or_better", "n")]
        for counts in table[columns].itertuples(index=False):
            if all(pd.notna(v) for v in counts) and counts[1] > 0 and counts[3] > 0:
                _, low, high = newcombe_difference_interval(*(int(v) for v in counts))
                naive += int(low > 0 or high < 0)
        out[level] = {
            "rows": len(table),
            "naive_verdicts": naive,
            "unadjusted": int((table[f"p_vs_{e}"] < 0.05).sum()),
            "crude_verdicts": int(
                table[f"crude_verdict_vs_{e}"].isin(["improved", "declined"]).sum()
            ),
            "verdicts": int(verdict.isin(["improved", "declined"]).sum()),
            "any_verdict": int(verdict.isin(["improved", "declined"]).any()),
            "improved": int((verdict == "improved").sum()),
            "estimable": int((verdict != "not estimable").sum()),
            "covered": covered,
            "intervals": intervals,
        }
    return out


def run(scenario: Scenario, pairs: int, seed: int = 2018) -> dict[str, float]:
    """Rates over ``pairs`` simulated pairs of cycles: ``false_<level>`` (or
    ``detect_<level>`` when the scenario has a change) and ``coverage_<level>``."""
    rng = np.random.default_rng(seed)
    totals: dict[str, dict[str, int]] = {}
    for _ in range(pairs):
        (r1, c1, t1), (r2, c2, t2) = simulate_pair(rng, scenario)
        result = evaluate(as_cycle(EARLIER, r1, c1), as_cycle(LATER, r2, c2), (t1, t2))
        for level, counts in result.items():
            into = totals.setdefault(level, dict.fromkeys(counts, 0))
            for k, v in counts.items():
                into[k] += v
    out: dict[str, float] = {"pairs": pairs}
    for level, t in totals.items():
        if scenario.change:
            out[f"detect_{level}"] = t["improved"] / t["estimable"]
        else:
            out[f"false_{level}"] = t["verdicts"] / t["estimable"]
            out[f"false_{level}_ratings_as_units"] = t["naive_verdicts"] / t["estimable"]
            out[f"false_{level}_crude"] = t["crude_verdicts"] / t["estimable"]
            if level == "standard":
                out["false_standard_unadjusted"] = t["unadjusted"] / t["estimable"]
        out[f"coverage_{level}"] = t["covered"] / t["intervals"]
    return out


def inference_seconds(data_dir: Path, cycle: str, earlier: list[str]) -> dict[str, float]:
    """Seconds the case-level inference costs the analyses of one annual run on
    ``data_dir`` (summaries, breakdowns and trend tables), measured with cProfile as
    the cumulative time inside :mod:`audit_analysis.analysis.inference`, against the whole."""
    import cProfile
    import pstats

    from audit_analysis import load_cycle

    current = load_cycle(data_dir, cycle)
    before = [load_cycle(data_dir, c) for c in earlier]

    def analyses() -> None:
        themed = summaries.with_case_characteristics(current.ratings, current.cases)
        summaries.standard_summary(current.ratings, current.framework)
        summaries.overall_summary(current.ratings)
        for by in ("priority", "age_band"):
            summaries.kloe_summary(themed, current.framework, by=by)
            summaries.standard_summary(themed, current.framework, by=by)
        summaries.kloe_summary(current.ratings, current.framework, by="agency")
        trends.trend_table(current, before)
        trends.kloe_trend_table(current, before)
        trends.kloe_trend_long(current, before, common_standards_only=True)
        trends.overall_trend(current, before, common_standards_only=True)

    analyses()  # warm-up
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    analyses()
    profile.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profile)
    inside = 0.0
    for (filename, _, _name), (_, _, _, cumulative, callers) in stats.stats.items():
        if filename.endswith("inference.py"):
            from_outside = any(not c[0].endswith("inference.py") for c in callers)
            if from_outside:
                inside += cumulative
    return {"inference_seconds": inside, "analyses_seconds": total}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.calibration")
    parser.add_argument("pairs", nargs="?", type=int, default=400)
    parser.add_argument(
        "--decompose",
        action="store_true",
        help="where KLOE power goes on the base design (and false verdicts with no change)",
    )
    args = parser.parse_args(argv)
    out: dict[str, float] = {}
    if args.decompose:
        for key, scenario in (("improved", IMPROVED), ("null", NULL)):
            rates = kloe_power_decomposition(scenario, args.pairs)
            out.update({f"{key}.{k}": v for k, v in rates.items()})
        print(json.dumps(out, indent=2))
        return out
    scenarios = [("null", NULL), ("drift", DRIFT), ("improved", IMPROVED)]
    scenarios += [*HARDER.items(), ("shared_drift", SHARED_DRIFT)]
    for key, scenario in scenarios:
        start = time.perf_counter()
        rates = run(scenario, args.pairs)
        print(f"{scenario.name}: {rates} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
        out.update({f"{key}.{k}": v for k, v in rates.items()})
    print(json.dumps(out, indent=2))
    return out


# ----------------------------------------------------------------- minimum detectable change


def mdc_detection(
    cases: int,
    ratings_per_case: int,
    share: float,
    rho: float,
    pairs: int = 2000,
    seed: int = 20,
) -> dict[str, float]:
    """How often the suite's test (the case-level MOVER p-value below 5%) detects a true
    change of the size :func:`~audit_analysis.analysis.planning.detectable_change` states.

    Each of ``cases`` cases has its own chance of a rating being met, drawn from a beta
    distribution with mean ``share`` (``share -+ mdc``, towards 50%, in the later
    cycle) and intraclass correlation ``rho`` (``1 / (a + b + 1)``), and
    ``ratings_per_case`` ratings drawn
    from it (the beta-binomial model behind the design effect ``1 + (m - 1) rho``).
    Returns ``mdc`` and ``detected`` (the share of ``pairs`` with a verdict of change in
    the right direction; nominally 80%)."""
    from audit_analysis.analysis.inference import difference_p_values, effective_sizes
    from audit_analysis.analysis.planning import detectable_change

    rng = np.random.default_rng(seed)
    mdc = detectable_change(share, rho, ratings_per_case, cases)
    total = 1 / rho - 1

    def cycle(p: float) -> tuple[np.ndarray, ...]:
        chance = rng.beta(p * total, (1 - p) * total, size=(pairs, cases))
        y = rng.binomial(ratings_per_case, chance).astype(np.float64)
        n = float(ratings_per_case * cases)
        share_ = y.sum(axis=1) / n
        ss = ((y - share_[:, None] * ratings_per_case) ** 2).sum(axis=1)
        return effective_sizes(y.sum(axis=1), np.full(pairs, n), ss, np.full(pairs, cases))

    towards = -1.0 if share > 0.5 else 1.0  # the direction the MDC is stated for
    before, after = cycle(share), cycle(share + towards * mdc)
    p = difference_p_values(*after, *before)
    detected = (p < 0.05) & (towards * (after[0] - before[0]) > 0)
    return {"mdc": mdc, "detected": float(detected.mean())}


# ----------------------------------------------------------------- where KLOE power goes


DECOMPOSITION = (
    ("crude, unadjusted", "crude p below 5%"),
    ("standardised, unadjusted", "standardised p below 5%"),
    ("both, unadjusted", "crude and standardised p below 5%, same side"),
    ("crude, Benjamini-Hochberg", "crude verdict alone"),
    ("standardised, Benjamini-Hochberg", "standardised verdict alone"),
    ("suite: both, Benjamini-Hochberg", "the suite's verdict (crude and standardised agree)"),
    (
        "standardised unless crude opposite",
        "standardised verdict, withheld only where the crude calls the opposite",
    ),
    (
        "suite with Welch-Satterthwaite df",
        "the suite's rule, each change's t on Welch-Satterthwaite df",
    ),
    ("suite with BKY two-stage", "the suite's rule, Benjamini-Krieger-Yekutieli adaptive FDR"),
)
"""The steps and alternatives :func:`kloe_power_decomposition` measures, with what each
counts as a verdict in the right direction."""


def _welch_p_values(rows: np.ndarray) -> np.ndarray:
    """The change's p-value as the suite computes it, but with both shares' limits on
    the Welch-Satterthwaite degrees of freedom of the difference's variance (Welch
    1947) instead of each cycle's own. ``rows``: ``(p1, n_eff1, df1, p2, n_eff2, df2)``."""
    from audit_analysis.analysis.inference import difference_p_values

    p1, n1, d1, p2, n2, d2 = (rows[:, j] for j in range(6))
    with np.errstate(divide="ignore", invalid="ignore"):
        v1, v2 = p1 * (1 - p1) / n1, p2 * (1 - p2) / n2
        df = (v1 + v2) ** 2 / (v1**2 / d1 + v2**2 / d2)
    df = np.where(np.isfinite(df), df, np.minimum(d1, d2))
    return difference_p_values(p1, n1, df, p2, n2, df)


def _kloe_inputs(earlier: CycleData, later: CycleData) -> np.ndarray:
    """Per KLOE of ``later``'s framework, the crude and standardised ``(share, n_eff,
    df)`` of both cycles: 12 columns, crude later, crude earlier, standardised later,
    standardised earlier (what :func:`trends.kloe_trend_table` tests)."""
    from audit_analysis.analysis.inference import effective_sizes

    now, _, by_now = trends._per_cycle(later, trends._KLOE, None)
    then, _, by_then = trends._per_cycle(earlier, trends._KLOE, None)
    keys = list(now["key"])
    then = then.set_index("key").reindex(keys)
    now = now.set_index("key").reindex(keys)
    crude = [
        effective_sizes(t["met_or_better"], t["n"], t["case_ss"], t["cases"]) for t in (now, then)
    ]
    return np.column_stack([*crude[0], *crude[1], *trends._standardised(by_now, by_then, keys)])


def kloe_power_decomposition(
    scenario: Scenario = IMPROVED, pairs: int = 4000, seed: int = 2018
) -> dict[str, float]:
    """Where the KLOE verdicts' power (or, with no change, their false verdicts) goes:
    for each step of :data:`DECOMPOSITION`, the share of KLOE comparisons over
    ``pairs`` simulated pairs with a verdict (of improvement where the scenario has a
    change, of either direction where it has none), and its standard error by pair
    (``<step> se``). The suite's own verdict (``suite: both, Benjamini-Hochberg``) is
    read from :func:`trends.kloe_trend_table`; the rest are computed from the same
    pairs' p-values. ``python -m bench.calibration --decompose [pairs]`` prints them."""
    from statsmodels.stats.multitest import multipletests

    from audit_analysis.analysis.inference import bh_adjust

    rng = np.random.default_rng(seed)
    hits: dict[str, list[np.ndarray]] = {name: [] for name, _ in DECOMPOSITION}
    e = EARLIER
    for _ in range(pairs):
        (r1, c1, _), (r2, c2, _) = simulate_pair(rng, scenario)
        earlier, later = as_cycle(EARLIER, r1, c1), as_cycle(LATER, r2, c2)
        table = trends.kloe_trend_table(later, [earlier])
        rows = _kloe_inputs(earlier, later)
        diff = table[f"diff_vs_{e}"].to_numpy(float), table[f"std_diff_vs_{e}"].to_numpy(float)
        p = table[f"p_vs_{e}"].to_numpy(float), table[f"std_p_vs_{e}"].to_numpy(float)
        welch = _welch_p_values(rows[:, :6]), _welch_p_values(rows[:, 6:])

        def called(adjusted, side, diff=diff):
            """A verdict on ``side`` (+1 improved, -1 declined) per KLOE, crude and
            standardised, from p-values adjusted as given."""
            return [(q < 0.05) & (np.sign(d) == side) for q, d in zip(adjusted, diff, strict=True)]

        bh = [bh_adjust(x) for x in p]
        bky = [multipletests(x, alpha=0.05, method="fdr_tsbky")[1] for x in p]
        welch_bh = [bh_adjust(x) for x in welch]
        sides = (1,) if scenario.change else (1, -1)
        step = dict.fromkeys(hits, 0)
        for side in sides:
            (cu, su), (cb, sb) = called(p, side), called(bh, side)
            (cw, sw), (ck, sk) = called(welch_bh, side), called(bky, side)
            step["crude, unadjusted"] += cu
            step["standardised, unadjusted"] += su
            step["both, unadjusted"] += cu & su
            step["crude, Benjamini-Hochberg"] += cb
            step["standardised, Benjamini-Hochberg"] += sb
            step["standardised unless crude opposite"] += sb & ~called(bh, -side)[0]
            step["suite with Welch-Satterthwaite df"] += cw & sw
            step["suite with BKY two-stage"] += ck & sk
            step["suite: both, Benjamini-Hochberg"] += cb & sb
        verdict = table[f"verdict_vs_{e}"]
        suite = verdict == "improved" if scenario.change else verdict.isin(["improved", "declined"])
        # the step computed here is the suite's own verdict, KLOE by KLOE
        assert (suite.to_numpy() == step["suite: both, Benjamini-Hochberg"]).all()
        for name in hits:
            hits[name].append(np.asarray(step[name], dtype=float).mean())
    out: dict[str, float] = {"pairs": pairs}
    for name, per_pair in hits.items():
        values = np.asarray(per_pair)
        out[name] = float(values.mean())
        out[f"{name} se"] = float(values.std(ddof=1) / np.sqrt(len(values)))
    return out


if __name__ == "__main__":
    main()
