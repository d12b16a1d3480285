"""Year-on-year comparison of how often each standard, and each KLOE, was met.

Standards are matched across cycles by their stable ``standard_key`` (and KLOEs by
their ``kloe_key``), never by number: KLOE 1 and KLOE 2 swapped places in 2018-19 and
standard 14 was added, so 2017-18's standard 1 is 2018-19's standard 5 and 2018-19's
standard 14 has no earlier counterpart.

For each cycle a row shows the standard's number in that cycle (missing where it was
not in that year's framework), ``n`` ratings on the scale, ``met_or_better``, ``share``
and its 95% interval by case; against each earlier cycle, the change (current minus
earlier) with its 95% interval by case, its p-value, the p-value adjusted for the
table's other rows and a verdict. Counting rules are those of
:mod:`audit_analysis.analysis.summaries` (``not_recorded`` and ``not_applicable`` in no
denominator).

The inference (:mod:`audit_analysis.analysis.inference`, where the sources are cited): cycles
are independent samples of cases; each share's interval is Korn and Graubard's (1998)
effective-sample-size Wilson interval with Student's t on its cases minus one degrees
of freedom; the change's interval is the MOVER interval of Zou and Donner (2008) from
the two shares' intervals (Newcombe's method 10 when no case holds more than one
rating); its p-value is the one consistent with that interval. The standards compared
against one earlier cycle are a family of two dozen tests, in which one or two would
pass by chance in a year when nothing changed: their verdicts control the false
discovery rate at 5% (Benjamini and Hochberg 1995), ``improved`` or ``declined`` only
where the adjusted p-value is below 0.05. The KLOEs compared are a family too (six
tests at once, in which a year with no change would carry at least one false KLOE
verdict about one time in six) and are adjusted the same way, across the KLOEs. The
overall share is a single comparison: its ``p_adjusted`` equals ``p`` and its verdict
is the interval's. ``not estimable`` where either cycle has fewer than
:data:`~audit_analysis.analysis.inference.MIN_CASES` cases behind the share.

Case mix. The cases are sampled per priority theme and the themes differ in practice,
so a cycle that audits more neglect cases can look worse with nothing changed. Every
change is therefore also estimated with both cycles' shares standardised directly to
the pooled theme mix of the two cycles compared (each theme's share estimated by case,
with a stratified interval by case:
:func:`~audit_analysis.analysis.inference.standardised_pair`, where the sources are
cited), in the ``std_`` columns beside the crude ones, adjusted for many standards (or
KLOEs) the same way. ``crude_verdict_vs_e`` and ``std_verdict_vs_e`` are the two
verdicts; ``verdict_vs_e`` is theirs where they agree and :data:`CASE_MIX` (no verdict)
where one sees a change and the other does not: such a verdict would rest on the mix of
cases audited, or on how its themes are weighted, rather than on practice.

Column names carry the cycle: ``share_2017-18``, ``diff_vs_2017-18`` and so on.
Cycles appear oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit_analysis.analysis.inference import (
    bh_adjust,
    difference_limits,
    difference_p_values,
    effective_sizes,
    standardised_pairs,
)
from audit_analysis.analysis.stats import NOT_ESTIMABLE
from audit_analysis.analysis.summaries import add_shares, tally
from audit_analysis.io.cycles import audit_key
from audit_analysis.io.dataset import CycleData
from audit_analysis.io.development import latest_status
from audit_analysis.io.frameworks import Framework
from audit_analysis.io.ratings import scale_of
from audit_analysis.io.schemas import PRIORITIES

__all__ = [
    "CASE_MIX",
    "combined_verdicts",
    "verdicts",
    "NO_RATINGS",
    "NOT_IN_FRAMEWORK",
    "RATED",
    "kloe_trend_long",
    "area_progress",
    "common_standard_keys",
    "kloe_trend_table",
    "overall_trend",
    "scale_note",
    "trend_long",
    "trend_table",
]

NOT_IN_FRAMEWORK = "not in framework"
NO_RATINGS = "no ratings"
RATED = "rated"

_PER_CYCLE = ("status", "n", "cases", "met_or_better", "share", "low", "high")


@dataclass(frozen=True)
class _Level:
    """What a trend row is: a standard or a KLOE."""

    name: str  # "standard" or "kloe"
    key: str  # "standard_key" or "kloe_key"


_STANDARD = _Level("standard", "standard_key")
_KLOE = _Level("kloe", "kloe_key")
_OVERALL = _Level("overall", "overall")
OVERALL_KEY = "all standards"


def _cycles(current: CycleData, earlier: Sequence[CycleData]) -> list[CycleData]:
    """All cycles, oldest first; each cycle once, the current one last in time."""
    if isinstance(earlier, CycleData):
        earlier = [earlier]
    everything = [*earlier, current]
    names = [d.cycle for d in everything]
    if len(set(names)) != len(names):
        raise ValueError(f"each cycle may be given once; got {', '.join(names)}")
    later = [d.cycle for d in earlier if audit_key(d.cycle) > audit_key(current.cycle)]
    if later:
        raise ValueError(
            f"earlier cycles must come before the current one ({current.cycle}); "
            f"got {', '.join(later)}"
        )
    return sorted(everything, key=lambda d: audit_key(d.cycle))


def _items(frameworks: list[Framework], level: _Level) -> pd.DataFrame:
    """The rows: every key in the latest framework in its order, then keys found only
    in earlier ones (latest first, each in its own order), with their description
    from the latest framework that has them."""
    rows: list[dict] = []
    seen: set[str] = set()
    for fw in reversed(frameworks):
        titles = {k.key: k.title for k in fw.kloes}
        if level is _STANDARD:
            for s in fw.standards:
                if s.key not in seen:
                    seen.add(s.key)
                    rows.append(
                        {
                            "standard_key": s.key,
                            "kloe_key": s.kloe_key,
                            "kloe_title": titles[s.kloe_key],
                            "text": s.text,
                        }
                    )
        elif level is _OVERALL:
            if not rows:
                rows.append({"overall": OVERALL_KEY})
        else:
            for k in fw.kloes:
                if k.key not in seen:
                    seen.add(k.key)
                    rows.append({"kloe_key": k.key, "kloe_title": k.title, "question": k.question})
    return pd.DataFrame(rows)


def scale_note(current: CycleData, earlier: Sequence[CycleData]) -> str:
    """Where the compared audits were rated on different scales: a sentence naming each
    scale and what "good" means in it (what the trend compares is the share rated good,
    never level by level); "" when every audit used one scale."""
    cycles = _cycles(current, earlier)
    scales = [d.scale for d in cycles]
    if all(s.same_levels(scales[0]) and s.good == scales[0].good for s in scales):
        return ""
    groups: list[tuple[list[str], object]] = []
    for d in cycles:
        for names, scale in groups:
            if scale.same_levels(d.scale) and scale.good == d.scale.good:
                names.append(d.cycle)
                break
        else:
            groups.append(([d.cycle], d.scale))
    parts = [
        f"{' and '.join(names)} on {scale.name}, where good means {scale.good_words}"
        for names, scale in groups
    ]
    return (
        "The audits compared used different rating scales: "
        + "; ".join(parts)
        + ". The trend compares the share rated good in each; the levels themselves are"
        " compared only between audits on one scale."
    )


def common_standard_keys(frameworks: Sequence[Framework]) -> set[str]:
    """The standard keys every one of ``frameworks`` holds: what compares like with like."""
    keys = [{s.key for s in fw.standards} for fw in frameworks]
    return set.intersection(*keys) if keys else set()


def _per_cycle(
    data: CycleData, level: _Level, keep: set[str] | None
) -> tuple[pd.DataFrame, dict[str, int], pd.DataFrame]:
    """One row per key of this cycle's framework: its number(s), status, counts,
    share and the case-level terms of its interval. Also (for KLOEs and overall) how
    many standards each row counts, and the case-level counts of :func:`_by_case`."""
    fw = data.framework
    ratings = data.ratings
    if level is _STANDARD:
        frame = pd.DataFrame(
            {
                "key": [s.key for s in fw.standards],
                "kloe": [s.kloe for s in fw.standards],
                "standard": [s.number for s in fw.standards],
            }
        )
        keyed = ratings.assign(key=ratings["standard_key"])
        sizes: dict[str, int] = {}
    else:
        if level is _KLOE:
            frame = pd.DataFrame(
                {"key": [k.key for k in fw.kloes], "kloe": [k.number for k in fw.kloes]}
            )
            kloe_of = {s.key: s.kloe_key for s in fw.standards}
        else:
            frame = pd.DataFrame({"key": [OVERALL_KEY], "kloe": [0]})
            kloe_of = {s.key: OVERALL_KEY for s in fw.standards}
        if keep is not None:
            kloe_of = {k: v for k, v in kloe_of.items() if k in keep}
        if level is _KLOE:
            sizes = {k.key: sum(s.key in kloe_of for s in k.standards) for k in fw.kloes}
        else:
            sizes = {OVERALL_KEY: len(kloe_of)}
        keyed = ratings.assign(key=ratings["standard_key"].map(kloe_of))
        keyed = keyed[keyed["key"].notna()]
    per, by_case = _tallied(frame, keyed, data.cases)
    return per, sizes, by_case


def _tallied(
    frame: pd.DataFrame, keyed: pd.DataFrame, cases: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``frame`` (one row per ``key``) with the counts of the ratings ``keyed`` to it
    (:func:`~audit_analysis.analysis.summaries.tally`; 0 where none), its ``status``
    and :func:`~audit_analysis.analysis.summaries.add_shares`; and the case-level counts
    of :func:`_by_case`."""
    counts = tally(keyed, ["key"])
    where = pd.Index(counts["key"]).get_indexer(frame["key"])  # -1: no rating of the key
    found, taken = where >= 0, np.maximum(where, 0)
    frame = frame.copy()
    for column in ("n", "met_or_better", "cases", "case_ss"):
        values = counts[column].to_numpy()
        values = values[taken] if len(values) else np.zeros(len(frame), dtype=values.dtype)
        if column == "case_ss":
            frame[column] = np.where(found, values.astype("float64"), 0.0)
        else:
            frame[column] = np.where(found, values, 0).astype("int64")
    frame["status"] = np.where(frame["n"] > 0, RATED, NO_RATINGS)
    return add_shares(frame), _by_case(keyed, cases)


def _by_case(keyed: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """One row per key and case with a rating on the scale: ``key``, ``case_ref``,
    ``y`` (rated good), ``n`` (on the scale) and ``theme`` (the case's priority
    theme from ``cases.csv``; missing where it has none)."""
    scale = scale_of(keyed["rating"])
    on = keyed["rating"].isin(list(scale.levels)).to_numpy()
    success = keyed["rating"].isin(list(scale.good)).to_numpy()[on].astype(np.float64)
    keys, key_names = pd.factorize(keyed["key"].to_numpy()[on])
    refs, ref_names = pd.factorize(keyed["case_ref"].to_numpy()[on])
    cells, where = np.unique(keys * max(len(ref_names), 1) + refs, return_inverse=True)
    per = pd.DataFrame(
        {
            "key": np.asarray(key_names, dtype=object)[cells // max(len(ref_names), 1)],
            "case_ref": np.asarray(ref_names, dtype=object)[cells % max(len(ref_names), 1)],
            "y": np.bincount(where, weights=success, minlength=len(cells)),
            "n": np.bincount(where, minlength=len(cells)).astype(np.float64),
        }
    )
    themes = cases.set_index("case_ref")["priority"] if len(cases) else pd.Series(dtype=object)
    theme = per["case_ref"].map(themes).astype(object)
    per["theme"] = theme.where(theme.isin(list(PRIORITIES)), None)
    return per


CASE_MIX = "no verdict: crude and standardised disagree"
"""The verdict where the crude change and the change standardised to one theme mix
disagree: none is given. Either the mix of priority themes audited moved the crude
share, or standardising (which removes the variation between themes) sharpened the
change past the line: either way the verdict would rest on how the cases are weighted."""


def combined_verdicts(crude: Sequence[str], standardised: Sequence[str]) -> list[str]:
    """One verdict from the crude and the theme-standardised one: theirs where they
    agree; :data:`CASE_MIX` (no verdict) where one calls a change the other does not,
    since the verdict then rests on how the themes' cases are weighted; else the crude one
    (``no clear change`` against ``not estimable``)."""
    out = []
    for c, s in zip(crude, standardised, strict=True):
        if c == s:
            out.append(c)
        elif c in ("improved", "declined") or s in ("improved", "declined"):
            out.append(CASE_MIX)
        else:
            out.append(c)
    return out


def _standardised(
    now: pd.DataFrame, then: pd.DataFrame, keys: Sequence[object]
) -> tuple[np.ndarray, ...]:
    """For each key: the current and the earlier share standardised to the two
    cycles' pooled theme mix, as ``(p1, n_eff1, df1, p2, n_eff2, df2)`` arrays
    (:func:`~audit_analysis.analysis.inference.standardised_pairs`); ``nan`` where either
    cycle has no case rated on the key."""
    keys = list(keys)
    pairs = standardised_pairs(now, then, keys)
    have_now, have_then = set(now["key"]), set(then["key"])
    both = np.array([k in have_now and k in have_then for k in keys], dtype=bool)
    return tuple(np.where(both, a, np.nan) for a in pairs[:6])


def verdicts(diff: np.ndarray, adjusted: np.ndarray, confidence: float) -> list[str]:
    """``improved`` or ``declined`` where the adjusted p-value is below ``1 -
    confidence``, ``no clear change`` elsewhere, ``not estimable`` where there is no
    p-value."""
    alpha = 1.0 - confidence
    out = []
    for d, p in zip(diff, adjusted, strict=True):
        if np.isnan(p) or np.isnan(d):
            out.append(NOT_ESTIMABLE)
        elif p < alpha and d > 0:
            out.append("improved")
        elif p < alpha and d < 0:
            out.append("declined")
        else:
            out.append("no clear change")
    return out


def _note(key: str, frameworks: list[Framework], common_only: bool) -> str:
    """For a KLOE: which of its standards were not in every cycle's framework."""
    present: dict[str, list[str]] = {}
    numbers: dict[str, int] = {}
    for fw in frameworks:
        for s in fw.standards:
            if key == OVERALL_KEY or s.kloe_key == key:
                present.setdefault(s.key, []).append(fw.cycle)
                numbers[s.key] = s.number
    cycles = [fw.cycle for fw in frameworks]
    parts = []
    for skey, where in present.items():
        if len(where) < len(cycles):
            missing = [c for c in cycles if c not in where]
            parts.append(f"standard {numbers[skey]} ({skey}) not in {', '.join(missing)}")
    if not parts:
        return ""
    prefix = "left out, since not in every cycle: " if common_only else "not like for like: "
    return prefix + "; ".join(parts)


def _wide(
    current: CycleData,
    earlier: Sequence[CycleData],
    level: _Level,
    common_standards_only: bool = False,
    confidence: float = 0.95,
    standards: Iterable[str] | None = None,
) -> pd.DataFrame:
    cycles = _cycles(current, earlier)
    frameworks = [d.framework for d in cycles]
    table = _items(frameworks, level)
    keys = table[level.key]
    keep = common_standard_keys(frameworks) if common_standards_only else None
    if standards is not None:
        keep = set(standards) if keep is None else keep & set(standards)
    counts: dict[str, pd.DataFrame] = {}
    by_case: dict[str, pd.DataFrame] = {}
    for data in cycles:
        c = data.cycle
        per, sizes, by_case[c] = _per_cycle(data, level, keep)
        per = per.set_index("key").reindex(keys)
        in_fw = per["kloe"].notna().to_numpy()
        table[f"kloe_{c}"] = pd.array(per["kloe"].to_numpy(), dtype="Int64")
        if level is _STANDARD:
            table[f"standard_{c}"] = pd.array(per["standard"].to_numpy(), dtype="Int64")
        elif level is _OVERALL:
            del table[f"kloe_{c}"]
            table[f"standards_{c}"] = pd.array(
                [sizes.get(k) if ok else None for k, ok in zip(keys, in_fw, strict=True)],
                dtype="Int64",
            )
        else:
            table[f"standards_{c}"] = pd.array(
                [sizes.get(k) if ok else None for k, ok in zip(keys, in_fw, strict=True)],
                dtype="Int64",
            )
        table[f"status_{c}"] = np.where(in_fw, per["status"].to_numpy(), NOT_IN_FRAMEWORK)
        table[f"n_{c}"] = pd.array(per["n"].to_numpy(), dtype="Int64")
        table[f"cases_{c}"] = pd.array(per["cases"].to_numpy(), dtype="Int64")
        table[f"met_or_better_{c}"] = pd.array(per["met_or_better"].to_numpy(), dtype="Int64")
        for column in ("share", "low", "high"):
            table[f"{column}_{c}"] = per[column].to_numpy(dtype="float64")
        counts[c] = per
    now = counts[current.cycle]
    for data in cycles:
        if data.cycle == current.cycle:
            continue
        e = data.cycle
        changes = _changes(
            now,
            counts[e],
            by_case[current.cycle],
            by_case[e],
            list(keys),
            family=level is not _OVERALL,  # standards and KLOEs: many tests at once
            confidence=confidence,
        )
        named = {"std_share_now": f"std_share_{current.cycle}", "std_share_then": f"std_share_{e}"}
        for name, values in changes.items():
            table[f"{named.get(name, name)}_vs_{e}"] = values
    if level is not _STANDARD:
        table["note"] = [_note(k, frameworks, common_standards_only) for k in keys]
    return table


def _changes(
    now: pd.DataFrame,
    then: pd.DataFrame,
    by_now: pd.DataFrame,
    by_then: pd.DataFrame,
    keys: Sequence[object],
    family: bool,
    confidence: float,
) -> dict[str, object]:
    """The change of each of ``keys`` from one cycle (``then``) to the current one
    (``now``): ``now`` and ``then`` hold one row per key, in the order of ``keys``, with
    ``met_or_better``, ``n``, ``case_ss`` and ``cases``; ``by_now`` and ``by_then`` their
    case-level counts (:func:`_by_case`). Returns, in the order of the trend table's
    columns: ``diff``, ``diff_low``, ``diff_high``, ``p``, ``p_adjusted`` (over ``keys``
    where they are a ``family`` of tests, else ``p``), ``crude_verdict``; the same
    standardised to the pair's pooled theme mix (``std_share_now``, ``std_share_then``,
    ``std_diff`` ... ``std_verdict``); and ``verdict`` (:func:`combined_verdicts`)."""
    p1, n1, df1 = effective_sizes(now["met_or_better"], now["n"], now["case_ss"], now["cases"])
    p2, n2, df2 = effective_sizes(then["met_or_better"], then["n"], then["case_ss"], then["cases"])
    diff, low, high = difference_limits(p1, n1, df1, p2, n2, df2, confidence)
    s1, m1, f1, s2, m2, f2 = _standardised(by_now, by_then, keys)
    # both sets of p-values in one bisection (it costs the same for one row or many)
    both = difference_p_values(
        *(
            np.concatenate([np.asarray(a, dtype=float), b])
            for a, b in ((p1, s1), (n1, m1), (df1, f1), (p2, s2), (n2, m2), (df2, f2))
        )
    )
    p_value, s_p = both[: len(keys)], both[len(keys) :]
    adjusted = bh_adjust(p_value) if family else p_value
    crude = verdicts(diff, adjusted, confidence)
    s_diff, s_low, s_high = difference_limits(s1, m1, f1, s2, m2, f2, confidence)
    s_adjusted = bh_adjust(s_p) if family else s_p
    standardised = verdicts(s_diff, s_adjusted, confidence)
    return {
        "diff": diff,
        "diff_low": low,
        "diff_high": high,
        "p": p_value,
        "p_adjusted": adjusted,
        "crude_verdict": crude,
        "std_share_now": s1,
        "std_share_then": s2,
        "std_diff": s_diff,
        "std_diff_low": s_low,
        "std_diff_high": s_high,
        "std_p": s_p,
        "std_p_adjusted": s_adjusted,
        "std_verdict": standardised,
        "verdict": combined_verdicts(crude, standardised),
    }


def _long(
    current: CycleData,
    earlier: Sequence[CycleData],
    level: _Level,
    common_standards_only: bool = False,
    confidence: float = 0.95,
    wide: pd.DataFrame | None = None,
) -> pd.DataFrame:
    if wide is None:
        wide = _wide(current, earlier, level, common_standards_only, confidence)
    cycles = [d.cycle for d in _cycles(current, earlier)]
    ident = [c for c in ("standard_key", "kloe_key", "kloe_title", "text", "question") if c in wide]
    numbers = ["kloe", "standard"] if level is _STANDARD else ["kloe", "standards"]
    parts = []
    for c in cycles:
        part = wide[ident].copy()
        part.insert(0, "position", np.arange(1, len(wide) + 1))
        part["cycle"] = c
        part["current"] = c == current.cycle
        for column in (*numbers, *_PER_CYCLE):
            part[column] = wide[f"{column}_{c}"]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["position", "cycle"], kind="stable").reset_index(drop=True)


def trend_table(
    current: CycleData, earlier: Sequence[CycleData], confidence: float = 0.95
) -> pd.DataFrame:
    """One row per standard key: the current framework's standards in its numbering,
    then keys found only in earlier frameworks.

    Columns: ``standard_key``, ``kloe_key``, ``kloe_title``, ``text`` (from the latest
    framework holding the key); for each cycle ``c``, oldest first: ``kloe_c`` and
    ``standard_c`` (its numbers that year; missing when not in that framework),
    ``status_c`` (``rated``, ``no ratings`` or ``not in framework``), ``n_c``,
    ``met_or_better_c`` (missing when not in the framework), ``share_c``, ``low_c``,
    ``high_c`` (Wilson); then for each earlier cycle ``e``: ``diff_vs_e`` (current
    share minus earlier share), ``diff_low_vs_e``, ``diff_high_vs_e`` (Newcombe,
    method 10), ``p_vs_e``, ``p_adjusted_vs_e``, ``crude_verdict_vs_e``; the same
    with both shares standardised to the pair's pooled theme mix:
    ``std_share_<current>_vs_e``, ``std_share_e_vs_e``, ``std_diff_vs_e``,
    ``std_diff_low_vs_e``, ``std_diff_high_vs_e``, ``std_p_vs_e``,
    ``std_p_adjusted_vs_e``, ``std_verdict_vs_e``; and ``verdict_vs_e``
    (``improved``, ``declined``, ``no clear change``, ``not estimable`` or
    :data:`CASE_MIX` where the crude and standardised verdicts disagree).

    Raises:
        ValueError: a cycle is given twice, or an "earlier" cycle is later than
            ``current``.
    """
    return _wide(current, earlier, _STANDARD, confidence=confidence)


def trend_long(
    current: CycleData,
    earlier: Sequence[CycleData],
    confidence: float = 0.95,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`trend_table` one row per standard key x cycle, for plotting.

    Columns: ``position`` (the row's place in :func:`trend_table`, 1 up),
    ``standard_key``, ``kloe_key``, ``kloe_title``, ``text``, ``cycle``, ``current``
    (True for the current cycle), ``kloe``, ``standard`` (numbers that year),
    ``status``, ``n``, ``met_or_better``, ``share``, ``low``, ``high``. Sorted by
    position, then cycle. ``table``: the :func:`trend_table` of the same cycles, when
    the caller has it already (it is reshaped, not computed again).
    """
    return _long(current, earlier, _STANDARD, confidence=confidence, wide=table)


def kloe_trend_table(
    current: CycleData,
    earlier: Sequence[CycleData],
    common_standards_only: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """As :func:`trend_table`, one row per KLOE key (in the current numbering).

    A rating counts towards the KLOE its standard sits under in its own cycle's
    framework. Columns: ``kloe_key``, ``kloe_title``, ``question``; per cycle
    ``kloe_c``, ``standards_c`` (standards counted), ``status_c``, ``n_c``,
    ``met_or_better_c``, ``share_c``, ``low_c``, ``high_c``; per earlier cycle the
    ``diff``/``verdict`` columns; and ``note``, naming the KLOE's standards that were
    not in every cycle's framework (2018-19's standard 14).

    Args:
        common_standards_only: count only standards whose key is in every compared
            cycle's framework, so each KLOE compares like with like.
    """
    return _wide(current, earlier, _KLOE, common_standards_only, confidence)


def kloe_trend_long(
    current: CycleData,
    earlier: Sequence[CycleData],
    common_standards_only: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`kloe_trend_table` one row per KLOE key x cycle (columns as
    :func:`trend_long`, with ``standards`` for ``standard`` and ``question`` for
    ``text``)."""
    return _long(current, earlier, _KLOE, common_standards_only, confidence)


def overall_trend(
    current: CycleData,
    earlier: Sequence[CycleData],
    common_standards_only: bool = False,
    confidence: float = 0.95,
    standards: Iterable[str] | None = None,
) -> pd.DataFrame:
    """All standards together: one row, with the per-cycle and change columns of
    :func:`kloe_trend_table` (``standards_c``, ``status_c``, ``n_c``, ``cases_c``,
    ``met_or_better_c``, ``share_c``, ``low_c``, ``high_c``; ``diff_vs_e``,
    ``diff_low_vs_e``, ``diff_high_vs_e``, ``p_vs_e``, ``p_adjusted_vs_e`` (equal to
    ``p_vs_e``: one comparison), ``verdict_vs_e``) and ``note``. Its first column,
    ``overall``, holds ``"all standards"``.

    Args:
        common_standards_only: count only standards whose key is in every compared
            cycle's framework (like with like); ``note`` names those left out.
        standards: count only these standard keys (for example the standards an area
            for development concerns).
    """
    return _wide(current, earlier, _OVERALL, common_standards_only, confidence, standards)


MEASURED = (
    "improved",
    "no clear change",
    "declined",
    CASE_MIX,
    "not measured",
    "raised this cycle",
)
"""How :func:`area_progress` describes the measured change of an area's standards."""


_MEASURES = (
    "share_then",
    "share_now",
    "diff",
    "diff_low",
    "diff_high",
    "p",
    "std_diff",
    "std_diff_low",
    "std_diff_high",
    "std_p",
)
"""An area's measured change, in :func:`area_progress`'s columns."""


def area_progress(
    current: CycleData, earlier: Sequence[CycleData], confidence: float = 0.95
) -> pd.DataFrame:
    """The report's Appendix II from data: every area for development raised in the
    compared cycles, with its progress and the measured change of its standards.

    One row per area, earlier cycles' areas first (oldest first, in file order), then
    this cycle's. Columns: ``kloe`` and ``kloe_title`` (in this cycle's framework where
    the KLOE still exists), ``area_id``, ``raised_in``, ``area``, ``owner``, ``due``,
    ``standards`` (their numbers this cycle, ``"13, 15"``), ``status`` (the latest
    recorded: this cycle's progress, else an earlier one, else ``open``; ``new`` for
    this cycle's own areas), ``progress`` (what this cycle's audit noted), then the
    measured change of the area's standards taken together, from the cycle that raised
    it to this one, computed as :func:`overall_trend` with ``standards``: ``share_then``,
    ``share_now``, ``diff``, ``diff_low``, ``diff_high`` (95% interval by case), ``p``,
    ``p_adjusted`` (Benjamini-Hochberg over the earlier areas measured: like the
    standards, they are many tests at once), the same standardised to the two cycles'
    pooled theme mix (``std_diff``, ``std_diff_low``, ``std_diff_high``, ``std_p``,
    ``std_p_adjusted``), ``measured`` (one of :data:`MEASURED`; ``improved`` or
    ``declined`` only where both adjusted p-values are below 0.05 on the same side,
    :data:`CASE_MIX` where one is and the other not) and
    ``measured_note`` saying why an area is
    not measured (no standards named, no ratings in one of the cycles, or the cycle that
    raised it not among those compared).
    """
    cycles = _cycles(current, earlier)
    by_cycle = {d.cycle: d for d in cycles}
    kloes = {k.key: k for k in current.framework.kloes}
    numbers = {s.key: s.number for s in current.framework.standards}
    records = [(d.cycle, d.development) for d in cycles if d.development is not None]
    status, progress_now = latest_status(records, "area", now=current.cycle)
    rows = []
    counted: list[tuple[str, list[str]]] = []  # per row: the cycle raising it, what it counts
    for data in cycles:
        record = getattr(data, "development", None)
        if record is None:
            continue
        for area in record.areas.itertuples():
            key = area.area_id.casefold()
            kloe = kloes.get(area.kloe_key)
            own = data.cycle == current.cycle
            row = {
                "kloe": kloe.number if kloe else area.kloe,
                "kloe_title": kloe.title if kloe else area.kloe_key,
                "area_id": area.area_id,
                "raised_in": data.cycle,
                "area": area.area,
                "owner": area.owner,
                "due": area.due,
                "standards": ", ".join(
                    str(numbers[k]) if k in numbers else f"{k} (retired)" for k in area.standards
                ),
                "status": "new" if own else status.get(key, "open"),
                "progress": progress_now.get(key),
            }
            standards, measured, note = _to_count(
                current, by_cycle.get(data.cycle), area.standards, own
            )
            row.update(dict.fromkeys(_MEASURES, float("nan")))
            row.update(measured=measured, measured_note=note)
            rows.append(row)
            counted.append((data.cycle, standards))
    _measure(current, by_cycle, rows, counted, confidence)
    columns = [
        "kloe",
        "kloe_title",
        "area_id",
        "raised_in",
        "area",
        "owner",
        "due",
        "standards",
        "status",
        "progress",
        *_MEASURES,
        "measured",
        "measured_note",
    ]
    table = pd.DataFrame(rows, columns=columns)
    # the earlier areas measured here are a family of tests, like the standards: a
    # change is called only where it stands out after allowing for how many were tested
    table.insert(table.columns.get_loc("p") + 1, "p_adjusted", bh_adjust(table["p"].to_numpy()))
    table.insert(
        table.columns.get_loc("std_p") + 1,
        "std_p_adjusted",
        bh_adjust(table["std_p"].to_numpy(dtype=float)),
    )
    measured = table["measured"].isin(["improved", "declined", "no clear change", CASE_MIX])
    if measured.any():  # the standards' verdict rule, on the adjusted p-values
        crude = verdicts(
            table.loc[measured, "diff"].to_numpy(float),
            table.loc[measured, "p_adjusted"].to_numpy(float),
            confidence,
        )
        standardised = verdicts(
            table.loc[measured, "std_diff"].to_numpy(float),
            table.loc[measured, "std_p_adjusted"].to_numpy(float),
            confidence,
        )
        table.loc[measured, "measured"] = combined_verdicts(crude, standardised)
    return table.astype({"kloe": "Int64"})


def _to_count(
    current: CycleData, then: CycleData | None, keys: Sequence[str], own: bool
) -> tuple[list[str], str | None, str | None]:
    """What measuring an area counts: its standards to tally (in this cycle, and in the
    cycle that raised it unless ``own``; none where it is not measured) and its
    ``measured`` and ``measured_note`` so far (``None`` where the change decides)."""
    if own:
        return list(keys), "raised this cycle", ""
    if not keys:
        return [], "not measured", "no standards named for this area"
    if then is None:
        return [], "not measured", "the cycle that raised it is not compared"
    now_keys = {s.key for s in current.framework.standards}
    then_keys = {s.key for s in then.framework.standards}
    common = [k for k in keys if k in now_keys and k in then_keys]
    if not common:
        return [], "not measured", f"its standards are not in the {current.cycle} framework"
    return common, None, None


def _measure(
    current: CycleData,
    by_cycle: dict[str, CycleData],
    rows: list[dict[str, object]],
    counted: list[tuple[str, list[str]]],
    confidence: float,
) -> None:
    """Fill each area row's measured change in place: every cycle's ratings tallied
    once for all the areas it counts in (:func:`_by_areas`), every area's change from
    the cycle that raised it to this one in one :func:`_changes` (the same arithmetic
    as :func:`overall_trend` with ``standards``, one area per row)."""
    groups: dict[str, dict[int, list[str]]] = {}
    for i, (raised_in, standards) in enumerate(counted):
        if standards:
            groups.setdefault(current.cycle, {})[i] = standards
            if raised_in != current.cycle:
                groups.setdefault(raised_in, {})[i] = standards
    tallied = {c: _by_areas(by_cycle[c], g) for c, g in groups.items()}
    if current.cycle not in tallied:
        return
    now, by_now = tallied[current.cycle]
    for i in groups[current.cycle]:
        if counted[i][0] == current.cycle:
            rows[i]["share_now"] = float(now.at[i, "share"])
    earlier = [i for i in groups[current.cycle] if counted[i][0] != current.cycle]
    if not earlier:
        return
    then = pd.concat([tallied[counted[i][0]][0].loc[[i]] for i in earlier])
    by_then = pd.concat([by for c, (_, by) in tallied.items() if c != current.cycle])
    changes = _changes(
        now.loc[earlier], then, by_now, by_then, earlier, family=False, confidence=confidence
    )
    for j, i in enumerate(earlier):
        row, raised_in = rows[i], counted[i][0]
        row["share_then"] = float(then.at[i, "share"])
        row["share_now"] = float(now.at[i, "share"])
        missing = [
            c for c, n in ((raised_in, then.at[i, "n"]), (current.cycle, now.at[i, "n"])) if n == 0
        ]
        if missing:
            row.update(
                measured="not measured",
                measured_note="its standards have no ratings in " + " or ".join(missing),
            )
            continue
        for column in ("diff", "diff_low", "diff_high", "p"):
            row[column] = float(changes[column][j])
            row[f"std_{column}"] = float(changes[f"std_{column}"][j])
        verdict = changes["verdict"][j]
        if verdict in ("improved", "declined", "no clear change", CASE_MIX):
            row.update(measured=verdict, measured_note="")
        else:
            row.update(measured="not measured", measured_note="too few cases rated to tell")


def _by_areas(data: CycleData, groups: dict[int, list[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One cycle's ratings tallied for many sets of standards at once (an area's
    standards: a set may share standards with another): one row per key of ``groups``,
    indexed by it, with the counts and share of :func:`_tallied`, and their case-level
    counts (:func:`_by_case`). Each set's ratings keep the order of ``data.ratings``,
    so each is counted exactly as :func:`overall_trend` with ``standards`` counts it."""
    ratings = data.ratings
    in_framework = {s.key for s in data.framework.standards}
    codes, names = pd.factorize(ratings["standard_key"])  # missing: -1, never counted
    picked, keys = [], []
    for key, standards in groups.items():
        wanted = np.append(names.isin([k for k in standards if k in in_framework]), False)
        rows = np.flatnonzero(wanted[codes])
        picked.append(rows)
        keys.append(np.full(rows.size, key, dtype=np.int64))
    keyed = ratings[["case_ref", "rating"]].take(np.concatenate(picked))
    keyed = keyed.assign(key=np.concatenate(keys))
    per, by_case = _tallied(pd.DataFrame({"key": list(groups)}), keyed, data.cases)
    return per.set_index("key"), by_case
