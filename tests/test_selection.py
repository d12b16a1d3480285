"""Choosing the cases (issue 26): the draw, its record, its refusals. Every identifier
here is invented."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from audit_analysis.admin.selection import CandidateListError, drawing_order, select_cases
from audit_analysis.exceptions import AuditDataError
from audit_analysis.io.selection import read_record
from audit_analysis.pipeline.cli import main
from tests.conftest import write_cases

PRIORITIES = ("early_help", "neglect", "exploitation")
HEADER = ["carefirst_id", "tribal_id", "initials", "priority", "age", "family_id", "school"]


def candidates(n_per: dict[str, int] | None = None, start: int = 500000) -> list[list[str]]:
    """Rows of a candidate list: ``n_per`` children per priority, ages cycling 0 to 17,
    every third child without a school, families of two for every tenth pair."""
    n_per = n_per or {"early_help": 30, "neglect": 40, "exploitation": 20}
    rows, k = [], 0
    for priority, n in n_per.items():
        for _ in range(n):
            k += 1
            rows.append(
                [
                    str(start + k),
                    f"TR-{k:04d}",
                    "AB",
                    priority,
                    str(k % 18),
                    f"F{k // 2:04d}" if k % 20 < 2 else "",
                    "" if k % 3 == 0 else "school",
                ]
            )
    return rows


def write_list(path: Path, rows, header=HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_a_draw_writes_the_cases_the_reserves_and_the_record(data: Path, tmp_path: Path) -> None:
    source = write_list(tmp_path / "candidates.csv", candidates())
    made = select_cases(data, "2019-20", source, 8, seed=7)
    cases = read_csv(made.cases_file)
    assert [c["case_ref"] for c in cases] == [f"C{i:02d}" for i in range(1, 25)]
    assert Counter(c["priority"] for c in cases) == dict.fromkeys(PRIORITIES, 8)
    assert list(cases[0]) == [
        "case_ref",
        "priority",
        "age",
        "carefirst_id",
        "tribal_id",
        "initials",
    ]
    listed = {r[0]: r for r in candidates()}
    for case in cases:  # every case is a candidate of its priority, identifiers kept
        row = listed[case["carefirst_id"]]
        assert (case["tribal_id"], case["priority"], case["age"]) == (row[1], row[3], row[4])
    reserves = read_csv(made.reserve_file)
    assert Counter(r["priority"] for r in reserves) == {
        "early_help": 22,
        "neglect": 32,
        "exploitation": 12,
    }
    drawn = {c["carefirst_id"] for c in cases}
    assert drawn.isdisjoint(r["carefirst_id"] for r in reserves)
    record = read_record(made.folder)
    assert record.seed == 7 and record.per_priority == 8
    assert record.population == {"early_help": 30, "neglect": 40, "exploitation": 20}
    assert record.drawn == dict.fromkeys(PRIORITIES, 8)
    assert record.raw["drawn_by"].startswith("audit-analysis ")
    assert record.raw["seed_given"] is True


def test_the_same_seed_gives_the_same_bytes_and_another_seed_another_draw(
    data: Path, tmp_path: Path
) -> None:
    source = write_list(tmp_path / "candidates.csv", candidates())
    other = tmp_path / "other"
    a = select_cases(data, "2019-20", source, 8, seed=123)
    b = select_cases(other, "2019-20", source, 8, seed=123)
    for name in ("cases.csv", "reserve.csv", "selection_record.yaml"):
        assert (a.folder / name).read_bytes() == (b.folder / name).read_bytes()
    first = read_csv(a.cases_file)
    c = select_cases(other, "2019-20", source, 8, seed=124, force=True)
    assert read_csv(c.cases_file) != first


def test_a_random_seed_is_chosen_recorded_and_reproduces_the_draw(
    data: Path, tmp_path: Path, capsys
) -> None:
    source = write_list(tmp_path / "candidates.csv", candidates())
    code = main(
        ["select-cases", "--data", str(data), "--cycle", "2019-20", "--candidates", str(source),
         "--per-priority", "5"]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    record = read_record(data / "2019-20")
    assert record.raw["seed_given"] is False
    assert f"with seed {record.seed} (chosen at random" in out
    again = select_cases(tmp_path / "again", "2019-20", source, 5, seed=record.seed)
    assert again.cases_file.read_bytes() == (data / "2019-20" / "cases.csv").read_bytes()


def test_a_short_priority_gives_all_its_candidates_and_says_so(
    data: Path, tmp_path: Path, capsys
) -> None:
    rows = candidates({"early_help": 10, "neglect": 10, "exploitation": 3})
    source = write_list(tmp_path / "candidates.csv", rows)
    code = main(
        ["select-cases", "--data", str(data), "--cycle", "2019-20", "--candidates", str(source),
         "--per-priority", "5", "--seed", "1"]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "audit-analysis: warning: exploitation: only 3 eligible candidates, fewer than 5: "
        "all of them drawn, no reserve"
    ]
    cases = read_csv(data / "2019-20" / "cases.csv")
    assert Counter(c["priority"] for c in cases) == {
        "early_help": 5,
        "neglect": 5,
        "exploitation": 3,
    }


def test_children_audited_before_are_left_out_through_the_crosswalk(
    data: Path, tmp_path: Path
) -> None:
    rows = candidates({"early_help": 6, "neglect": 6, "exploitation": 6})
    # audited before: one by CareFirst ID as Excel wrote it, one by a Tribal ID in
    # another case and with spaces, one in an older cycle; initials never match alone
    write_cases(
        data / "2018-19",
        [
            ["C01", "early_help", "4", f"{rows[0][0]}.0", "", "AB"],
            ["C02", "neglect", "9", "", f"  {rows[7][1].lower()} ", "XY"],
        ],
    )
    write_cases(data / "2016-17", [["C01", "exploitation", "15", rows[13][0], "", "AB"]])
    source = write_list(tmp_path / "candidates.csv", rows)
    made = select_cases(data, "2019-20", source, 6, seed=3)
    drawn = {c["carefirst_id"] for c in read_csv(made.cases_file)}
    reserves = {r["carefirst_id"] for r in read_csv(made.reserve_file)}
    audited = {rows[0][0], rows[7][0], rows[13][0]}
    assert not audited & (drawn | reserves)
    assert len(drawn) == 15  # 18 candidates, 3 audited before, all the rest drawn
    steps = read_record(made.folder).raw["steps"]
    assert [s["step"] for s in steps] == [
        "candidate list",
        "not audited in 2016-17",
        "not audited in 2018-19",
    ]
    assert [s["exploitation"] for s in steps] == [6, 5, 5]
    assert [s["early_help"] for s in steps] == [6, 6, 5]
    assert [s["neglect"] for s in steps] == [6, 6, 5]


def test_the_exclusion_can_be_switched_off(data: Path, tmp_path: Path) -> None:
    rows = candidates({"early_help": 3, "neglect": 3, "exploitation": 3})
    write_cases(data / "2018-19", [["C01", "early_help", "4", rows[0][0], "", "AB"]])
    (data / "2019-20").mkdir(parents=True)
    (data / "2019-20" / "selection.yaml").write_text("exclude_earlier_cycles: false\n")
    made = select_cases(data, "2019-20", write_list(tmp_path / "c.csv", rows), 3, seed=1)
    assert rows[0][0] in {c["carefirst_id"] for c in read_csv(made.cases_file)}


def test_every_criterion_is_honoured_and_counted(data: Path, tmp_path: Path) -> None:
    rows = candidates({"early_help": 40, "neglect": 40, "exploitation": 40})
    (data / "2019-20").mkdir(parents=True)
    (data / "2019-20" / "selection.yaml").write_text(
        "ages:\n  early_help: [0, 10]\n  exploitation: [12, 17]\n"
        "required: [school]\none_per_family: family_id\n"
    )
    source = write_list(tmp_path / "candidates.csv", rows)
    made = select_cases(data, "2019-20", source, 100, seed=11)  # more than any theme holds
    chosen = read_csv(made.cases_file) + read_csv(made.reserve_file)
    by_id = {r[0]: r for r in rows}
    eligible = [
        r
        for r in rows
        if r[6]
        and not (r[3] == "early_help" and int(r[4]) > 10)
        and not (r[3] == "exploitation" and int(r[4]) < 12)
    ]
    families = Counter(r[5] for r in eligible if r[5])
    assert any(n > 1 for n in families.values())  # the rule has something to do
    assert len(read_csv(made.reserve_file)) == 0  # all drawn: N exceeds each theme
    seen_families = Counter(
        by_id[c["carefirst_id"]][5] for c in chosen if by_id[c["carefirst_id"]][5]
    )
    assert set(seen_families) == set(families) and max(seen_families.values()) == 1
    for case in chosen:
        row = by_id[case["carefirst_id"]]
        assert row in eligible
    expected = len(eligible) - sum(n - 1 for n in families.values())
    assert len(chosen) == expected
    record = read_record(made.folder)
    steps = record.raw["steps"]
    assert [s["step"] for s in steps] == [
        "candidate list",
        "early_help aged 0 to 10",
        "exploitation aged 12 to 17",
        "school holds a value",
        "at most one child per family_id",
    ]
    assert sum(record.population.values()) == expected
    assert steps[1]["early_help"] == sum(
        1 for r in rows if r[3] == "early_help" and int(r[4]) <= 10
    )
    assert record.raw["criteria"]["ages"] == {"early_help": [0, 10], "exploitation": [12, 17]}


def test_an_xlsx_candidate_list_draws_as_its_csv(data: Path, tmp_path: Path) -> None:
    rows = candidates({"early_help": 5, "neglect": 5, "exploitation": 5})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Export of 2019-20 candidates (synthetic)"])
    ws.append([])
    ws.append(HEADER)
    for r in rows:  # CareFirst IDs and ages as numbers, as an export writes them
        ws.append([int(r[0]), r[1], r[2], r[3], float(r[4]), r[5] or None, r[6] or None])
    wb.save(tmp_path / "candidates.xlsx")
    a = select_cases(data, "2019-20", tmp_path / "candidates.xlsx", 3, seed=5)
    b = select_cases(tmp_path / "b", "2019-20", write_list(tmp_path / "c.csv", rows), 3, seed=5)
    assert a.cases_file.read_bytes() == b.cases_file.read_bytes()
    ws.cell(4, 5, 42)  # the first child's age, on the sheet's row 4 below the title
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(CandidateListError) as caught:
        select_cases(tmp_path / "c", "2019-20", tmp_path / "bad.xlsx", 3, seed=5)
    assert caught.value.problems == ["row 4: age is not a whole number of years from 0 to 30"]


def test_a_cases_csv_listing_cases_is_kept_unless_forced(data: Path, tmp_path: Path) -> None:
    write_cases(data / "2019-20")
    before = (data / "2019-20" / "cases.csv").read_bytes()
    source = write_list(tmp_path / "candidates.csv", candidates())
    with pytest.raises(AuditDataError, match="already lists cases; pass --force"):
        select_cases(data, "2019-20", source, 2, seed=1)
    assert (data / "2019-20" / "cases.csv").read_bytes() == before
    assert not (data / "2019-20" / "selection_record.yaml").exists()
    select_cases(data, "2019-20", source, 2, seed=1, force=True)
    assert len(read_csv(data / "2019-20" / "cases.csv")) == 6


def test_an_empty_cases_csv_from_new_cycle_is_replaced(data: Path, tmp_path: Path) -> None:
    write_cases(data / "2019-20", rows=[])
    made = select_cases(data, "2019-20", write_list(tmp_path / "c.csv", candidates()), 2, seed=1)
    assert len(read_csv(made.cases_file)) == 6


BROKEN = [
    # the same CareFirst ID, as Excel writes a whole number: 500003.0 is 500003
    ("duplicate", lambda rows: rows + [[rows[2][0] + ".0", "TR-9999"] + rows[2][2:]],
     "row 92: the same carefirst_id as row 4 (a duplicated identifier)"),
    ("duplicate in another column", lambda rows: rows + [["1", " tr-0005 "] + rows[2][2:]],
     "row 92: the same tribal_id as row 6 (a duplicated identifier)"),
    ("no priority", lambda rows: [rows[0][:3] + [""] + rows[0][4:]] + rows[1:],
     "row 2: no priority"),
    ("unknown priority", lambda rows: rows[:4] + [rows[4][:3] + ["gangs"] + rows[4][4:]] + rows[5:],
     "row 6: the priority is not one of early_help, neglect, exploitation"),
    ("age", lambda rows: rows[:1] + [rows[1][:4] + ["42"] + rows[1][5:]] + rows[2:],
     "row 3: age is not a whole number of years from 0 to 30"),
    ("no identifier", lambda rows: rows[:1] + [["", ""] + rows[1][2:]] + rows[2:],
     "row 3: no identifier (carefirst_id, tribal_id)"),
    ("empty", lambda rows: [], "no candidates: the list has a header row and nothing below it"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "spoil", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_list_is_refused_naming_rows_never_identifiers(
    data: Path, tmp_path: Path, capsys, what, spoil, message
) -> None:
    rows = spoil(candidates())
    source = write_list(tmp_path / "candidates.csv", rows)
    with pytest.raises(CandidateListError) as caught:
        select_cases(data, "2019-20", source, 2, seed=1)
    assert caught.value.problems == [message]
    assert "\n" not in str(caught.value) and "nothing drawn" in str(caught.value)
    assert not (data / "2019-20").exists()  # nothing drawn, nothing written
    code = main(
        ["select-cases", "--data", str(data), "--cycle", "2019-20", "--candidates", str(source),
         "--per-priority", "2", "--seed", "1"]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert message in err
    identifiers = {c for r in candidates() for c in r[:2]}
    assert not any(i in err for i in identifiers)


def test_many_problems_are_one_line_counting_the_rest(data: Path, tmp_path: Path) -> None:
    rows = [r[:3] + ["?"] + r[4:] for r in candidates()]
    source = write_list(tmp_path / "candidates.csv", rows)
    with pytest.raises(CandidateListError) as caught:
        select_cases(data, "2019-20", source, 2, seed=1)
    assert len(caught.value.problems) == 90
    assert str(caught.value).endswith("; and 85 more")


def test_missing_columns_are_named(data: Path, tmp_path: Path) -> None:
    source = write_list(tmp_path / "c.csv", [["1", "x"]], header=["name", "priority"])
    with pytest.raises(CandidateListError) as caught:
        select_cases(data, "2019-20", source, 2, seed=1)
    assert caught.value.problems[:2] == [
        "no 'age' column in the header row",
        "no identifier column (a column named like carefirst_id or tribal_id, or those "
        "listed as identifiers in selection.yaml)",
    ]


def test_uniform_over_seeds() -> None:
    """Over 4000 seeds, each of a theme's 6 eligible candidates is drawn (2 of 6) equally
    often, and each is first in the drawing order equally often: chi-square
    goodness-of-fit tests at the 0.1% level. The seeds are fixed, so the test is
    deterministic; it fails only if the draw favours some positions."""
    seeds, size, n = 4000, 6, 2
    drawn, first, reserve_first = Counter(), Counter(), Counter()
    for seed in range(seeds):
        order = drawing_order(size, seed, 0)
        assert sorted(order) == list(range(size))
        drawn.update(order[:n])
        first[order[0]] += 1
        reserve_first[order[n]] += 1
    for counts in (drawn, first, reserve_first):
        observed = [counts[i] for i in range(size)]
        assert stats.chisquare(observed).pvalue > 0.001
    assert sum(drawn.values()) == n * seeds
    # the themes draw independently: another stratum number, another order
    assert drawing_order(size, 1, 0) != drawing_order(size, 1, 1)


def test_select_cases_draws_in_drawing_order(data: Path, tmp_path: Path) -> None:
    rows = candidates({"early_help": 6, "neglect": 5, "exploitation": 4})
    made = select_cases(data, "2019-20", write_list(tmp_path / "c.csv", rows), 2, seed=99)
    got = read_csv(made.cases_file) + read_csv(made.reserve_file)
    for number, priority in enumerate(PRIORITIES):
        members = [r[0] for r in rows if r[3] == priority]
        expected = [members[i] for i in drawing_order(len(members), 99, number)]
        assert [g["carefirst_id"] for g in got if g["priority"] == priority] == expected


DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"


def test_the_demo_candidate_list_draws_next_years_cases(tmp_path: Path) -> None:
    """The demo's candidate export and example criteria, with the demo's earlier cohorts:
    the five children it plants from earlier cycles are left out, every criterion holds."""
    import shutil

    from audit_analysis.io.dataset import read_cases
    from audit_analysis.io.text import identifier_key

    data = tmp_path / "data"
    audited: set[str] = set()
    for cycle in ("2016-17", "2017-18", "2018-19"):
        (data / cycle).mkdir(parents=True)
        shutil.copy(DEMO / cycle / "cases.csv", data / cycle / "cases.csv")
        _, crosswalk = read_cases(data / cycle, [])
        audited |= set(crosswalk.schemes["carefirstid"]) | set(crosswalk.schemes["tribalid"])
    (data / "2019-20").mkdir()
    shutil.copy(DEMO / "selection-2019-20.yaml", data / "2019-20" / "selection.yaml")
    made = select_cases(data, "2019-20", DEMO / "candidates-2019-20.csv", 8, seed=20190401)
    assert made.drawn == dict.fromkeys(PRIORITIES, 8)
    listed = read_csv(DEMO / "candidates-2019-20.csv")
    again = [
        c
        for c in listed
        if {identifier_key(c["carefirst_id"]), identifier_key(c["tribal_id"])} & audited
    ]
    assert len(again) == 5
    chosen = read_csv(made.cases_file) + read_csv(made.reserve_file)
    ids = {c["carefirst_id"] for c in chosen}
    assert not ids & {c["carefirst_id"] for c in again}
    by_id = {c["carefirst_id"]: c for c in listed}
    ranges = {"early_help": (0, 15), "neglect": (0, 17), "exploitation": (10, 17)}
    families: Counter[str] = Counter()
    for case in chosen:
        row = by_id[case["carefirst_id"]]
        low, high = ranges[row["priority"]]
        assert low <= int(row["age"]) <= high and row["lead_professional"]
        families[row["family_id"]] += bool(row["family_id"])
    assert max(families.values()) == 1
    record = read_record(made.folder)
    assert record.total_population == len(chosen)
    # docs/selecting-cases.md shows this run's output: it stays true
    page = (DEMO.parent.parent / "docs" / "selecting-cases.md").read_text(encoding="utf-8")
    for priority in PRIORITIES:
        line = (
            f"  {priority.replace('_', ' ')}: 8 drawn from {made.eligible[priority]} eligible, "
            f"{made.reserves[priority]} on the reserve list"
        )
        assert line in page
    assert f"`data/demo/candidates-2019-20.csv` ({len(listed)} children" in page


def test_the_demo_2018_19_record_matches_its_cases() -> None:
    record = read_record(DEMO / "2018-19")
    cases = read_csv(DEMO / "2018-19" / "cases.csv")
    assert record.drawn == Counter(c["priority"] for c in cases)
    assert record.seed is None and "SYNTHETIC" in record.raw["note"]


def test_unreadable_candidate_files_are_one_line(data: Path, tmp_path: Path, capsys) -> None:
    real = write_list(tmp_path / "real.csv", candidates())
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x81\x8d\x8f\x90\x9d" * 20)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    other = tmp_path / "list.pdf"
    other.write_bytes(b"%PDF")
    for path, reason in (
        (link, "symbolic link"),
        (binary, "not text"),
        (broken, "workbook"),
        (other, "a candidate list is a .csv or .xlsx file"),
        (tmp_path / "missing.csv", "no such file"),
    ):
        code = main(
            ["select-cases", "--data", str(data), "--cycle", "2019-20", "--candidates",
             str(path), "--per-priority", "2", "--seed", "1"]
        )  # fmt: skip
        err = capsys.readouterr().err
        assert code == 1 and len(err.strip().splitlines()) == 1 and reason in err, err
        assert "Traceback" not in err
    assert not (data / "2019-20").exists()


def test_bad_options_and_criteria_are_one_line(data: Path, tmp_path: Path) -> None:
    source = write_list(tmp_path / "c.csv", candidates())
    with pytest.raises(AuditDataError, match="1 or more"):
        select_cases(data, "2019-20", source, 0, seed=1)
    with pytest.raises(AuditDataError, match="whole number from 0"):
        select_cases(data, "2019-20", source, 2, seed=-1)
    (data / "2019-20").mkdir(parents=True)
    criteria = data / "2019-20" / "selection.yaml"
    for text, message in (
        ("ages:\n  gangs: [1, 2]\n", "'gangs' is not a priority theme"),
        ("ages:\n  neglect: [12, 3]\n", "whole years from 0 to 30"),
        ("agess: {}\n", "unknown key 'agess'"),
        ("required: [nothing_here]\n", "no column 'nothing_here'"),
        ("ages: [\n", "not readable YAML"),
        # a second `ages:` would silently replace the first (the frameworks' loader)
        ("ages: {}\nrequired: []\nages: {}\n", "line 3: the key 'ages' is given twice"),
    ):
        criteria.write_text(text)
        with pytest.raises(AuditDataError, match=message):
            select_cases(data, "2019-20", source, 2, seed=1)
    assert not (data / "2019-20" / "cases.csv").exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("carefirst_id", True),
        ("CareFirst ID", True),
        ("CareFirstID", True),
        ("Tribal-Id", True),
        ("Case ID", True),
        ("id", True),
        ("paid", False),
        ("valid", False),
        ("family_id", False),
        ("Household ID", False),
        ("sibling group id", False),
        ("initials", False),
    ],
)
def test_which_columns_are_identifiers_by_default(name: str, expected: bool) -> None:
    from audit_analysis.io.selection import identifier_like

    assert identifier_like(name) is expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.tuples(*(st.integers(0, 12) for _ in PRIORITIES)),
    per=st.integers(1, 6),
    seed=st.integers(0, 2**32),
)
def test_any_draw_splits_the_eligible_into_drawn_and_reserve(
    tmp_path_factory, sizes, per, seed
) -> None:
    """For any list and seed: each theme gives min(N, eligible) cases, the cases and the
    reserves are exactly the eligible children, each once, and the record counts them."""
    tmp = tmp_path_factory.mktemp("draw")
    n_per = dict(zip(PRIORITIES, sizes, strict=True))
    rows = candidates(n_per)
    if not rows:
        return
    made = select_cases(tmp / "data", "2019-20", write_list(tmp / "c.csv", rows), per, seed=seed)
    cases, reserves = read_csv(made.cases_file), read_csv(made.reserve_file)
    for priority, n in n_per.items():
        ids = [r[0] for r in rows if r[3] == priority]
        drawn = [c["carefirst_id"] for c in cases if c["priority"] == priority]
        rest = [r["carefirst_id"] for r in reserves if r["priority"] == priority]
        assert len(drawn) == min(per, n) and sorted(drawn + rest) == sorted(ids)
        assert [int(r["order"]) for r in reserves if r["priority"] == priority] == list(
            range(1, len(rest) + 1)
        )
    assert made.eligible == n_per and read_record(made.folder).drawn == made.drawn


def test_the_draws_files_are_owner_only(data: Path, tmp_path: Path) -> None:
    """cases.csv links a case to a child: like every file that names children, it and
    the draw's other files are readable by their owner only."""
    import stat

    source = write_list(tmp_path / "candidates.csv", candidates())
    made = select_cases(data, "2019-20", source, 8, seed=7)
    for path in (made.cases_file, made.reserve_file, made.record_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
