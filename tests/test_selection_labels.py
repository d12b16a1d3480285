"""Choosing the cases on the partnership's own priority themes (issue 24, item 5): a data
folder's labels.yaml names the themes select-cases draws by, its criteria name and its
record counts. Every identifier here is invented."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
import yaml

from audit_analysis.admin.selection import CandidateListError, drawing_order, select_cases
from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.dataset import read_cases
from audit_analysis.io.labels import load_labels
from audit_analysis.io.selection import read_record
from audit_analysis.pipeline.cli import main

LABELS = "priority:\n  neglect: Neglect\n  domestic_abuse: Domestic abuse\n"
HEADER = ["carefirst_id", "priority", "age"]


def _rows(n_per: dict[str, int]) -> list[list[str]]:
    rows, k = [], 0
    for priority, n in n_per.items():
        for _ in range(n):
            k += 1
            rows.append([str(700000 + k), priority, str(k % 18)])
    return rows


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "labels.yaml").write_text(LABELS, encoding="utf-8")
    return folder


def test_select_cases_draws_n_per_custom_theme_and_its_cases_load(
    data: Path, tmp_path: Path, capsys
) -> None:
    rows = _rows({"domestic_abuse": 14, "neglect": 11})
    source = _write(tmp_path / "candidates.csv", rows)
    (data / "2019-06-neglect").mkdir()
    (data / "2019-06-neglect" / "selection.yaml").write_text(
        "ages:\n  domestic_abuse: [5, 17]\n", encoding="utf-8"
    )
    code = main(
        ["select-cases", "--data", str(data), "--cycle", "2019-06-neglect", "--candidates",
         str(source), "--per-priority", "4", "--seed", "11"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "  domestic abuse: 4 drawn from " in out and "  neglect: 4 drawn from 11 " in out
    folder = data / "2019-06-neglect"

    # the cases.csv written loads on the data folder's themes with no rejection
    rejections: list[dict] = []
    cases, _ = read_cases(folder, rejections, load_labels(data))
    assert rejections == []
    assert list(cases["priority"]) == ["neglect"] * 4 + ["domestic_abuse"] * 4  # labels' order

    # each theme drawn by its own place in labels.yaml's order: neglect 0, domestic_abuse 1
    eligible = {
        "neglect": [r[0] for r in rows if r[1] == "neglect"],
        "domestic_abuse": [r[0] for r in rows if r[1] == "domestic_abuse" and int(r[2]) >= 5],
    }
    with (folder / "cases.csv").open(newline="", encoding="utf-8") as fh:
        drawn = [r["carefirst_id"] for r in csv.DictReader(fh)]
    expected = [
        eligible[theme][i]
        for number, theme in enumerate(("neglect", "domestic_abuse"))
        for i in drawing_order(len(eligible[theme]), 11, number)[:4]
    ]
    assert drawn == expected

    # the record counts the custom themes, and reads back on them
    raw = yaml.safe_load((folder / "selection_record.yaml").read_text(encoding="utf-8"))
    assert "[seed, theme number 0-1]" in raw["method"]
    assert raw["criteria"]["ages"] == {"domestic_abuse": [5, 17]}
    assert raw["steps"][0] == {"step": "candidate list", "neglect": 11, "domestic_abuse": 14}
    record = read_record(folder, load_labels(data))
    assert record.drawn == {"neglect": 4, "domestic_abuse": 4}
    assert record.population == {"neglect": 11, "domestic_abuse": len(eligible["domestic_abuse"])}
    # on the package's themes the record is refused in one line, naming the theme
    with pytest.raises(AuditDataError, match="'domestic_abuse' is not a priority theme"):
        read_record(folder)


def test_a_package_theme_not_in_labels_yaml_is_refused_naming_the_row(
    data: Path, tmp_path: Path, capsys
) -> None:
    rows = _rows({"neglect": 3, "domestic_abuse": 3})
    rows[4][1] = "early_help"  # a package theme this partnership does not name: row 6
    source = _write(tmp_path / "candidates.csv", rows)
    message = "row 6: the priority is not one of neglect, domestic_abuse (labels.yaml)"
    with pytest.raises(CandidateListError) as caught:
        select_cases(data, "2019-20", source, 2, seed=1)
    assert caught.value.problems == [message]
    code = main(
        ["select-cases", "--data", str(data), "--cycle", "2019-20", "--candidates", str(source),
         "--per-priority", "2", "--seed", "1"]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    # the problem's line and the refusal's, each naming the row, never the identifier
    assert err[-1].endswith(f"nothing drawn, 1 problem: {message}")
    assert all(message in line and "700005" not in line for line in err)
    assert not (data / "2019-20").exists()  # nothing drawn, nothing written


def test_criteria_name_the_partnerships_themes(data: Path, tmp_path: Path) -> None:
    source = _write(tmp_path / "candidates.csv", _rows({"neglect": 3, "domestic_abuse": 3}))
    (data / "2019-20").mkdir()
    (data / "2019-20" / "selection.yaml").write_text("ages:\n  early_help: [0, 11]\n")
    with pytest.raises(
        AuditDataError,
        match=r"'early_help' is not a priority theme \(neglect, domestic_abuse \(labels.yaml\)\)",
    ):
        select_cases(data, "2019-20", source, 2, seed=1)


def test_a_labels_yaml_of_age_bands_only_keeps_the_package_draw(
    tmp_path: Path,
) -> None:
    """Themes left out of labels.yaml are the package's: the same draw, byte for byte,
    as a data folder without one."""
    rows = [
        [str(800000 + k), theme, str(k % 18)]
        for k, theme in enumerate(["early_help"] * 6 + ["neglect"] * 7 + ["exploitation"] * 5)
    ]
    source = _write(tmp_path / "candidates.csv", rows)
    plain, banded = tmp_path / "plain", tmp_path / "banded"
    banded.mkdir()
    (banded / "labels.yaml").write_text('age_band:\n  "0-10": Young\n  "11+": Older\n')
    for folder in (plain, banded):
        made = select_cases(folder, "2019-20", source, 3, seed=5)
        assert Counter(made.drawn) == dict.fromkeys(("early_help", "neglect", "exploitation"), 3)
    for name in ("cases.csv", "reserve.csv", "selection_record.yaml"):
        assert (plain / "2019-20" / name).read_bytes() == (banded / "2019-20" / name).read_bytes()
    assert "theme number 0-2]" in (plain / "2019-20" / "selection_record.yaml").read_text()
