"""agreement: reliability data, agreement tables and the disagreement register, wired
against hand counts. (The statistics are checked against published examples in
test_stats.py.)

Standard 1, by case and agency (codes: unmet 0, partially_met 1, met 2, exceeded 3):

    case  WMP           CCG            EDU
    C01   met           met            unmet
    C02   exceeded      partially_met  not_applicable
    C03   unmet         met            met
    C04   not_recorded  met            exceeded

Standard 2: every agency rates every case met. Standard 13, case C01: WMP met, CCG unmet.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from audit_analysis.analysis.agreement import (
    agreement_by_kloe,
    agreement_by_standard,
    disagreement_register,
    pairwise_agreement,
    pairwise_matrix,
    reliability_matrix,
)
from audit_analysis.analysis.stats import (
    cohen_kappa,
    gwet_ac1_bootstrap,
    krippendorff_alpha,
    krippendorff_alpha_bootstrap,
)
from audit_analysis.io.frameworks import load_framework
from audit_analysis.io.ratings import RATING_DTYPE

FW = load_framework("2018-19")
NAN = np.nan
GRID = {
    "C01": ("met", "met", "unmet"),
    "C02": ("exceeded", "partially_met", "not_applicable"),
    "C03": ("unmet", "met", "met"),
    "C04": ("not_recorded", "met", "exceeded"),
}
AGENCIES = ("WMP", "CCG", "EDU")


def frame(records) -> pd.DataFrame:
    """(agency, case, standard, rating[, evidence]) -> a ratings table like load_cycle's."""
    table = pd.DataFrame(
        [
            {
                "cycle": "2018-19",
                "agency": r[0],
                "case_ref": r[1],
                "kloe": FW.by_number(r[2]).kloe,
                "standard": r[2],
                "standard_key": FW.by_number(r[2]).key,
                "rating": r[3],
                "evidence": r[4] if len(r) > 4 else None,
                "source_file": "x.csv",
                "source_row": i + 2,
            }
            for i, r in enumerate(records)
        ]
    )
    table["rating"] = table["rating"].astype(RATING_DTYPE)
    return table


EVIDENCE = {
    ("WMP", "C01", 1): '=HYPERLINK("x") <b>seen</b> on record',
    ("EDU", "C01", 1): "No record of referral\nsecond line",
    ("CCG", "C03", 1): "Practitioner's account",
}


def records():
    out = [
        (agency, case, 1, rating, EVIDENCE.get((agency, case, 1)))
        for case, ratings in GRID.items()
        for agency, rating in zip(AGENCIES, ratings, strict=True)
    ]
    out += [(a, c, 2, "met") for a in AGENCIES for c in GRID]
    return [*out, ("WMP", "C01", 13, "met"), ("CCG", "C01", 13, "unmet")]


@pytest.fixture
def ratings() -> pd.DataFrame:
    return frame(records())


def test_reliability_matrix_per_standard(ratings):
    matrix, agencies, units = reliability_matrix(ratings, standard=1)
    assert agencies == ["CCG", "EDU", "WMP"]
    assert units == ["C01", "C02", "C03", "C04"]
    expected = np.array([[2, 1, 2, 2], [0, NAN, 2, 3], [2, 3, 0, NAN]])
    np.testing.assert_array_equal(matrix, expected)
    by_key, _, _ = reliability_matrix(ratings, standard="threshold-guidance")
    np.testing.assert_array_equal(by_key, expected)


def test_reliability_matrix_per_kloe_has_case_standard_units(ratings):
    matrix, agencies, units = reliability_matrix(ratings, kloe=1)
    assert units == [(c, s) for c in ("C01", "C02", "C03", "C04") for s in (1, 2)]
    assert matrix.shape == (3, 8)
    assert matrix[agencies.index("EDU"), units.index(("C01", 1))] == 0
    assert np.isnan(matrix[agencies.index("WMP"), units.index(("C04", 1))])
    assert (matrix[:, 1::2] == 2).all()  # standard 2: all met


def test_agreement_by_standard_wiring(ratings):
    table = agreement_by_standard(ratings, FW, n_boot=200, seed=7)
    assert table["standard"].tolist() == list(range(1, 25))
    s1 = table.iloc[0]
    # C01 3 raters, C02 2 (C02 EDU n/a), C03 3, C04 2 (WMP not recorded)
    assert (s1["agencies"], s1["rated"], s1["units"], s1["pairable"]) == (3, 10, 4, 10)
    # agreeing pairs: C01 1 of 3, C02 0 of 1, C03 1 of 3, C04 0 of 1
    assert s1["pct_agree"] == pytest.approx(2 / 8)
    matrix, _, _ = reliability_matrix(ratings, standard=1)
    assert (s1["alpha"], s1["alpha_low"], s1["alpha_high"]) == pytest.approx(
        krippendorff_alpha_bootstrap(matrix, "ordinal", n_boot=200, seed=7)
    )
    assert (s1["ac1"], s1["ac1_low"], s1["ac1_high"]) == pytest.approx(
        gwet_ac1_bootstrap(matrix, n_boot=200, seed=7, categories=[0, 1, 2, 3])
    )
    assert bool(s1["estimable"]) and s1["note"] == ""


def test_constant_or_thin_standards_are_not_estimable(ratings):
    table = agreement_by_standard(ratings, FW, n_boot=50).set_index("standard")
    constant = table.loc[2]
    assert not constant["estimable"]
    assert constant["units"] == 4 and constant["pct_agree"] == 1.0
    assert all(math.isnan(constant[c]) for c in ("alpha", "alpha_low", "ac1", "ac1_high"))
    assert "same rating (met)" in constant["note"]
    thin = table.loc[13]  # one case rated by two agencies
    assert not thin["estimable"] and thin["units"] == 1
    assert "fewer than 2 cases" in thin["note"]
    empty = table.loc[20]
    assert (empty["agencies"], empty["units"], empty["estimable"]) == (0, 0, False)
    assert math.isnan(empty["pct_agree"])


def test_n_boot_zero_skips_the_interval(ratings):
    table = agreement_by_standard(ratings, FW, n_boot=0)
    s1 = table.iloc[0]
    matrix, _, _ = reliability_matrix(ratings, standard=1)
    assert s1["alpha"] == pytest.approx(krippendorff_alpha(matrix))
    assert math.isnan(s1["alpha_low"]) and math.isnan(s1["ac1_high"])


def test_agreement_by_kloe(ratings):
    table = agreement_by_kloe(ratings, FW, n_boot=0).set_index("kloe")
    k1 = table.loc[1]
    assert (k1["standards"], k1["units"], k1["pairable"]) == (4, 8, 22)
    matrix, _, _ = reliability_matrix(ratings, kloe=1)
    assert k1["alpha"] == pytest.approx(krippendorff_alpha(matrix))
    assert not table.loc[4, "estimable"]  # KLOE 4: one (case, standard) unit
    assert "case-standards" in table.loc[4, "note"]


def test_agreement_by_kloe_bootstrap_resamples_whole_cases(ratings):
    table = agreement_by_kloe(ratings, FW, n_boot=300, seed=5).set_index("kloe")
    k1 = table.loc[1]
    matrix, _, units = reliability_matrix(ratings, kloe=1)
    cases = [case for case, _ in units]
    clustered = krippendorff_alpha_bootstrap(matrix, "ordinal", n_boot=300, seed=5, clusters=cases)
    assert (k1["alpha"], k1["alpha_low"], k1["alpha_high"]) == pytest.approx(clustered)
    unclustered = krippendorff_alpha_bootstrap(matrix, "ordinal", n_boot=300, seed=5)
    assert (k1["alpha_low"], k1["alpha_high"]) != pytest.approx(unclustered[1:])
    ac1 = gwet_ac1_bootstrap(matrix, n_boot=300, seed=5, categories=[0, 1, 2, 3], clusters=cases)
    assert (k1["ac1"], k1["ac1_low"], k1["ac1_high"]) == pytest.approx(ac1)


def test_every_standard_and_kloe_estimable_on_a_full_size_cycle():
    # Speed is measured in the benchmarks, never in tests.
    rng = np.random.default_rng(0)
    agencies = ["CCG", "WMP", "EDU", "SCH", "CRC", "SIAS", "VCS", "UHB", "SWFT", "NPS"]
    scale = ["unmet", "partially_met", "met", "exceeded", "not_applicable"]
    big = frame(
        [
            (a, f"C{c:02d}", s.number, scale[rng.integers(0, 5)])
            for s in FW.standards
            for c in range(24)
            for a in agencies
            if rng.random() < 0.5
        ]
    )
    table = agreement_by_standard(big, FW, n_boot=1000)
    assert table["estimable"].all()
    assert (table["alpha_low"] <= table["alpha"]).all()
    assert (table["alpha"] <= table["alpha_high"]).all()
    by_kloe = agreement_by_kloe(big, FW, n_boot=1000)
    assert by_kloe["estimable"].all()


def test_pairwise_agreement_hand_counts(ratings):
    table = pairwise_agreement(ratings.query("standard != 2"), min_shared=3)
    assert len(table) == 6  # 3 agencies, ordered pairs
    pairs = table.set_index(["a", "b"])
    # CCG-EDU on standard 1: C01 met/unmet, C03 met/met, C04 met/exceeded
    ccg_edu = pairs.loc[("CCG", "EDU")]
    assert (ccg_edu["shared"], ccg_edu["agree"], ccg_edu["agree_met"]) == (3, 1, 2)
    assert ccg_edu["pct_agree_met"] == pytest.approx(2 / 3)
    # CCG rated all three met: kappa's chance agreement is 1/3, as is its agreement
    assert ccg_edu["kappa"] == pytest.approx(0.0)
    assert not ccg_edu["small"]
    # WMP-CCG: standard 1 C01 met/met, C02 exceeded/partial, C03 unmet/met; 13 met/unmet
    wmp_ccg = pairs.loc[("WMP", "CCG")]
    assert (wmp_ccg["shared"], wmp_ccg["agree"], wmp_ccg["agree_met"]) == (4, 1, 1)
    assert wmp_ccg["kappa"] == pytest.approx(
        cohen_kappa([2, 3, 0, 2], [2, 1, 2, 0], categories=[0, 1, 2, 3])
    )
    # EDU-WMP: C01 unmet/met, C03 met/unmet (C02 n/a, C04 not recorded)
    edu_wmp = pairs.loc[("EDU", "WMP")]
    assert (edu_wmp["shared"], edu_wmp["agree"], edu_wmp["agree_met"]) == (2, 0, 0)
    assert edu_wmp["small"]
    # symmetric counts
    assert pairs.loc[("EDU", "CCG"), "shared"] == 3
    assert table[["a", "b"]].values.tolist() == sorted(table[["a", "b"]].values.tolist())


def test_pairwise_matrix(ratings):
    square = pairwise_matrix(pairwise_agreement(ratings.query("standard != 2")))
    assert list(square.index) == list(square.columns) == ["CCG", "EDU", "WMP"]
    assert np.isnan(np.diag(square.to_numpy())).all()
    assert square.loc["CCG", "EDU"] == pytest.approx(2 / 3)
    assert square.loc["EDU", "WMP"] == 0.0


def test_pairs_with_nothing_shared():
    table = pairwise_agreement(frame([("WMP", "C01", 1, "met"), ("CCG", "C02", 1, "met")]))
    assert table["shared"].tolist() == [0, 0]
    assert table[["pct_agree", "kappa"]].isna().all().all()


def test_disagreement_register_finds_exactly_the_met_versus_unmet_pairs(ratings):
    register = disagreement_register(ratings)
    assert register[["standard", "case_ref"]].values.tolist() == [
        [1, "C01"],
        [1, "C03"],
        [13, "C01"],
    ]
    first = register.iloc[0]
    assert first["standard_key"] == "threshold-guidance" and first["kloe"] == 1
    assert (first["agencies_met"], first["agencies_unmet"]) == ("CCG, WMP", "EDU")
    assert first["ratings"] == "CCG: met; EDU: unmet; WMP: met"
    assert first["evidence_met"] == (
        'CCG: (no evidence)\nWMP: =HYPERLINK("x") <b>seen</b> on record'
    )
    assert first["evidence_unmet"] == "EDU: No record of referral\nsecond line"
    second = register.iloc[1]
    assert (second["agencies_met"], second["agencies_unmet"]) == ("CCG, EDU", "WMP")
    assert second["evidence_met"].startswith("CCG: Practitioner's account\n")
    assert register.iloc[2]["ratings"] == "CCG: unmet; WMP: met"


def test_exceeded_against_unmet_counts_but_partial_does_not():
    register = disagreement_register(
        frame(
            [
                ("WMP", "C01", 5, "exceeded"),
                ("CCG", "C01", 5, "unmet"),
                ("WMP", "C02", 5, "partially_met"),
                ("CCG", "C02", 5, "unmet"),
                ("EDU", "C02", 5, "not_applicable"),
            ]
        )
    )
    assert register["case_ref"].tolist() == ["C01"]
    empty = disagreement_register(frame([("WMP", "C01", 5, "met")]))
    assert empty.empty and "evidence_unmet" in empty.columns


def test_no_ratings_on_the_scale_is_no_crash():
    nothing = frame([("WMP", "C01", 1, "not_applicable"), ("CCG", "C01", 1, "not_recorded")])
    table = agreement_by_standard(nothing, FW)
    assert not table["estimable"].any() and (table["units"] == 0).all()
    assert not agreement_by_kloe(nothing, FW, n_boot=0)["estimable"].any()
    assert pairwise_agreement(nothing)["shared"].tolist() == [0, 0]
    assert disagreement_register(nothing).empty


def test_an_interval_beside_its_estimate_still_draws():
    """A percentile bootstrap interval can lie wholly above or below alpha's estimate on
    small, regular data; the chart must draw it rather than fail the notebook."""
    from audit_analysis.render import plots

    frame = pd.DataFrame(
        {
            "label": ["a", "b"],
            "alpha": [0.5, 0.2],
            "alpha_low": [0.55, 0.1],
            "alpha_high": [0.9, 0.3],
        }
    )
    fig = plots.interval_plot(
        frame, "label", [("alpha", "alpha", "alpha_low", "alpha_high")], xlabel="x"
    )
    assert fig.axes
