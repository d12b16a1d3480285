"""The fast paths behind the benchmark give exactly what the plain ones give.

No timing here (targets live in ``bench/``): each vectorised or cached path is checked,
value for value, against the straightforward computation it replaces.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import write_cases, write_toolkit

from audit_analysis import load_cycle
from audit_analysis.analysis.agreement import pairwise_agreement
from audit_analysis.analysis.stats import (
    cohen_kappa,
    kappa_from_table,
    wilson_interval,
    wilson_intervals,
)
from audit_analysis.analysis.summaries import add_shares
from audit_analysis.io import cache


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_intervals_equal_wilson_interval_value_for_value(confidence):
    pairs = [(x, n) for n in range(0, 61) for x in range(n + 1)]
    pairs += [(0, 5000), (1, 5000), (2500, 5000), (4999, 5000), (5000, 5000), (123, 98765)]
    lows, highs = wilson_intervals([x for x, _ in pairs], [n for _, n in pairs], confidence)
    for (x, n), low, high in zip(pairs, lows, highs, strict=True):
        expected = wilson_interval(x, n, confidence)
        assert _same(low, expected[0]) and _same(high, expected[1]), (x, n)


def test_wilson_intervals_reject_what_wilson_interval_rejects():
    with pytest.raises(ValueError):
        wilson_intervals([3], [2])
    with pytest.raises(ValueError):
        wilson_intervals([1.5], [4])
    with pytest.raises(ValueError):
        wilson_intervals([1], [4], confidence=1.0)


def test_add_shares_handles_missing_and_zero_counts():
    table = pd.DataFrame(
        {
            "met_or_better": pd.array([3, 0, None, 2], dtype="Int64"),
            "n": pd.array([4, 0, 5, None], dtype="Int64"),
        }
    )
    out = add_shares(table)
    assert out["share"].iloc[0] == 0.75
    assert (out["low"].iloc[0], out["high"].iloc[0]) == wilson_interval(3, 4)
    assert out[["share", "low", "high"]].iloc[1:].isna().all().all()


def test_kappa_from_table_is_cohen_kappa():
    rng = np.random.default_rng(3)
    for _ in range(50):
        a = rng.integers(0, 4, size=30).astype(float)
        b = np.where(rng.random(30) < 0.6, a, rng.integers(0, 4, size=30)).astype(float)
        table = np.zeros((4, 4))
        np.add.at(table, (a.astype(int), b.astype(int)), 1)
        assert _same(kappa_from_table(table), cohen_kappa(a, b, categories=[0.0, 1.0, 2.0, 3.0]))
    assert math.isnan(kappa_from_table(np.zeros((4, 4))))


def test_pairwise_agreement_counts_each_pair_as_a_merge_would():
    rng = np.random.default_rng(8)
    scale = ["unmet", "partially_met", "met", "exceeded"]
    rows = []
    for agency in ("CCG", "WMP", "EDU"):
        for case in ("C01", "C02", "C03", "C04"):
            for key in ("s1", "s2", "s3"):
                if rng.random() < 0.8:
                    rating = scale[rng.integers(0, 4)] if rng.random() < 0.85 else "not_applicable"
                    rows.append((agency, case, key, rating))
    ratings = pd.DataFrame(rows, columns=["agency", "case_ref", "standard_key", "rating"])
    table = pairwise_agreement(ratings, min_shared=3).set_index(["a", "b"])
    on = ratings[ratings["rating"].isin(scale)]
    both = on.merge(on, on=["case_ref", "standard_key"], suffixes=("_a", "_b"))
    for (a, b), row in table.iterrows():
        pair = both[(both["agency_a"] == a) & (both["agency_b"] == b)]
        x = pair["rating_a"].map(scale.index).to_numpy(dtype=float)
        y = pair["rating_b"].map(scale.index).to_numpy(dtype=float)
        assert row["shared"] == len(pair)
        assert row["agree"] == int((x == y).sum())
        assert row["agree_met"] == int(((x >= 2) == (y >= 2)).sum())
        assert _same(row["kappa"], cohen_kappa(x, y, categories=[0.0, 1.0, 2.0, 3.0]))


@pytest.fixture
def cycle_root(tmp_path):
    folder = tmp_path / "data" / "2018-19"
    write_cases(folder)
    write_toolkit(folder / "returns" / "wmp" / "c01.xlsx", [(1, "met", None)], agency="WMP")
    return tmp_path / "data"


def test_cache_gives_the_loaded_cycle_until_a_file_changes(cycle_root, tmp_path, monkeypatch):
    data = load_cycle(cycle_root, "2018-19")
    path = cache.write(tmp_path / "cache" / "cycles.pickle", cycle_root, [data])
    monkeypatch.setenv(cache.ENV, str(path))
    cached = cache.cycle(cycle_root, "2018-19")
    pd.testing.assert_frame_equal(cached.ratings, data.ratings)
    assert cached is cache.cycle(cycle_root, "2018-19")  # read once per process
    # a return edited after the cache was written: loaded afresh
    write_toolkit(
        cycle_root / "2018-19" / "returns" / "wmp" / "c01.xlsx",
        [(1, "not met", None), (2, "met", None)],
        agency="WMP",
    )
    fresh = cache.cycle(cycle_root, "2018-19")
    assert len(fresh.ratings) == 2 and fresh is not cached


def test_cache_without_the_file_loads_and_an_empty_cache_is_harmless(
    cycle_root, tmp_path, monkeypatch
):
    monkeypatch.delenv(cache.ENV, raising=False)
    assert len(cache.cycle(cycle_root, "2018-19").ratings) == 1
    empty = tmp_path / "empty.pickle"
    empty.write_bytes(pickle.dumps({}))
    monkeypatch.setenv(cache.ENV, str(empty))
    assert len(cache.cycle(cycle_root, "2018-19").ratings) == 1
    broken = tmp_path / "broken.pickle"
    broken.write_bytes(b"not a pickle")
    monkeypatch.setenv(cache.ENV, str(broken))
    assert len(cache.cycle(cycle_root, "2018-19").ratings) == 1
