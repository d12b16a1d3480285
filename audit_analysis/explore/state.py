"""The explorer's state: what the controls say (:class:`Selection`), which cycles a
folder holds (:func:`available_cycles`), and each cycle's ratings counted once into an
array of case x agency x standard x rating (:class:`PreparedCycle`), from which every
view reads its counts (:func:`tally_selection`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit_analysis.analysis.agreement import disagreement_register
from audit_analysis.analysis.summaries import age_band, count_columns
from audit_analysis.io.cycles import DataFolder, sort_audits
from audit_analysis.io.dataset import CASES_FILE, CycleData
from audit_analysis.io.labels import current as current_labels
from audit_analysis.io.ratings import Scale
from audit_analysis.render.labels import good, shown_scale

__all__ = [
    "BANNER",
    "GROUPINGS",
    "NO_MATCH",
    "NO_WIDGETS",
    "ORDERS",
    "SORTS",
    "sorts",
    "VIEWS",
    "PreparedCycle",
    "Selection",
    "available_cycles",
    "prepare",
    "tally_selection",
]

BANNER = (
    "OFFICIAL-SENSITIVE: for the case audit QA group only. This explorer shows case "
    "references and auditors' evidence: do not share it, or what it exports, beyond the "
    "QA group, and never with the Executive Group."
)
NO_MATCH = "No ratings match this selection"
NO_WIDGETS = (
    "The explorer's controls need Jupyter's widget manager: open this notebook in "
    "JupyterLab 4 with ipywidgets installed (`make lab` installs both) and run it there. "
    "Shown here instead: static tables for the selection it starts with."
)
VIEWS = {
    "changes": "What changed",
    "summary": "Share and ratings",
    "agencies": "By agency",
    "cycles": "Over the cycles",
    "cases": "Cases",
    "case": "One case",
    "disagreements": "Disagreements",
}
SORTS = {
    "case_ref": "Case reference",
    "priority": "Priority theme",
    "age_band": "Age band",
    "share": "Share rated good",  # shown in the scale's words: sorts()
    "n": "Ratings on the scale",
}


def sorts() -> dict[str, str]:
    """:data:`SORTS` in the shown scale's words ("Share met or exceeded")."""
    return {**SORTS, "share": f"Share {good()}"}


GROUPINGS = {"agency": "Agencies", "priority": "Priority themes"}
ORDERS = {
    "worst": "Largest fall first",
    "best": "Largest rise first",
    "standard": "Standard number",
}
ALL = "all"  # the change view's column of every agency (or theme) together


def slots(scale: Scale | None = None) -> tuple[list[int], list[int]]:
    """Where ``scale``'s good levels and all its levels sit in a cube's last axis
    (:func:`~audit_analysis.analysis.summaries.count_columns` order); default: the shown
    scale."""
    scale = scale or shown_scale()
    columns = count_columns(scale)
    return [columns.index(c) for c in scale.good], [columns.index(c) for c in scale.levels]


def available_cycles(data_dir: str | Path) -> list[str]:
    """The cycles under ``data_dir``, oldest first, that hold a ``cases.csv``: the
    package's one rule for which cycles a folder holds (:class:`DataFolder`: exact
    names, links never followed, near misses never read)."""
    return DataFolder.scan(data_dir).with_cases(CASES_FILE)


@dataclass(frozen=True)
class Selection:
    """What the controls say. ``scope`` is ``all``, ``kloe:<kloe_key>`` or
    ``standard:<standard_key>``; an empty ``agency``, ``priority`` or ``age_band`` means
    all; ``view`` is a key of :data:`VIEWS`; ``case`` the case of the one-case view;
    ``sort_by`` and ``descending`` order the cases view; ``like_for_like`` counts, over
    the cycles, only standards in every compared cycle's framework.

    The change view: ``against`` (the earlier cycle; empty, or not before ``cycle``:
    the latest earlier one; kept across a cycle change, like ``compare``),
    ``by`` (columns: a key of :data:`GROUPINGS`), ``order`` (a key of :data:`ORDERS`),
    ``clear_only`` (only standards with a clear change in some column) and ``cell``
    (``<standard_key>|<column>``: the cell whose cases and evidence are shown)."""

    cycle: str
    compare: tuple[str, ...] = ()
    scope: str = "all"
    agency: str = ""
    priority: str = ""
    age_band: str = ""
    view: str = "changes"
    case: str = ""
    sort_by: str = "case_ref"
    descending: bool = False
    like_for_like: bool = True
    against: str = ""
    by: str = "agency"
    order: str = "worst"
    clear_only: bool = False
    cell: str = ""


@dataclass
class PreparedCycle:
    """One cycle's ratings, counted once: ``cube[case, agency, standard, rating]``
    (ratings in the order of :data:`~audit_analysis.analysis.summaries.COUNT_COLUMNS`), with
    each rating row's codes to find its evidence."""

    data: CycleData
    case_refs: np.ndarray
    priority: np.ndarray
    age_band: np.ndarray
    agencies: list[str]
    std_keys: np.ndarray
    std_kloe: np.ndarray
    cube: np.ndarray
    row_case: np.ndarray
    row_agency: np.ndarray
    row_std: np.ndarray
    row_ok: np.ndarray
    _by_case: tuple[np.ndarray, np.ndarray] | None = None
    _register: pd.DataFrame | None = None

    @property
    def cycle(self) -> str:
        return self.data.cycle

    def rows_of_case(self, code: int) -> np.ndarray:
        """Positions in ``data.ratings`` of one case's ratings, in table order."""
        if self._by_case is None:
            order = np.argsort(self.row_case, kind="stable")
            bounds = np.searchsorted(self.row_case[order], np.arange(len(self.case_refs) + 1))
            self._by_case = (order, bounds)
        order, bounds = self._by_case
        return order[bounds[code] : bounds[code + 1]]

    def register(self) -> pd.DataFrame:
        """:func:`~audit_analysis.analysis.agreement.disagreement_register` of the whole cycle,
        with each standard's ``text``."""
        if self._register is None:
            table = disagreement_register(self.data.ratings)
            fw = self.data.framework
            table["text"] = table["standard_key"].map({s.key: s.text for s in fw.standards})
            self._register = table
        return self._register

    def case_mask(self, s: Selection) -> np.ndarray:
        """The cases the priority theme and age band filters keep."""
        mask = np.ones(len(self.case_refs), dtype=bool)
        if s.priority:
            mask &= self.priority == s.priority
        if s.age_band:
            mask &= self.age_band == s.age_band
        return mask

    def agency_mask(self, s: Selection) -> np.ndarray:
        if not s.agency:
            return np.ones(len(self.agencies), dtype=bool)
        return np.array([a == s.agency for a in self.agencies], dtype=bool)

    def standard_mask(self, scope: str, keep: set[str] | None = None) -> np.ndarray:
        if scope.startswith("kloe:"):
            mask = self.std_kloe == scope[5:]
        elif scope.startswith("standard:"):
            mask = self.std_keys == scope[9:]
        else:
            mask = np.ones(len(self.std_keys), dtype=bool)
        if keep is not None:
            mask &= np.isin(self.std_keys, list(keep))
        return mask

    def selected(self, s: Selection, keep: set[str] | None = None, agency: bool = True):
        """(case, agency, standard) positions the selection keeps and their counts
        ``(cases, agencies, standards, 6)``; ``agency=False`` ignores the agency filter."""
        ci = np.flatnonzero(self.case_mask(s))
        ai = np.flatnonzero(
            self.agency_mask(s) if agency else np.ones(len(self.agencies), dtype=bool)
        )
        si = np.flatnonzero(self.standard_mask(s.scope, keep))
        return ci, ai, si, self.cube[np.ix_(ci, ai, si)]


def _positions(rating: pd.Series, scale: Scale) -> np.ndarray:
    """Each rating's place in ``scale``'s count columns; -1 for anything else."""
    index = {c: i for i, c in enumerate(count_columns(scale))}
    if isinstance(rating.dtype, pd.CategoricalDtype):
        lookup = np.array([index.get(str(c), -1) for c in rating.cat.categories] + [-1])
        return lookup[rating.cat.codes.to_numpy()]
    return rating.astype(object).map(index).fillna(-1).to_numpy(dtype=np.int64)


def prepare(data: CycleData) -> PreparedCycle:
    """Count a cycle's ratings once into :attr:`PreparedCycle.cube`."""
    ratings, fw = data.ratings, data.framework
    refs = [str(r) for r in data.cases["case_ref"]]
    extra = sorted(set(ratings["case_ref"].dropna().astype(str)) - set(refs))
    refs = np.array([*refs, *extra], dtype=object)
    row_case = pd.Index(refs).get_indexer(ratings["case_ref"].astype(object))
    agencies = sorted(str(a) for a in ratings["agency"].dropna().unique())
    row_agency = pd.Index(agencies, dtype=object).get_indexer(ratings["agency"].astype(object))
    std_keys = np.array([s.key for s in fw.standards], dtype=object)
    row_std = pd.Index(std_keys).get_indexer(ratings["standard_key"].astype(object))
    row_cat = _positions(ratings["rating"], data.scale)
    ok = (row_case >= 0) & (row_agency >= 0) & (row_std >= 0) & (row_cat >= 0)
    shape = (len(refs), len(agencies), len(std_keys), len(count_columns(data.scale)))
    flat = np.ravel_multi_index((row_case[ok], row_agency[ok], row_std[ok], row_cat[ok]), shape)
    cube = np.bincount(flat, minlength=int(np.prod(shape))).astype(np.uint16).reshape(shape)
    lookup = data.cases.drop_duplicates("case_ref").set_index("case_ref")
    priority = pd.Series(refs).map(lookup.get("priority", {}))
    ages = pd.Series(refs).map(lookup.get("age", {}))
    return PreparedCycle(
        data=data,
        case_refs=refs,
        priority=priority.astype(object).where(priority.notna(), None).to_numpy(dtype=object),
        age_band=age_band(ages).astype(object).where(ages.notna(), None).to_numpy(dtype=object),
        agencies=agencies,
        std_keys=std_keys,
        std_kloe=np.array([s.kloe_key for s in fw.standards], dtype=object),
        cube=cube,
        row_case=row_case,
        row_agency=row_agency,
        row_std=row_std,
        row_ok=ok,
    )


def tally_selection(counts: np.ndarray, scale: Scale | None = None) -> pd.DataFrame:
    """:func:`~audit_analysis.analysis.summaries.tally`'s columns from counts already made.

    ``counts`` is ``(groups, cases, 6)``: each group's ratings of each case in the order
    of :data:`~audit_analysis.analysis.summaries.COUNT_COLUMNS`. One row per group: each
    category's count, ``cases`` (cases with a rating on the scale), ``case_ss`` (the sum
    over cases of ``(y_i - p n_i) ** 2``), ``n`` and ``met_or_better``: what
    :func:`~audit_analysis.analysis.summaries.add_shares` needs for the interval by case.
    """
    counts = np.asarray(counts, dtype=np.int64)
    scale = scale or shown_scale()
    good, levels = slots(scale)
    y = counts[..., good].sum(axis=-1)
    n = counts[..., levels].sum(axis=-1)
    big_y, big_n = y.sum(axis=1), n.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(big_n > 0, big_y / np.where(big_n > 0, big_n, 1), 0.0)
    frame = pd.DataFrame(counts.sum(axis=1), columns=list(count_columns(scale)))
    frame["cases"] = (n > 0).sum(axis=1)
    frame["case_ss"] = ((y - p[:, None] * n) ** 2).sum(axis=1)
    frame["n"] = big_n
    frame["met_or_better"] = big_y
    return frame


def normalise(s: Selection, cyc: PreparedCycle, cycles: list[str]) -> Selection:
    """``s`` with every choice the cycle cannot take reset. Compared cycles are kept
    as chosen (the controls offer those before the current cycle; a later one is kept
    in the state, unused, so that it is back when the cycle moves on again)."""
    from dataclasses import replace

    fw = cyc.data.framework
    compare = tuple(sort_audits({c for c in s.compare if c in cycles}))
    scopes = {"all"} | {f"kloe:{k.key}" for k in fw.kloes}
    scopes |= {f"standard:{x.key}" for x in fw.standards}
    return replace(
        s,
        compare=compare,
        scope=s.scope if s.scope in scopes else "all",
        agency=s.agency if s.agency in cyc.agencies else "",
        priority=s.priority if s.priority in current_labels().priorities else "",
        age_band=s.age_band if s.age_band in current_labels().age_bands else "",
        view=s.view if s.view in VIEWS else "changes",
        sort_by=s.sort_by if s.sort_by in SORTS or s.sort_by in cyc.agencies else "case_ref",
        descending=bool(s.descending),
        like_for_like=bool(s.like_for_like),
        against=s.against if s.against in cycles else "",  # used while before the cycle
        by=s.by if s.by in GROUPINGS else "agency",
        order=s.order if s.order in ORDERS else "worst",
        clear_only=bool(s.clear_only),
    )


def earlier(s: Selection) -> tuple[str, ...]:
    """The compared cycles in use: those before the current cycle."""
    return tuple(c for c in s.compare if c < s.cycle)


class Cycles:
    """The cycles the explorer can show: each loaded (``loader``) and counted
    (:func:`prepare`) when first asked for, then kept."""

    def __init__(self, sources, loader=None, min_cell_count: int = 5) -> None:
        self._sources = dict(sources)
        if not self._sources:
            raise ValueError("no cycles to explore")
        self._loader = loader
        self.min_cell_count = int(min_cell_count)
        self._cases: dict[str, int] = {}
        self._prepared: dict[str, PreparedCycle] = {}
        self.names = sorted(self._sources)
        self._changes: dict = {}
        self._pages: dict = {}

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def get(self, name: str) -> PreparedCycle:
        if name not in self._prepared:
            data = self._sources.get(name)
            if data is None:
                if self._loader is None:
                    raise ValueError(f"cycle {name} is not loaded")
                data = self._loader(name)
                self._sources[name] = data
            self._prepared[name] = prepare(data)
        return self._prepared[name]

    def cases(self, name: str) -> int:
        """The cases of ``name`` with a rating on the scale (as its pages count them)."""
        if name not in self._cases:
            from audit_analysis.sections.small import rated_cases

            self._cases[name] = rated_cases(self.get(name).data.ratings)
        return self._cases[name]

    def small(self, *names: str) -> list[str]:
        """Those of ``names`` that are small audits, by the pages' rule
        (:func:`~audit_analysis.sections.small.is_small` at :attr:`min_cell_count`): a
        comparison with one of them judges no change."""
        from audit_analysis.sections.small import is_small

        return [n for n in names if is_small(self.cases(n), self.min_cell_count)]

    def page_row(self, cycle: str, shown: list[str], like_for_like: bool, scope: str):
        """The trends page's row for ``cycle`` against the earlier cycles ``shown`` (scope
        ``all`` or ``kloe:<key>``), with its verdicts (standardised to one theme mix; a
        KLOE's adjusted across the KLOEs), so that an unfiltered view says what the page
        says; None for a KLOE the page has not. Each table computed once, when first
        asked for."""
        from audit_analysis.analysis.trends import kloe_trend_table, overall_trend

        level = "all" if scope == "all" else "kloe"
        key = (cycle, tuple(shown), like_for_like, level)
        if key not in self._pages:
            current = self.get(cycle).data
            earlier = [self.get(c).data for c in shown]
            if level == "all":
                self._pages[key] = {"all": overall_trend(current, earlier, like_for_like).iloc[0]}
            else:
                kloes = kloe_trend_table(current, earlier, like_for_like)
                self._pages[key] = {f"kloe:{r['kloe_key']}": r for _, r in kloes.iterrows()}
        return self._pages[key].get(scope)

    def changes(self, s: Selection, then: str) -> pd.DataFrame:
        """:func:`~audit_analysis.explore.changes.change_table` of the current cycle
        against ``then``, kept for the filters it depends on (sorting, filtering to clear
        changes or picking a cell computes nothing again)."""
        from audit_analysis.explore.changes import change_table

        used = (s.agency if s.by == "priority" else "", s.priority if s.by == "agency" else "")
        key = (s.cycle, then, s.by, s.age_band, *used)
        if key not in self._changes:
            if len(self._changes) > 16:
                self._changes.pop(next(iter(self._changes)))
            table = change_table(self.get(s.cycle), self.get(then), s)
            if self.small(s.cycle, then):  # measured, not judged, as on a small audit's pages
                table["verdict"] = not_judged(table["verdict"])
            self._changes[key] = table
        return self._changes[key]


def not_judged(verdict: pd.Series) -> pd.Series:
    """Verdicts of change as a small audit's pages give them: every judged one (a change,
    no clear change, or no verdict for the case mix) reads
    :data:`~audit_analysis.sections.small.NOT_JUDGED`; ``not estimable`` stays."""
    from audit_analysis.analysis.trends import CASE_MIX
    from audit_analysis.sections.small import NOT_JUDGED

    verdict = pd.Series(verdict, dtype=object)
    judged = verdict.isin(["improved", "declined", "no clear change", CASE_MIX])
    return verdict.mask(judged, NOT_JUDGED)
