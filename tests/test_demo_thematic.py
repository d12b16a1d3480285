"""The second demo partnership: thematic audits of a few cases on its own scale (issue 24).

The generator's files here; the commands run on them in ``test_thematic_partnership``."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest
import yaml

from audit_analysis.demo import thematic
from audit_analysis.io.frameworks import load_yaml
from tests.test_demo import _content_hash, _files

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data" / "demo-thematic"
REGENERATE = "audit-analysis demo-data (writes data/demo and data/demo-thematic)"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("thematic")
    (out / "keep.txt").write_text("not generated")
    (out / thematic.AUDITS[0].name / "returns").mkdir(parents=True)
    (out / thematic.AUDITS[0].name / "returns" / "stale.xlsx").write_bytes(b"old")
    return out, thematic.generate_thematic(out)


def test_committed_second_demo_equals_a_fresh_generation(fresh):
    out, _ = fresh
    assert COMMITTED.is_dir(), f"data/demo-thematic is missing; run {REGENERATE}"
    committed = {p.relative_to(COMMITTED).as_posix(): _content_hash(p) for p in _files(COMMITTED)}
    generated = {
        p.relative_to(out).as_posix(): _content_hash(p) for p in _files(out) if p.name != "keep.txt"
    }
    differ = sorted(
        k for k in committed.keys() | generated.keys() if committed.get(k) != generated.get(k)
    )
    assert not differ, f"data/demo-thematic differs from the generator in {differ[:5]}"


def test_regenerating_keeps_what_is_not_its_own(fresh):
    out, _ = fresh
    assert (out / "keep.txt").read_text() == "not generated"
    assert not (out / thematic.AUDITS[0].name / "returns" / "stale.xlsx").exists()


def test_three_thematic_audits_of_five_to_eight_cases_each_say_they_are_synthetic(fresh):
    out, summary = fresh
    assert [a.name for a in thematic.AUDITS] == sorted(summary["audits"])
    for audit in thematic.AUDITS:
        with (out / audit.name / "cases.csv").open(encoding="utf-8", newline="") as fh:
            cases = list(csv.DictReader(fh))
        assert 5 <= len(cases) <= 8
        assert {c["priority"] for c in cases} == {audit.theme}
        assert len({c["carefirst_id"] for c in cases}) == len(cases)
        assert "SYNTHETIC" in (out / audit.name / "framework.yaml").read_text(encoding="utf-8")
    assert "SYNTHETIC" in (out / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in (out / "ratings.yaml").read_text(encoding="utf-8")


def test_the_partnership_grades_on_ofsted_and_one_audit_on_yes_partly_no(fresh):
    out, _ = fresh
    top = load_yaml(out / "ratings.yaml")
    assert top["scale"] == ["inadequate", "requires_improvement", "good", "outstanding"]
    assert top["good"] == ["good", "outstanding"]
    own = [a for a in thematic.AUDITS if (out / a.name / "ratings.yaml").exists()]
    assert [a.scale for a in own] == ["yes-partly-no"]
    changed = load_yaml(out / own[0].name / "ratings.yaml")
    assert changed["scale"] == ["no", "partly", "yes"] and changed["good"] == ["yes"]
    labels = yaml.safe_load((out / "labels.yaml").read_text(encoding="utf-8"))
    assert {a.theme for a in thematic.AUDITS} <= set(labels["priority"])


def test_every_rating_written_is_a_word_of_its_audits_scale(fresh):
    """What the returns say is the audit's own scale (or N/A), never the built-in one."""
    out, _ = fresh
    for audit in thematic.AUDITS:
        folder = out / audit.name
        scale_file = folder / "ratings.yaml" if (folder / "ratings.yaml").exists() else None
        scale = load_yaml(scale_file or out / "ratings.yaml")
        words = {w.casefold() for v in scale["spellings"].values() for w in v}
        seen = set()
        for path in sorted((folder / "returns").rglob("*.xlsx")):
            ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
            header = None
            for row in ws.iter_rows(values_only=True):
                if row and row[0] == "KLOE":
                    header = list(row)
                    continue
                if header and row[1] is not None:
                    seen.add(str(row[header.index("Rating")]).casefold())
        assert seen and seen <= words, (audit.name, seen - words)
        # a spread of grades, not one
        assert len(seen - {"n/a"}) >= 3


# ------------------------------------------------------- every command, end to end
SMALL, CHANGED = "2019-11-domestic-abuse", "2020-03-front-door"


@pytest.fixture(scope="module")
def second_demo(tmp_path_factory):
    """Every command on a copy of the committed second demo partnership: validate each
    audit, run the small one (compared with the neglect audit) and the one on a changed
    scale (compared with both earlier audits), case packs, templates and a new audit."""
    import shutil

    from audit_analysis.pipeline.cli import main

    root = tmp_path_factory.mktemp("second-demo")
    data = root / "data"
    shutil.copytree(COMMITTED, data)
    out = root / "out"
    statuses = {
        f"validate {a.name}": main(["validate", str(data), "--cycle", a.name])
        for a in thematic.AUDITS
    }
    statuses["run small"] = main(  # compared with an audit of another theme: by hand
        ["run", "--data", str(data), "--cycle", SMALL, "--compare", "2019-06-neglect"]
        + ["--out", str(out), "--quiet"]
    )
    earlier = [a.name for a in thematic.AUDITS if a.name != CHANGED]
    statuses["run changed"] = main(
        ["run", "--data", str(data), "--cycle", CHANGED, "--compare", *earlier]
        + ["--out", str(out), "--quiet"]
    )
    statuses["case-packs"] = main(  # one case: each pack is a kernel of its own
        ["case-packs", "--data", str(data), "--cycle", SMALL, "--cases", "T01"]
        + ["--out", str(out), "--quiet"]
    )
    statuses["templates"] = main(
        ["templates", "--data", str(data), "--cycle", CHANGED, "--out", str(root / "forms")]
    )
    statuses["new-cycle"] = main(
        ["new-cycle", "--data", str(data), "--from", CHANGED, "--to", "2020-09-front-door"]
    )
    return data, out, root, statuses


@pytest.mark.e2e
def test_every_command_runs_on_the_second_demo(second_demo):
    data, out, root, statuses = second_demo
    assert statuses == dict.fromkeys(statuses, 0), statuses
    assert (data / "2020-09-front-door" / "framework.yaml").is_file()
    assert sorted((root / "forms").rglob("*.xlsx"))


@pytest.mark.e2e
def test_no_page_of_the_second_demo_says_a_word_of_the_builtin_scale(second_demo):
    from pypdf import PdfReader
    from test_own_scale import BUILTIN_WORDS, _page_text

    _, out, _, _ = second_demo
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 12 and any("case-packs" in p.parts for p in pages)
    for page in pages:
        text = " ".join(_page_text(page).split())
        found = BUILTIN_WORDS.search(text)
        assert found is None, f"{page}: ...{text[max(found.start() - 80, 0) : found.end() + 80]}"
    for pdf in out.rglob("*.pdf"):
        printed = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())
        found = BUILTIN_WORDS.search(printed)
        assert found is None, f"{pdf}: {printed[max(found.start() - 80, 0) : found.end() + 80]}"


@pytest.mark.e2e
def test_the_small_audit_leads_with_counts_of_cases_and_judges_no_change(second_demo):
    from test_own_scale import _page_text

    _, out, _, _ = second_demo
    findings = " ".join(_page_text(next((out / SMALL).glob("*findings*.html"))).split())
    assert "of 5 cases rated Good or Outstanding by every agency that rated them" in findings
    executive = " ".join(_page_text(next((out / SMALL).glob("executive*.html"))).split())
    for verdict in ("improved clearly", "declined clearly", "counted as a change"):
        assert verdict not in executive
    # the QA group's words are on the page, and no case reference is
    assert "Police notifications reached schools" in executive
    assert not re.search(r"\bT0\d\b", executive)


@pytest.mark.e2e
def test_the_audit_on_a_changed_scale_compares_the_share_rated_good_with_a_note(second_demo):
    """The note naming both scales, and what good means on each, on the trends page and
    the executive page (the note itself, and the shares it compares, are checked by hand
    in tests/test_own_scale.py)."""
    from test_own_scale import _page_text

    from audit_analysis import load_cycle
    from audit_analysis.analysis.trends import scale_note

    data, out, _, _ = second_demo
    earlier = [load_cycle(data, a.name) for a in thematic.AUDITS if a.name != CHANGED]
    note = scale_note(load_cycle(data, CHANGED), earlier)
    trends = " ".join(_page_text(next((out / CHANGED).glob("*trends*.html"))).split())
    assert note and note in trends
    executive = " ".join(_page_text(next((out / CHANGED).glob("executive*.html"))).split())
    assert note in executive
    assert "2019-06-neglect and 2019-11-domestic-abuse on Outstanding / Good" in executive
    assert "2020-03-front-door on Yes / Partly / No, where good means Yes" in executive
    assert "rated Yes" in executive
