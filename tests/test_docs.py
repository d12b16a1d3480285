"""The documentation checked for facts, never for its wording: the README stays a short
front door; every link in it and in docs/ leads somewhere; every page is listed; every
command, option and file the pages name exists; docs/performance.md is what `make bench`
wrote."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
ROUTES = (
    "analyst.md",
    "operator.md",
    "executive-page.md",
    "methods.md",
    "reliability.md",
    "performance.md",
    "contributing.md",
)
# Pages written on other branches at the same time as this one (issues 19-22): linked
# already, merged by the lead. Once a page exists, take it out of here (a test says so).

FENCE = re.compile(r"^[ \t]*```.*?^[ \t]*```", re.S | re.M)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _prose(path: Path) -> str:
    """The page without its fenced code blocks (links there are not links)."""
    return FENCE.sub("", _text(path))


def _code(path: Path) -> list[str]:
    """Every line of code on the page: fenced blocks and inline spans."""
    text = _text(path)
    lines = [line for block in FENCE.findall(text) for line in block.splitlines()[1:-1]]
    return lines + CODE_SPAN.findall(FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in _prose(path).splitlines():
        if line.startswith("#"):
            base = slug(line.lstrip("#"))
            name, n = base, 0
            while name in found:
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def test_the_readme_is_a_short_front_door():
    text = _text(README)
    assert len(text) <= 10_000, f"README.md is {len(text):,} characters: move some to docs/"
    linked = {Path(t.split("#")[0]).name for t in LINK.findall(_prose(README))}
    assert "index.md" in linked
    assert set(ROUTES) <= linked, f"no route to {sorted(set(ROUTES) - linked)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_leads_somewhere(page):
    broken = []
    for target in LINK.findall(_prose(page)):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        where = (page.parent / file).resolve() if file else page
        if not where.exists():
            broken.append(f"{target}: no such file")
        elif anchor and where.suffix == ".md" and anchor not in anchors(where):
            broken.append(f"{target}: no such heading")
    assert broken == []


def test_every_page_is_listed_in_the_index():
    listed = {t.split("#")[0] for t in LINK.findall(_prose(DOCS / "index.md"))}
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert pages <= listed, f"docs/index.md does not list {sorted(pages - listed)}"
    assert set(ROUTES) <= listed


def _make_targets() -> set[str]:
    return set(re.findall(r"^([\w./-]+):", _text(ROOT / "Makefile"), flags=re.M))


def _commands() -> dict[str, set[str]]:
    """Each subcommand of audit-analysis and its options."""
    from audit_analysis.pipeline.cli import build_parser

    (sub,) = [a for a in build_parser()._actions if a.dest == "command"]
    return {
        name: {s for action in parser._actions for s in action.option_strings}
        for name, parser in sub.choices.items()
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_command_and_option_named_exists(page):
    targets, commands = _make_targets(), _commands()
    wrong = []
    for line in _code(page):
        line = re.split(r"\s#", line)[0]  # a shell comment is prose
        for target in re.findall(r"(?:^|[\s;(])make ([a-z][\w.-]*)", line):
            if target not in targets:
                wrong.append(f"make {target}")
        for command, rest in re.findall(r"audit-analysis ([a-z][\w-]*)(.*)", line):
            if command not in commands:
                wrong.append(f"audit-analysis {command}")
                continue
            rest = re.split(r"\||&&|>>|#", rest)[0]
            for option in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", rest):
                if option not in commands[command]:
                    wrong.append(f"audit-analysis {command} {option}")
    assert wrong == []


ROOTS = ("audit_analysis/", "notebooks/", "bench/", "tests/", "docs/", "data/demo")
ROOT_FILES = {
    "Makefile",
    "pyproject.toml",
    "requirements.lock",
    "environment.yml",
    "CHANGELOG.md",
}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_file_named_exists(page):
    missing = []
    for span in CODE_SPAN.findall(_text(page)):
        name = span.strip()
        if not (name.startswith(ROOTS) or name in ROOT_FILES) or " " in name:
            continue
        if any(c in name for c in "<>{}"):
            continue
        name = name.split("::", 1)[0]  # a test named by its pytest id: its file
        found = list(ROOT.glob(name.rstrip("/"))) if "*" in name else [ROOT / name]
        if not found or not all(p.exists() for p in found):
            missing.append(name)
    assert missing == []


def test_the_performance_page_is_what_make_bench_wrote():
    """Rendered again from the figures it carries, the page comes out the same: nobody
    edited it by hand (edit bench/page.py, or run `make bench`)."""
    from bench.page import PAGE, figures_of, render

    page = _text(PAGE)
    figures = figures_of(page)
    assert figures is not None, "docs/performance.md carries no figures: run `make bench`"
    assert render(figures) == page


def test_the_performance_page_shows_every_figure_with_its_verdict():
    from bench.page import figures_of, render

    results = {
        "load.ratio_to_floor": 2.5,
        "calibration.false_kloe": 0.045,
        "hostile.rows_peak_rss_mb": 145.0,
        "explore.demo_redraw_median_seconds": 0.04,
        "targets": {
            "load.ratio_to_floor": {"op": "<=", "value": 1.5},
            "calibration.false_kloe": {"op": "<=", "value": 0.07},
        },
        "pass": {"load.ratio_to_floor": False, "calibration.false_kloe": True},
        "date": "2026-12-01T05:00:00+00:00",
        "machine": {"cores": 2},
        "samples_seconds": {"run": [10.0, 11.0]},
    }
    page = render(results)
    assert "| `load.ratio_to_floor` | 2.50x | <= 1.5 | **miss** |" in page
    assert "| `calibration.false_kloe` | 4.5% | <= 0.07 | pass |" in page
    assert "`hostile.rows_peak_rss_mb` | 145.0 MiB" in page
    assert "1 of 2 targets met; missed: `load.ratio_to_floor`" in page
    assert "2026-12-01, 2 cores" in page
    assert figures_of(page) == {k: v for k, v in results.items() if k != "samples_seconds"}


def test_the_contributing_page_names_every_public_name():
    """docs/contributing.md's layout lists the package's public API; each name resolves."""
    import audit_analysis

    text = _text(DOCS / "contributing.md")
    public = set(audit_analysis.__all__) - {"__version__"}
    assert [n for n in sorted(public) if not re.search(rf"\b{n}\b", text)] == []
    for name in public:
        assert getattr(audit_analysis, name) is not None


def test_code_points_to_doc_pages_not_readme_sections():
    """Messages and comments name a page under docs/, which can be reorganised with its
    links checked, never a README section title."""
    offenders = []
    for path in [*ROOT.joinpath("audit_analysis").rglob("*"), *ROOT.glob("notebooks/*")]:
        if path.suffix not in {".py", ".yaml", ".ipynb"}:
            continue
        for number, line in enumerate(_text(path).splitlines(), start=1):
            if re.search(r"README\W+\"|README,", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
