"""Synthetic inputs for the benchmark, written to a temporary folder (never to ``data/``).

* :func:`write_cycle`: one cycle's folder as a partnership would send it: a ``cases.csv``,
  one toolkit workbook per agency and case (12 agencies by 24 cases: 288 workbooks), and
  a bulk CSV of the same size (the same 12 agencies on 24 further cases).
* :func:`national_ratings`: tidy ratings, as :func:`audit_analysis.load_cycle` gives them
  plus a ``partnership`` column, for every partnership and cycle at once (vectorised).

Ratings come from one model: each case has a latent quality per standard, each agency a
bias, each rating some noise, so agencies agree more than chance but not perfectly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit_analysis.admin.toolkit import write_bulk_csv, write_toolkit
from audit_analysis.io.frameworks import Framework, load_framework
from audit_analysis.io.ratings import CATEGORIES, RATING_DTYPE

CYCLE = "2018-19"
AGENCIES = ("CCG", "BSMHF", "CRC", "EDU", "CSC-EH", "CSC-SW", "SIAS", "SWFT", "NPS", "SCH")
AGENCIES += ("UHB", "WMP")
PRIORITIES = ("early_help", "neglect", "exploitation")
# What an auditor writes for each category (a mix of the accepted spellings).
WORDS = {
    "unmet": ("Not Met", "unmet"),
    "partially_met": ("Partially met", "partial"),
    "met": ("Met", "Standard met"),
    "exceeded": ("Exceeded", "exceeds"),
    "not_applicable": ("N/A", "n/a"),
}
SCALE_CODES = ("unmet", "partially_met", "met", "exceeded")


@dataclass(frozen=True)
class Written:
    data_dir: Path
    cycle: str
    workbooks: list[Path]
    bulk: Path
    ratings: int  # rows written: every standard of every return


def _codes(rng: np.random.Generator, cases: int, agencies: int, standards: int) -> np.ndarray:
    """Rating codes (agencies, cases, standards): 0-3 on the scale, 4 n/a, 5 blank."""
    quality = rng.normal(0.3, 1.0, size=(1, cases, standards))
    bias = rng.normal(0.0, 0.35, size=(agencies, 1, 1))
    score = quality + bias + rng.normal(0.0, 0.6, size=(agencies, cases, standards))
    codes = np.digitize(score, [-0.8, 0.0, 1.4]).astype(np.int8)
    draw = rng.random(size=codes.shape)
    codes[draw < 0.06] = 4
    codes[draw < 0.015] = 5
    return codes


def write_cycle(root: Path, agencies: int = 12, cases: int = 24, seed: int = 5) -> Written:
    """``root/<cycle>/``: ``cases.csv``, ``agencies x cases`` toolkit workbooks under
    ``returns/<AGENCY>/``, and ``returns/bulk.csv`` holding as many rows again (the same
    agencies on ``cases`` further cases)."""
    rng = np.random.default_rng(seed)
    framework = load_framework(CYCLE)
    standards = framework.standards
    folder = root / CYCLE
    returns = folder / "returns"
    returns.mkdir(parents=True)
    refs = [f"B{i:03d}" for i in range(1, 2 * cases + 1)]
    lines = ["case_ref,priority,age,carefirst_id"]
    for i, ref in enumerate(refs):
        lines.append(f"{ref},{PRIORITIES[i % 3]},{int(rng.integers(0, 18))},{700000 + i * 37}")
    (folder / "cases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    codes = _codes(rng, 2 * cases, agencies, len(standards))
    words = {k: v for k, v in enumerate((*SCALE_CODES, "not_applicable"))}

    def cell(a: int, c: int, s: int) -> tuple[str | None, str | None]:
        code = int(codes[a, c, s])
        if code == 5:
            return None, None
        text = WORDS[words[code]][(a + c + s) % 2]
        evidence = None if (a + c * s) % 3 == 0 else f"Seen in record, visit {c + s}."
        return text, evidence

    workbooks = []
    for a, agency in enumerate(AGENCIES[:agencies]):
        for c in range(cases):
            rows = {std.number: cell(a, c, s) for s, std in enumerate(standards)}
            path = returns / agency / f"{refs[c]}.xlsx"
            workbooks.append(
                write_toolkit(
                    path,
                    framework,
                    agency=agency,
                    case_id=refs[c],
                    audit_cycle=CYCLE,
                    template_version=CYCLE,
                    auditor="A. Auditor",
                    rows=rows,
                )
            )
    bulk_rows = []
    for a, agency in enumerate(AGENCIES[:agencies]):
        for c in range(cases, 2 * cases):
            for s, std in enumerate(standards):
                rating, evidence = cell(a, c, s)
                bulk_rows.append(
                    {
                        "agency": agency,
                        "case_id": refs[c],
                        "standard": std.number,
                        "rating": rating,
                        "evidence": evidence,
                    }
                )
    bulk = write_bulk_csv(returns / "bulk.csv", bulk_rows)
    return Written(root, CYCLE, workbooks, bulk, 2 * agencies * cases * len(standards))


# --------------------------------------------------------------------------- national


def national_cycles(count: int = 5) -> list[tuple[str, Framework]]:
    """``count`` consecutive cycles ending 2020-21, each with a framework: the built-in
    ones where they exist (2016-17 to 2018-19, renumbered between them), 2018-19's for
    later cycles (a partnership keeping its framework)."""
    latest = load_framework("2018-19")
    out = []
    for year in range(2021 - count, 2021):
        cycle = f"{year}-{(year + 1) % 100:02d}"
        try:
            framework = load_framework(cycle)
        except Exception:  # noqa: BLE001 - no built-in framework for that year
            framework = latest
        out.append((cycle, framework))
    return out


def national_ratings(
    partnerships: int = 150,
    cycles: int = 5,
    agencies: int = 12,
    cases: int = 24,
    seed: int = 11,
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, Framework]]]:
    """Tidy ratings for every partnership and cycle, built with numpy (no files).

    Returns ``(ratings, cases, cycles)``: ``ratings`` has ``partnership`` then
    :func:`audit_analysis.load_cycle`'s columns and dtypes; ``cases`` has
    ``partnership``, ``cycle``, ``case_ref``, ``priority``, ``age``; ``cycles`` is
    :func:`national_cycles`.
    """
    rng = np.random.default_rng(seed)
    chosen = national_cycles(cycles)
    names = [f"P{p:03d}" for p in range(1, partnerships + 1)]
    # A case is its partnership's: references are unique nationally (P001-C01).
    refs = np.array(
        [f"{name}-C{c:02d}" for name in names for c in range(1, cases + 1)], dtype=object
    ).reshape(partnerships, cases)
    agency_names = np.array(AGENCIES[:agencies], dtype=object)
    parts, case_parts = [], []
    for cycle, framework in chosen:
        standards = framework.standards
        n_std = len(standards)
        codes = _codes(rng, partnerships * cases, agencies, n_std)  # (A, P*C, S)
        codes = codes.reshape(agencies, partnerships, cases, n_std).transpose(1, 0, 2, 3)
        shape = codes.shape  # (P, A, C, S)
        p, a, c, s = (idx.ravel() for idx in np.indices(shape, dtype=np.int32))
        category = np.array([2, 3, 4, 5, 1, 0], dtype=np.int8)[codes.ravel()]  # -> CATEGORIES
        numbers = np.array([st.number for st in standards])
        keys = np.array([st.key for st in standards], dtype=object)
        kloes = np.array([st.kloe for st in standards])
        files = np.array(
            [f"returns/{ag}/{ref}.xlsx" for ref in refs.ravel() for ag in agency_names],
            dtype=object,
        ).reshape(partnerships, cases, agencies)
        frame = pd.DataFrame(
            {
                "partnership": pd.array(np.array(names, dtype=object)[p], dtype="str"),
                "cycle": pd.array(np.full(p.size, cycle, dtype=object), dtype="str"),
                "agency": pd.array(agency_names[a], dtype="str"),
                "case_ref": pd.array(refs[p, c], dtype="str"),
                "kloe": kloes[s].astype("int64"),
                "standard": numbers[s].astype("int64"),
                "standard_key": pd.array(keys[s], dtype="str"),
                "rating": pd.Categorical.from_codes(category, dtype=RATING_DTYPE),
                "evidence": pd.array(np.full(p.size, None, dtype=object), dtype="str"),
                "source_file": pd.array(files[p, c, a], dtype="str"),
                "source_row": (s + 10).astype("int64"),
            }
        )
        parts.append(frame)
        case_parts.append(
            pd.DataFrame(
                {
                    "partnership": np.repeat(names, cases),
                    "cycle": cycle,
                    "case_ref": refs.ravel(),
                    "priority": np.tile(
                        np.array(PRIORITIES, dtype=object)[np.arange(cases) % 3], partnerships
                    ),
                    "age": pd.array(rng.integers(0, 18, size=partnerships * cases), dtype="Int64"),
                }
            )
        )
    ratings = pd.concat(parts, ignore_index=True)
    assert list(ratings["rating"].cat.categories) == list(CATEGORIES)
    return ratings, pd.concat(case_parts, ignore_index=True), chosen
