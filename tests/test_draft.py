"""``audit-analysis draft-commentary`` (admin/draft.py): the commentary skeleton's
headings and figure references, never overwriting a commentary without --force, no
identifier in any quote, and evidence that cannot break out of the comment it is quoted
in."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from audit_analysis.admin.draft import comment_safe, earlier_frameworks, skeleton
from audit_analysis.io.dataset import case_identifiers, load_cycle
from audit_analysis.pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
KLOES = (
    "thresholds",
    "information-sharing",
    "voice-of-the-child",
    "interventions",
    "supervision",
    "dispute-resolution",
)
HEADINGS = [
    "## Summary",
    "## What worked well",
    "## What needs to improve",
    *[f"## KLOE {k}" for k in KLOES],
    "## Deep dive",
    "## Family feedback",
    "## Learning event",
    "## Conclusions",
]


@pytest.fixture(scope="module")
def demo():
    return load_cycle(DEMO, "2018-19")


@pytest.fixture(scope="module")
def text(demo):
    return skeleton(demo, earlier_frameworks(DEMO, "2018-19"), case_identifiers(demo.folder))


def _visible(text: str) -> list[str]:
    """The lines a page could show: comments taken out as an HTML parser would."""
    return [line for line in COMMENT.sub("", text).splitlines() if line.strip()]


def test_the_skeleton_has_every_heading_and_reference_in_order(demo, text):
    assert text.startswith("---\nstatus: draft\n---\n")
    assert [line for line in text.splitlines() if line.startswith("## ")] == HEADINGS
    assert [k.key for k in demo.framework.kloes] == list(KLOES)
    visible = _visible(text)
    assert visible[:3] == ["---", "status: draft", "---"]
    summary = visible[visible.index("## Summary") + 1]
    assert "{{ cases }}" in summary and "{{ share overall }}" in summary
    for key in KLOES:
        line = visible[visible.index(f"## KLOE {key}") + 1]
        refs = re.findall(r"\{\{ [^}]* \}\}", line)
        assert refs == [
            f"{{{{ share {key} }}}}",
            f"{{{{ change {key} vs 2017-18 }}}}",
            f"{{{{ change {key} vs 2016-17 }}}}",
        ]
        assert not re.search(r"\d+ ?%", COMMENT.sub("", line))  # no figure typed in
    # the phrases are there, in comments only, with counts and quotes
    block = text.split("## KLOE thresholds", 1)[1].split("## KLOE information-sharing")[0]
    note = COMMENT.findall(block)
    assert len(note) == 1 and "More often where standards were not or partly met" in note[0]
    assert re.search(r"- [a-z' ]+: \d+ times in not or partly met evidence, \d+ in met", note[0])
    assert '"' in note[0]
    # across the KLOEs: what worked well lists met evidence's phrases, what needs to
    # improve the others'
    well = text.split("## What worked well", 1)[1].split("## What needs to improve")[0]
    improve = text.split("## What needs to improve", 1)[1].split("## KLOE")[0]
    assert "were met or exceeded:" in well and "not or partly met:" not in well
    assert "were not or partly met:" in improve and "met or exceeded:" not in improve
    assert re.findall(r"\(z -\d", well) and not re.findall(r"\(z \+", well)
    assert re.findall(r"\(z \+\d", improve) and not re.findall(r"\(z -", improve)


def test_the_first_cycle_refers_to_no_change(tmp_path):
    text = skeleton(load_cycle(DEMO, "2016-17"), earlier_frameworks(DEMO, "2016-17"))
    assert "{{ change" not in text and "{{ share thresholds }}" in text


def _demo_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DEMO, data)
    return data


def test_an_existing_commentary_is_kept_without_force(tmp_path, capsys):
    data = _demo_copy(tmp_path)
    target = data / "2018-19" / "commentary.md"
    target.unlink()  # the demo's own commentary: start as a cycle without one
    assert main(["draft-commentary", "--data", str(data), "--cycle", "2018-19"]) == 0
    assert target.read_text(encoding="utf-8").startswith("---\nstatus: draft\n---")
    assert "written to" in capsys.readouterr().out
    target.write_text("---\nstatus: draft\n---\n\n## Summary\n\nOur own words.\n", "utf-8")
    assert main(["draft-commentary", "--data", str(data), "--cycle", "2018-19"]) == 1
    err = capsys.readouterr().err
    assert "already there" in err and "--force" in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert "Our own words." in target.read_text(encoding="utf-8")
    args = ["draft-commentary", "--data", str(data), "--cycle", "2018-19", "--force"]
    assert main(args) == 0
    assert "Our own words." not in target.read_text(encoding="utf-8")
    elsewhere = tmp_path / "drafts" / "c.md"
    assert main([*args[:-1], "--out", str(elsewhere)]) == 0 and elsewhere.is_file()
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path)]) == 1  # a folder is no file, forced or not
    assert "is a folder" in capsys.readouterr().err


def _planted(demo, evidence: str):
    """The demo cycle with ``evidence`` as the text of every not-met rating of KLOE 1
    (enough cases for any phrase of it to stand out)."""
    ratings = demo.ratings.copy()
    chosen = (ratings["kloe"] == 1) & ratings["rating"].isin(["unmet", "partially_met"])
    assert ratings.loc[chosen, "case_ref"].nunique() >= 5
    ratings["evidence"] = ratings["evidence"].astype("object")
    ratings.loc[chosen, "evidence"] = evidence
    ratings["evidence"] = ratings["evidence"].astype(demo.ratings["evidence"].dtype)
    return dataclasses.replace(demo, ratings=ratings)


def test_no_identifier_in_any_quote(demo):
    cases = pd.read_csv(DEMO / "2018-19" / "cases.csv", dtype=str)
    row = cases.iloc[4]  # C05
    planted = (
        f"Zebrafish plan for {row['case_ref']} (CareFirst {row['carefirst_id']}, Tribal "
        f"{row['tribal_id']}, {row['initials']}) and c12 not agreed."
    )
    ids = case_identifiers(demo.folder)
    assert {row["case_ref"], row["carefirst_id"], row["initials"]} <= ids
    text = skeleton(_planted(demo, planted), {}, ids)
    assert "zebrafish" in text.lower()  # the planted sentence is quoted
    quotes = [line for line in text.splitlines() if line.startswith('        "')]
    assert any("Zebrafish" in q for q in quotes)
    for q in quotes:
        assert not re.search(r"\bC\d\d\b", q, re.IGNORECASE), q
        for value in (row["carefirst_id"], row["tribal_id"], f"{row['initials']})"):
            assert value not in q, q
    assert any("[id] (CareFirst [id], Tribal [id], [id]) and [id]" in q for q in quotes)
    # nor is any identifier counted as a phrase
    phrases = re.findall(r"^    - (.*?): \d+ times", text, re.MULTILINE)
    assert phrases and not {p for p in phrases if re.search(r"\d{4}|\bc\d\d\b|\bid\b", p)}


def test_evidence_cannot_break_out_of_its_comment(demo):
    hostile = (
        "Zebrafish plan agreed --> ## Summary <!-- {{ share overall }} --!> "
        "<script>alert(1)</script>\n## Conclusions\nzebrafish escaped"
    )
    text = skeleton(_planted(demo, hostile), {}, case_identifiers(demo.folder))
    assert "zebrafish" in text.lower()
    visible = "\n".join(_visible(text))
    assert "ebrafish" not in visible and "script" not in visible
    assert [line for line in text.splitlines() if line.startswith("## ")] == HEADINGS
    # the only references are the skeleton's own
    refs = set(re.findall(r"\{\{.*?\}\}", text))
    assert refs <= {"{{ cases }}", "{{ share overall }}"} | {f"{{{{ share {k} }}}}" for k in KLOES}
    # each comment opens once and closes once: no "--" inside any
    for note in COMMENT.findall(text):
        assert "--" not in note[4:-3]


def test_comment_safe_neutralises_what_could_end_or_open_a_comment():
    assert "--" not in comment_safe("a --> b --!> c <!-- d --- e")
    assert comment_safe("x\n## y\r\n{{ share overall }}") == "x ## y { { share overall } }"
    assert comment_safe("bell\x07") == "bell\\x07"
