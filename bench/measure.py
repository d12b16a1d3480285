"""Loading and agreement, each against its floor or its obvious alternative, in this
process (both sides pay the same interpreter and the same warm caches)."""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from .inputs import Written


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Like :func:`timed` for several functions, one round of each at a time, so a
    slower moment of a shared machine falls on all of them alike."""
    for fn in fns.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


# --------------------------------------------------------------------------- loading


def load_suite(written: Written) -> Callable[[], object]:
    from audit_analysis import load_cycle

    def load() -> object:
        data = load_cycle(written.data_dir, written.cycle)
        if len(data.ratings) != written.ratings or len(data.rejections):
            raise RuntimeError("the benchmark's cycle did not load whole")
        return data

    return load


def load_floor(written: Written) -> Callable[[], object]:
    """python-calamine reading every cell of every sheet of the same workbooks (as the
    loader reads them), and the csv module reading the bulk table's rows: nothing else."""
    import python_calamine

    books = [str(p) for p in written.workbooks]

    def floor() -> int:
        cells = 0
        for path in books:
            workbook = python_calamine.CalamineWorkbook.from_path(path)
            for name in workbook.sheet_names:
                rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                cells += len(rows)
        with written.bulk.open(newline="", encoding="utf-8") as fh:
            cells += sum(1 for _ in csv.reader(fh))
        return cells

    return floor


def load_naive(written: Written) -> Callable[[], object]:
    """What an analyst would write: a loop of ``pandas.read_excel`` (openpyxl) over the
    workbooks, each file's agency and case from its path, and ``pandas.read_csv`` for the
    bulk table; no checks of any kind."""
    books = list(written.workbooks)

    def naive() -> pd.DataFrame:
        frames = []
        for path in books:
            table = pd.read_excel(path, sheet_name=0, header=9, engine="openpyxl")
            frames.append(table.assign(agency=path.parent.name, case_id=path.stem))
        frames.append(pd.read_csv(written.bulk))
        return pd.concat(frames, ignore_index=True)

    return naive


# --------------------------------------------------------------------------- agreement

CODES = {"unmet": 0, "partially_met": 1, "met": 2, "exceeded": 3}


def agreement_inputs(written: Written):
    """The cycle's toolkit ratings (12 agencies by 24 cases) and its framework."""
    from audit_analysis import load_cycle

    data = load_cycle(written.data_dir, written.cycle)
    ratings = data.ratings[data.ratings["source_file"].str.endswith(".xlsx").to_numpy()]
    return ratings.reset_index(drop=True), data.framework


def agreement_suite(ratings: pd.DataFrame, framework) -> Callable[[], object]:
    """What notebook 04 runs: alpha (and AC1) per standard with a 1,000-draw bootstrap."""
    from audit_analysis.analysis.agreement import agreement_by_standard

    return lambda: agreement_by_standard(ratings, framework, n_boot=1000, seed=0)


def agreement_naive(ratings: pd.DataFrame) -> Callable[[], object]:
    """A straightforward loop over the krippendorff package: per standard, pivot agencies
    by cases, alpha, then 1,000 resamples of the cases, alpha on each, percentiles."""
    import krippendorff

    def naive() -> list[tuple]:
        rng = np.random.default_rng(0)
        out = []
        for key, part in ratings.groupby("standard_key", sort=False):
            rating = part["rating"].astype("object")
            part = part[rating.isin(list(CODES)).to_numpy()]
            wide = part.pivot(index="agency", columns="case_ref", values="rating")
            data = wide.apply(lambda column: column.astype("object").map(CODES))
            data = data.to_numpy(dtype=float)
            alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")
            draws = []
            for _ in range(1000):
                columns = rng.integers(0, data.shape[1], data.shape[1])
                try:
                    draws.append(
                        krippendorff.alpha(
                            reliability_data=data[:, columns], level_of_measurement="ordinal"
                        )
                    )
                except ValueError:  # a draw with one value only
                    continue
            low, high = np.nanpercentile(draws, [2.5, 97.5])
            out.append((key, alpha, low, high))
        return out

    return naive
