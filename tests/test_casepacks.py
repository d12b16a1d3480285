"""Deep-dive case packs: built per flagged case, OFFICIAL-SENSITIVE, escaped, and never
reaching the Executive Group's page or anything it links."""

from __future__ import annotations

import html
import re

import pytest
from study import HOSTILE

from audit_analysis.exceptions import AuditDataError
from audit_analysis.pipeline.cli import main
from audit_analysis.pipeline.runner import run_case_packs

pytestmark = pytest.mark.e2e  # papermill kernels: `pytest -m 'not e2e'` skips them


def test_a_pack_per_flagged_case_marked_and_escaped(packs):
    assert sorted(p.name for p in packs.glob("*.html")) == ["Q200.html", "Q202.html"]
    page = (packs / "Q200.html").read_text(encoding="utf-8")
    assert "OFFICIAL-SENSITIVE" in page
    assert "Case pack: Q200" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "Where agencies disagree" in page and "Standard 13" in page
    # Q200 is not worked by CSC-SW in the study: named as returning nothing
    assert re.search(r"Returned nothing for this case</strong>[^<]*CSC-SW", page)
    assert "action required" in page


def test_no_case_pack_content_reaches_the_executive_page_or_what_it_links(packs, run):
    out, refs = run
    page = (out / "executive-summary.html").read_text(encoding="utf-8")
    linked = re.findall(r'<[^<>]*\b(?:href|src)="([^"#]+)"', page)  # in tags, not text
    assert not [u for u in linked if not u.startswith("data:")]  # it links nothing
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "case-packs" not in text and "OFFICIAL-SENSITIVE" not in text
    # no evidence, raw or escaped (the QA group's own hostile words are there, escaped)
    assert HOSTILE not in text and html.escape(HOSTILE, quote=False) not in text
    assert "alert" not in text
    for ref in refs["2019-20"]:
        assert ref not in text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "case-packs" not in index


def test_executive_page_quotes_no_small_count_of_children(run):
    """The study flags 2 cases for the deep dive (1 discussed, 1 needing action) and
    invites 2 families (1 responding): every one of those counts is small."""
    out, _ = run
    page = (out / "executive-summary.html").read_text(encoding="utf-8").replace("\n", " ")
    assert "Fewer than 5 cases were flagged for the deep dive, too few to report here" in page
    assert "Fewer than 5 families were invited to give feedback" in page
    assert "1 of the 2 cases" not in page and "1 needed immediate action" not in page
    assert "1 of 2 families" not in page


def test_cases_must_be_known_or_flagged(study, tmp_path):
    root, _ = study
    with pytest.raises(AuditDataError, match="no such case"):
        run_case_packs(root / "data", "2019-20", out=tmp_path, cases=["Q999"], progress=False)
    with pytest.raises(AuditDataError, match="no cases flagged"):
        run_case_packs(root / "data", "2018-19", out=tmp_path, progress=False)
    assert (
        main(
            [
                "case-packs",
                "--data",
                str(root / "data"),
                "--cycle",
                "2018-19",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 1
    )
