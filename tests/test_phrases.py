"""Distinctive phrases (analysis/phrases.py): the weighted log-odds ratio with an
informative Dirichlet prior against a worked example computed by hand, the tokenising
and two-word phrases it counts, and quotes that carry no identifier."""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd
import pytest

from audit_analysis.analysis import phrases
from audit_analysis.analysis.phrases import (
    MET,
    NOT_MET,
    distinctive_phrases,
    features,
    log_odds,
    quote,
    scrub,
    scrubber,
    tokens,
)


def test_log_odds_against_a_worked_example_by_hand():
    """Monroe, Colaresi and Quinn (2008), the weighted log-odds ratio with an
    informative Dirichlet prior, computed by hand:

    group i (not or partly met): risk 3, consent 1      n_i = 4
    group j (met or exceeded):   risk 1, consent 5      n_j = 6
    whole: risk 4, consent 6, n = 10; a_0 = 5, so
    a_risk = 5 * 4/10 = 2, a_consent = 5 * 6/10 = 3.

    risk:    delta = log((3+2)/(4+5-3-2)) - log((1+2)/(6+5-1-2))
                   = log(5/4) - log(3/8) = log(10/3) = 1.203973
             var   = 1/(3+2) + 1/(1+2) = 8/15 = 0.533333
             z     = 1.203973 / sqrt(0.533333) = 1.203973 / 0.730297 = 1.648608
    consent: delta = log((1+3)/(4+5-1-3)) - log((5+3)/(6+5-5-3))
                   = log(4/5) - log(8/3) = log(3/10) = -1.203973
             var   = 1/(1+3) + 1/(5+3) = 3/8 = 0.375
             z     = -1.203973 / 0.612372 = -1.966079
    So consent passes |z| >= 1.96 (more typical of met evidence) and risk does not.
    """
    table = log_odds(Counter(risk=3, consent=1), Counter(risk=1, consent=5), prior_total=5)
    got = table.set_index("phrase")
    assert list(table["phrase"]) == ["risk", "consent"]  # largest z first
    assert got.loc["risk", "prior"] == pytest.approx(2.0)
    assert got.loc["consent", "prior"] == pytest.approx(3.0)
    assert got.loc["risk", "delta"] == pytest.approx(1.203973, abs=1e-6)
    assert got.loc["risk", "var"] == pytest.approx(0.533333, abs=1e-6)
    assert got.loc["risk", "z"] == pytest.approx(1.648608, abs=1e-6)
    assert got.loc["consent", "delta"] == pytest.approx(-1.203973, abs=1e-6)
    assert got.loc["consent", "var"] == pytest.approx(0.375, abs=1e-9)
    assert got.loc["consent", "z"] == pytest.approx(-1.966079, abs=1e-6)


def test_the_worked_example_from_evidence_text():
    """The same counts as the worked example, from evidence: commas end clauses, so no
    two-word phrase forms, and the hand-computed z comes back in each direction; with
    |z| >= 1.96 only consent is listed."""
    ratings = pd.DataFrame(
        {
            "case_ref": ["C01", "C02", "C03", "C04"],
            "rating": ["unmet", "partially_met", "met", "exceeded"],
            "evidence": [
                "Risk, risk, consent.",
                "Risk",
                "Risk, consent, consent",
                "Consent, consent, consent",
            ],
        }
    )
    loose = distinctive_phrases(
        ratings, prior_total=5, min_count=1, min_cases=1, min_z=0.0, quotes=3
    )
    got = loose.set_index("phrase")
    assert got.loc["risk", "direction"] == NOT_MET
    assert (got.loc["risk", "not_met"], got.loc["risk", "met"]) == (3, 1)
    assert got.loc["risk", "z"] == pytest.approx(1.648608, abs=1e-6)
    assert got.loc["consent", "direction"] == MET
    assert (got.loc["consent", "not_met"], got.loc["consent", "met"]) == (1, 5)
    assert got.loc["consent", "z"] == pytest.approx(-1.966079, abs=1e-6)
    assert got.loc["consent", "delta"] == pytest.approx(math.log(0.3), abs=1e-9)
    # quotes from the phrase's own direction, one per case first
    assert got.loc["consent", "quotes"] == ("Risk, consent, consent", "Consent, consent, consent")
    strict = distinctive_phrases(ratings, prior_total=5, min_count=1, min_cases=1)
    assert list(strict["phrase"]) == ["consent"]
    # each phrase is in three cases' evidence: asking for four leaves none
    assert len(distinctive_phrases(ratings, prior_total=5, min_count=1, min_z=0)) == 2
    assert distinctive_phrases(ratings, prior_total=5, min_count=1, min_cases=4, min_z=0).empty


def test_tokens_words_and_two_word_phrases():
    text = "The child's views: NOT recorded; no plan (see C01) on 12/03/2019. Signs-of-Safety GCP2"
    assert tokens(text) == [
        ["the", "child's", "views"],
        ["not", "recorded"],
        ["no", "plan"],
        ["see", "c01"],
        ["on", "12"],
        ["03"],
        ["2019"],
        ["signs", "of", "safety", "gcp2"],
    ]
    assert features(text) == [
        # "the" and "on" are stop words; numbers without a letter are no phrase
        "child's", "views", "child's views",
        "not", "recorded", "not recorded",
        "no", "plan", "no plan",
        "see", "c01", "see c01",
        "signs", "safety", "gcp2", "safety gcp2",  # "of" is a stop word: no "signs safety"
    ]  # fmt: skip
    # a curly apostrophe is the same word; pairs never cross punctuation
    assert features("Child’s plan. Plan") == ["child's", "plan", "child's plan", "plan"]
    assert "no" not in phrases.STOP_WORDS and "the" in phrases.STOP_WORDS


def test_a_quote_is_the_sentence_or_twenty_words_around_the_phrase():
    short = "Consent was not discussed with the family."
    assert quote(short, "not discussed") == short
    assert quote(short, "plan") is None
    words = [f"w{i}" for i in range(40)]
    long = " ".join(words[:25] + ["consent", "given"] + words[25:])
    q = quote(long, "consent given")
    assert q.startswith("… ") and q.endswith(" …")
    inner = q.removeprefix("… ").removesuffix(" …").split()
    assert len(inner) == 20 and "consent" in inner and "given" in inner


def test_no_identifier_in_any_quote_or_phrase():
    """A case_ref and the cycle's identifiers planted in evidence are replaced by [id]
    in every quote and are never counted as phrases."""
    evidence = "Plan for C07 (CareFirst 931021, AN) has no owner; see TR-96232. An owner is needed"
    ratings = pd.DataFrame(
        {
            "case_ref": [f"C0{i}" for i in range(1, 8)] * 2,
            "rating": ["unmet"] * 7 + ["met"] * 7,
            "evidence": [evidence] * 7 + ["Plan has clear owners and dates."] * 7,
        }
    )
    table = distinctive_phrases(ratings, identifiers={"931021", "AN", "TR-96232"}, min_z=0)
    assert len(table) and all(table["quotes"].map(len))
    quotes = [q for qs in table["quotes"] for q in qs]
    text = " ".join(quotes + list(table["phrase"]))
    for planted in ("C07", "c07", "931021", "AN,", "TR-96232", "96232"):
        assert planted not in text
    assert "[id]" in text
    assert "An owner is needed" in text  # the word "an" is no initials
    assert not set(table["phrase"]) & {"c07", "id", "tr", "96232", "an"}


def test_scrubbing_matches_whole_values():
    pattern = scrubber(["C01", "931021", "AN", "TR-96232", "", None])
    assert scrub("an AN c01 C01x 931021 TR-96232 tr-96232, (C01)", pattern) == (
        "an [id] [id] C01x [id] [id] [id], ([id])"
    )
    assert scrubber([]) is None and scrub("C01", None) == "C01"


def test_no_evidence_on_one_side_gives_an_empty_table():
    ratings = pd.DataFrame(
        {"case_ref": ["C01"], "rating": ["met"], "evidence": ["Plan shared with the family"]}
    )
    table = distinctive_phrases(ratings)
    assert table.empty and list(table.columns) == phrases.COLUMNS
    with pytest.raises(ValueError):
        log_odds({"a": 1}, {"a": 1}, prior_total=0)


def test_quotes_come_from_different_cases_and_say_different_things():
    """Three quotes at most, each different (ignoring case and the apostrophe's shape),
    in the order of the evidence."""
    evidence = {
        "C01": "No plan for the child's views. No plan agreed at all.",
        "C02": "no plan for the child’s views.",
        "C03": "No plan for the child's views.",
        "C04": "There was no plan shared.",
        "C05": "Still no plan in place.",
    }
    ratings = pd.DataFrame(
        {
            "case_ref": list(evidence) + ["C06", "C07", "C08"],
            "rating": ["unmet"] * 5 + ["met"] * 3,
            "evidence": list(evidence.values()) + ["Plan shared with owners."] * 3,
        }
    )
    table = distinctive_phrases(ratings, min_z=0).set_index("phrase")
    assert table.loc["no plan", "not_met"] == 6
    assert table.loc["no plan", "quotes"] == (
        "No plan for the child's views.",
        "There was no plan shared.",
        "Still no plan in place.",
    )


def test_evidence_with_nothing_to_count_gives_no_phrase():
    """Texts of symbols and stop words only (as a `$`-laden test cycle has) leave no
    phrase in either group: no phrase and no division by zero."""
    assert log_odds(Counter(), Counter()).empty
    assert log_odds(Counter(cost=3), Counter(cost=2)).empty  # one phrase: no odds to compare
