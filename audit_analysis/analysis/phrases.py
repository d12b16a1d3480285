"""Distinctive phrases: the words and two-word phrases that most distinguish the auditors'
evidence where a standard was not or only partly met from where it was met or exceeded.

Method: the weighted log-odds ratio with an informative Dirichlet prior (Monroe,
Colaresi and Quinn 2008, "Fightin' Words: lexical feature selection and evaluation for
identifying the content of political conflict", *Political Analysis* 16(4), 372-403).
For a phrase ``w`` counted ``y_wi`` times among the ``n_i`` phrases of group ``i`` (not
or partly met) and ``y_wj`` times among the ``n_j`` of group ``j`` (met or exceeded),
with prior ``a_w`` and ``a_0`` the sum of the priors::

    delta_w = log((y_wi + a_w) / (n_i + a_0 - y_wi - a_w))
            - log((y_wj + a_w) / (n_j + a_0 - y_wj - a_w))
    var_w  ~ 1 / (y_wi + a_w) + 1 / (y_wj + a_w)
    z_w    = delta_w / sqrt(var_w)

The prior is informative: ``a_w = a_0 * y_w / n``, the phrase's share of every phrase of
both groups together scaled to ``a_0`` (:data:`PRIOR_TOTAL` by default), so a rare
phrase's log-odds are pulled towards no difference more than a common one's. A positive
``z`` means the phrase is more typical of not or partly met evidence, a negative one of
met or exceeded evidence.

Phrases: the text is lowercased and cut into clauses at punctuation; a word is a run of
letters and digits (with an apostrophe inside, as in ``child's``); a word of
:data:`STOP_WORDS` is no phrase of its own and no part of a two-word phrase, and a
two-word phrase is two words next to each other in a clause. Words without a letter
(dates, reference numbers) are left out. Words and two-word phrases are counted
together, each occurrence once.

What is shown is a reading aid, not a test: with hundreds of phrases some pass any
threshold of ``z`` by chance, so the QA group reads the quotes before using a phrase.
Quotes are short (the sentence, or about 20 words around the phrase), carry no case
reference, and every value of the cycle's case identifiers in them is replaced by
:data:`PLACEHOLDER` (:func:`scrub`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import pandas as pd

from audit_analysis.io.ratings import scale_of

__all__ = [
    "COLUMNS",
    "MET",
    "NOT_MET",
    "PLACEHOLDER",
    "PRIOR_TOTAL",
    "STOP_WORDS",
    "distinctive_phrases",
    "features",
    "log_odds",
    "quote",
    "scrub",
    "scrubber",
    "tokens",
]


#: ``a_0``, the sum of the Dirichlet prior's parameters: how many phrases' worth of the
#: whole evidence's frequencies each group starts with.
PRIOR_TOTAL = 500.0
#: What an identifier in a quote is replaced by.
PLACEHOLDER = "[id]"
#: The two groups of ratings compared, as the output names them.
NOT_MET = "not or partly met"
MET = "met or exceeded"

#: Small English function words that are no phrase. "no", "not", "nor" and "without"
#: are kept as words: in evidence they carry the finding ("no plan", "not shared").
STOP_WORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it it's its itself just me more most my myself of off on once only or other
    our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom why will with would you your
    yours yourself""".split()  # noqa: SIM905 - a list of words reads as words
)

_CLAUSE = re.compile(r"[.!?;:,()\[\]{}\"“”\n\r\t|/]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|[\r\n]+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SPACES = re.compile(r"\s+")
#: The most words of a quote taken from a longer sentence.
QUOTE_WORDS = 20

#: The columns of :func:`distinctive_phrases`' table.
COLUMNS = ["direction", "phrase", "not_met", "met", "delta", "z", "quotes"]


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE.split(text.replace(PLACEHOLDER, "|")) if c.strip()]


def _words(clause: str) -> list[re.Match]:
    return [m for m in _WORD.finditer(clause)]


def _norm(word: str) -> str:
    return word.replace("’", "'").lower()


def _is_word(word: str) -> bool:
    return any(ch.isalpha() for ch in word)


def tokens(text: str) -> list[list[str]]:
    """``text``'s words, lowercased, clause by clause (stop words kept: they separate
    two-word phrases)."""
    return [[_norm(m.group()) for m in _words(c)] for c in _clauses(text)]


def _phrases(words: Sequence[str]) -> list[str]:
    """The words of one clause and the two-word phrases of words side by side, stop
    words and words without a letter left out."""
    keep = [w not in STOP_WORDS and _is_word(w) for w in words]
    out = [w for w, k in zip(words, keep, strict=True) if k]
    out += [
        f"{a} {b}"
        for i, (a, b) in enumerate(zip(words, words[1:], strict=False))
        if keep[i] and keep[i + 1]
    ]
    return out


def features(text: str) -> list[str]:
    """Every word and two-word phrase of ``text`` (:data:`STOP_WORDS` left out), once per
    occurrence: what the log-odds count."""
    return list(_features(text))


@lru_cache(maxsize=65536)
def _features(text: str) -> tuple[str, ...]:
    # evidence repeats itself across cases and agencies: each text is cut up once
    out: list[str] = []
    for clause in tokens(text):
        out += _phrases(clause)
    return tuple(out)


def log_odds(
    counts_i: Counter | dict, counts_j: Counter | dict, prior_total: float = PRIOR_TOTAL
) -> pd.DataFrame:
    """The weighted log-odds ratio of every phrase of group ``i`` against group ``j``
    with an informative Dirichlet prior (module docstring): columns ``phrase``, ``y_i``,
    ``y_j``, ``prior`` (``a_w``), ``delta``, ``var``, ``z``, sorted by ``z`` (largest
    first, then by phrase)."""
    if prior_total <= 0:
        raise ValueError(f"the prior's total a_0 must be positive, not {prior_total!r}")
    vocabulary = sorted(set(counts_i) | set(counts_j))
    n_i = float(sum(counts_i.values()))
    n_j = float(sum(counts_j.values()))
    n = n_i + n_j
    rows = []
    if not n or len(vocabulary) < 2:
        # nothing to count (stop words, numbers, symbols), or one phrase alone, whose
        # odds against "every other phrase" are undefined: no phrase stands out
        vocabulary = []
    for w in vocabulary:
        y_i, y_j = counts_i.get(w, 0), counts_j.get(w, 0)
        a_w = prior_total * (y_i + y_j) / n
        delta = math.log((y_i + a_w) / (n_i + prior_total - y_i - a_w)) - math.log(
            (y_j + a_w) / (n_j + prior_total - y_j - a_w)
        )
        var = 1.0 / (y_i + a_w) + 1.0 / (y_j + a_w)
        rows.append((w, y_i, y_j, a_w, delta, var, delta / math.sqrt(var)))
    table = pd.DataFrame(rows, columns=["phrase", "y_i", "y_j", "prior", "delta", "var", "z"])
    table = table.astype({"phrase": "str", "y_i": "int64", "y_j": "int64"})
    return table.sort_values(["z", "phrase"], ascending=[False, True], ignore_index=True)


def scrubber(identifiers: Iterable[object]) -> re.Pattern | None:
    """One pattern matching every identifier as a whole word: a value holding a digit
    or longer than three characters in any case; a short value of letters only (initials
    such as ``AN``) in exactly its case, so that the word "an" stays."""
    loose, exact = set(), set()
    for value in identifiers:
        text = str(value).strip() if value is not None else ""
        if not text or text.lower() in ("nan", "none", "<na>"):
            continue
        short_letters = len(text) <= 3 and not any(ch.isdigit() for ch in text)
        (exact if short_letters else loose).add(text)
    if not loose and not exact:
        return None

    def alternatives(values: set[str]) -> str:
        return "|".join(re.escape(v) for v in sorted(values, key=lambda v: (-len(v), v)))

    parts = []
    if loose:
        parts.append(f"(?i:{alternatives(loose)})")
    if exact:
        parts.append(f"(?:{alternatives(exact)})")
    return re.compile(rf"(?<![^\W_])(?:{'|'.join(parts)})(?![^\W_])")


def scrub(text: str, pattern: re.Pattern | None) -> str:
    """``text`` with every identifier ``pattern`` (:func:`scrubber`) matches replaced by
    :data:`PLACEHOLDER`."""
    return text if pattern is None else pattern.sub(PLACEHOLDER, text)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def quote(sentence: str, phrase: str, words: int = QUOTE_WORDS) -> str | None:
    """The part of ``sentence`` to quote for ``phrase``: the whole sentence when it has
    at most ``words`` words, else about ``words`` words around the phrase's first
    occurrence with ``…`` where it is cut; None when the phrase is not in it."""
    wanted = phrase.split(" ")
    for clause_match in _clause_spans(sentence):
        start, clause = clause_match
        matches = _words(clause)
        found = [_norm(m.group()) for m in matches]
        for k in range(len(found) - len(wanted) + 1):
            if found[k : k + len(wanted)] == wanted:
                return _window(sentence, start + matches[k].start(), words, len(wanted))
    return None


def _clause_spans(sentence: str) -> list[tuple[int, str]]:
    spans, at = [], 0
    for part in _CLAUSE.split(sentence):
        at = sentence.find(part, at)
        spans.append((at, part))
        at += len(part)
    return spans


def _window(sentence: str, at: int, words: int, length: int) -> str:
    """About ``words`` whitespace-separated words of ``sentence`` around offset ``at``."""
    pieces = [(m.start(), m.end()) for m in re.finditer(r"\S+", sentence)]
    if len(pieces) <= words:
        return _SPACES.sub(" ", sentence).strip()
    k = next(i for i, (s, e) in enumerate(pieces) if e > at)
    before = (words - length) // 2
    first = max(0, min(k - before, len(pieces) - words))
    last = first + words
    text = sentence[pieces[first][0] : pieces[last - 1][1]]
    text = _SPACES.sub(" ", text).strip()
    return ("… " if first > 0 else "") + text + (" …" if last < len(pieces) else "")


def _quotes(texts: Sequence[tuple[str, str]], phrase: str, many: int) -> list[str]:
    """Up to ``many`` different quotes of ``phrase`` from ``texts`` (case, scrubbed
    text), one per case while other cases have one, in the order given. Quotes that
    differ only in case or apostrophes are one quote."""
    found: list[tuple[str, str]] = []
    first_cases: set[str] = set()  # cases whose quote is new: what is chosen first
    said: set[str] = set()
    for case, text in texts:
        for sentence in _sentences(text):
            if phrase in _sentence_features(sentence):
                q = quote(sentence, phrase)
                if q:
                    found.append((case, q))
                    if case not in first_cases and _norm(q) not in said:
                        first_cases.add(case)
                        said.add(_norm(q))
                    break
        if len(first_cases) >= many:  # enough: a different quote from each of many cases
            break
    chosen, cases, said = [], set(), set()
    for case, q in found:  # first one quote per case, then the rest
        if case not in cases and _norm(q) not in said:
            chosen.append(q)
            cases.add(case)
            said.add(_norm(q))
    for _case, q in found:
        if _norm(q) not in said:
            chosen.append(q)
            said.add(_norm(q))
    return chosen[:many]


@lru_cache(maxsize=65536)
def _sentence_features(sentence: str) -> frozenset[str]:
    return frozenset(_features(sentence))


def distinctive_phrases(
    ratings: pd.DataFrame,
    *,
    identifiers: Iterable[object] = (),
    top: int = 10,
    min_count: int = 3,
    min_cases: int = 3,
    min_z: float = 1.96,
    quotes: int = 3,
    prior_total: float = PRIOR_TOTAL,
) -> pd.DataFrame:
    """The phrases that most distinguish not or partly met evidence from met or exceeded
    evidence in ``ratings`` (columns ``rating``, ``evidence`` and, when present,
    ``case_ref``; ratings not applicable or not recorded are left out).

    Identifiers (``identifiers``, and every ``case_ref`` of ``ratings``) are scrubbed from
    the text before counting and quoting. A phrase is considered when it occurs at least
    ``min_count`` times and in the evidence of at least ``min_cases`` cases (a word of one
    case's evidence, a name say, is no finding); the ``top`` phrases with ``z`` beyond
    ``min_z`` are kept in each direction, with up to ``quotes`` quotes each from evidence
    of that direction. A phrase that shares a word with one already listed and occurs
    exactly as often in each group (``always`` beside ``always needed``: the same
    occurrences twice) is passed over; of equal ``z``, the two-word phrase comes first.
    Columns: :data:`COLUMNS` (``not_met``, ``met``: the phrase's count in each group;
    ``quotes``: a tuple of strings); an empty table when either group has no evidence.
    """
    ids = list(identifiers)
    if "case_ref" in ratings.columns:
        ids += list(ratings["case_ref"].dropna().unique())
    pattern = scrubber(ids)
    rating = ratings["rating"].astype("string")
    has_text = ratings["evidence"].notna() & (
        ratings["evidence"].astype("string").str.strip() != ""
    )
    cases = (
        ratings["case_ref"].astype("string")
        if "case_ref" in ratings.columns
        else pd.Series(range(len(ratings)), index=ratings.index).astype("string")
    )
    groups: dict[str, list[tuple[str, str]]] = {NOT_MET: [], MET: []}
    scale = scale_of(ratings["rating"])
    for direction, levels in ((NOT_MET, scale.not_good), (MET, scale.good)):
        chosen = rating.isin(levels).fillna(False) & has_text
        for case, text in zip(cases[chosen], ratings.loc[chosen, "evidence"], strict=True):
            groups[direction].append((str(case), scrub(str(text), pattern)))
    if not groups[NOT_MET] or not groups[MET]:
        return pd.DataFrame(columns=COLUMNS)
    counts = {d: Counter() for d in groups}
    seen_in: dict[str, set[str]] = {}
    for direction, texts in groups.items():
        for case, text in texts:
            found = features(text)
            counts[direction].update(found)
            for phrase in set(found):
                seen_in.setdefault(phrase, set()).add(case)
    table = log_odds(counts[NOT_MET], counts[MET], prior_total)
    table = table[
        ((table["y_i"] + table["y_j"]) >= min_count)
        & table["phrase"].map(lambda p: len(seen_in.get(p, ())) >= min_cases).astype(bool)
    ]
    picked = []
    for direction, sign in ((NOT_MET, 1.0), (MET, -1.0)):
        side = table[table["z"] * sign >= min_z].copy()
        side["key"] = -side["z"] * sign
        side["words"] = -side["phrase"].str.count(" ")
        side = side.sort_values(["key", "words", "phrase"])
        kept: list[tuple[set[str], int, int]] = []
        for row in side.itertuples():
            if len(kept) == top:
                break
            words = set(row.phrase.split(" "))
            if any(w & words and (i, j) == (row.y_i, row.y_j) for w, i, j in kept):
                continue  # the same occurrences as a phrase already listed
            kept.append((words, row.y_i, row.y_j))
            picked.append(
                {
                    "direction": direction,
                    "phrase": row.phrase,
                    "not_met": int(row.y_i),
                    "met": int(row.y_j),
                    "delta": float(row.delta),
                    "z": float(row.z),
                    "quotes": tuple(_quotes(groups[direction], row.phrase, quotes)),
                }
            )
    return pd.DataFrame(picked, columns=COLUMNS)
