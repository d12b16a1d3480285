"""Nothing lost, nothing misfiled (issue 22): the mistakes a tired analyst makes, each
built here from small generated files, and what the suite does about them
(docs/mistakes.md)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import snapshot, write_cases, write_toolkit

from audit_analysis.pipeline.cli import EXIT_PROBLEMS, main


@pytest.fixture
def data(tmp_path) -> Path:
    """``tmp/data`` with 2018-19 (cases, a return, a deep dive flagging C01) and an
    earlier 2017-18."""
    root = tmp_path / "data"
    for cycle in ("2017-18", "2018-19"):
        folder = root / cycle
        write_cases(folder)
        write_toolkit(folder / "returns" / "WMP" / "a.xlsx", [(1, "met", "seen")])
    (root / "2018-19" / "deep_dive.csv").write_text("case_ref,discussed\nC01,yes\n")
    return root


def one_line_refusal(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    return err


# ------------------------------------------------------------ 1. outputs never overlap inputs


def _commands(data: Path, out: Path) -> list[list[str]]:
    d, o = str(data), str(out)
    return [
        ["run", "--data", d, "--cycle", "2018-19", "--out", o, "--quiet"],
        ["case-packs", "--data", d, "--cycle", "2018-19", "--out", o, "--quiet"],
        ["templates", "--data", d, "--cycle", "2018-19", "--out", o],
    ]


@pytest.mark.parametrize(
    "where",
    [".", "2018-19", "2018-19/returns", "2018-19/returns/WMP", "2017-18/new", ".."],
    ids=["the-data-folder", "a-cycle", "its-returns", "deeper", "another-cycle", "around-data"],
)
def test_an_output_folder_overlapping_a_cycle_folder_is_refused_before_anything(
    data, capsys, where
):
    out = (data / where).resolve() if where != ".." else data.parent
    before = snapshot(data.parent)
    for argv in _commands(data, out):
        assert main(argv) == 1, argv
        one_line_refusal(capsys, "overlaps the input folder", "Nothing was written")
        assert snapshot(data.parent) == before, argv  # every input byte-identical, nothing new


@pytest.mark.parametrize(
    "where", ["2018-19", "2018-19/rejections.csv", "2018-19/returns/WMP/log.csv", "2017-18/x.csv"]
)
@pytest.mark.parametrize("option", ["--rejections-csv", "--compliance-csv"])
def test_validate_never_writes_its_logs_into_a_cycle_folder(data, capsys, where, option):
    before = snapshot(data.parent)
    assert main(["validate", str(data), "--cycle", "2018-19", option, str(data / where)]) == 1
    one_line_refusal(capsys, "overlaps the input folder", option)
    assert snapshot(data.parent) == before


def test_an_output_path_beside_the_cycles_is_accepted(data, capsys):
    log = data.parent / "logs" / "rejections.csv"
    argv = ["validate", str(data), "--cycle", "2018-19", "--rejections-csv", str(log)]
    assert main(argv) == 0
    assert log.is_file()


# ------------------------------------------------------------ publishing replaces only its own


def _staging(out: Path, name: str, text: str) -> Path:
    staging = out / f".2018-19-{name:_<8}"
    (staging / "tables").mkdir(parents=True)
    (staging / "index.html").write_text(text)
    (staging / "manifest.json").write_text("{}")
    (staging / "tables" / "t.csv").write_text(text)
    return staging


def test_publishing_keeps_every_file_the_suite_did_not_write(tmp_path):
    from audit_analysis.pipeline.runner import MARKER, _publish

    out = tmp_path / "out"
    final = out / "2018-19"
    final.mkdir(parents=True)
    (final / "rejections.csv").write_text("the analyst's log")  # validate wrote it first
    carried = _publish(_staging(out, "a", "one"), final)
    assert carried == ["rejections.csv"]
    assert (final / "rejections.csv").read_text() == "the analyst's log"
    assert json.loads((final / MARKER).read_text())["entries"] == [
        "index.html",
        "manifest.json",
        "tables",
    ]
    (final / "case-packs").mkdir()
    (final / "case-packs" / "C01.html").write_text("pack")
    (final / "notes.txt").write_text("mine")
    second = _staging(out, "b", "two")
    (final / "old-page.html").write_text("a page the suite no longer writes")
    _publish(second, final)
    assert (final / "index.html").read_text() == "two"
    assert (final / "rejections.csv").read_text() == "the analyst's log"
    assert (final / "notes.txt").read_text() == "mine"
    assert (final / "case-packs" / "C01.html").read_text() == "pack"
    assert not second.exists()


def test_publishing_refuses_to_replace_what_the_suite_did_not_write(tmp_path):
    from audit_analysis.pipeline.runner import OutputError, _publish

    out = tmp_path / "out"
    final = out / "2018-19"
    final.mkdir(parents=True)
    (final / "index.html").write_text("the user's own page")
    staging = _staging(out, "a", "new")
    with pytest.raises(OutputError, match="index.html, which audit-analysis did not write"):
        _publish(staging, final)
    assert (final / "index.html").read_text() == "the user's own page"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    (out / "2019-20").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="a link or a file"):
        _publish(_staging(out, "b", "new"), out / "2019-20")
    assert snapshot(elsewhere) == {"keep.txt": hashlib.sha256(b"keep").hexdigest()}


def test_run_refuses_an_unowned_output_folder_before_reading(data, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "2018-19").mkdir(parents=True)
    (out / "2018-19" / "index.html").write_text("mine")
    argv = ["run", "--data", str(data), "--cycle", "2018-19", "--out", str(out), "--quiet"]
    assert main(argv) == 1
    one_line_refusal(capsys, "did not write there", "nothing was replaced")
    assert (out / "2018-19" / "index.html").read_text() == "mine"


# ------------------------------------------------------------ 2. publishing survives a kill


class Killed(BaseException):
    """What a ``kill -9`` leaves: no handler, no finally of ours runs after it."""


def _kill_at(monkeypatch, k: int) -> None:
    import audit_analysis.pipeline.runner as runner

    calls = {"n": 0}
    rename, replace = os.rename, os.replace

    def counted(real):
        def call(src, dst, *args, **kwargs):
            if calls["n"] == k:
                raise Killed
            calls["n"] += 1
            return real(src, dst, *args, **kwargs)

        return call

    monkeypatch.setattr(runner.os, "rename", counted(rename))
    monkeypatch.setattr(runner.os, "replace", counted(replace))


def test_publishing_killed_at_every_rename_loses_nothing(tmp_path, monkeypatch, capsys):
    from audit_analysis.pipeline.runner import _publish, clean_stale

    renames = None
    for k in range(20):
        out = tmp_path / f"k{k}"
        final = out / "2018-19"
        _publish(_staging(out, "old", "old"), final)
        (final / "case-packs").mkdir()
        (final / "case-packs" / "C01.html").write_text("pack")
        (final / "rejections.csv").write_text("log")
        staging = _staging(out, "new", "new")
        with monkeypatch.context() as patch:
            _kill_at(patch, k)
            try:
                _publish(staging, final)
            except Killed:
                pass
            else:
                renames = k  # the publishing needed fewer than k renames: all tried
        clean_stale(out)  # what the next run does first, holding the lock
        assert (final / "index.html").read_text() in ("old", "new"), k
        assert (final / "tables" / "t.csv").read_text() == (final / "index.html").read_text()
        assert (final / "case-packs" / "C01.html").read_text() == "pack", k
        assert (final / "rejections.csv").read_text() == "log", k
        assert sorted(p.name for p in out.iterdir()) == ["2018-19"], k
        if renames is not None:
            break
    assert renames is not None and renames >= 4  # the journal, two carried, two folders
    err = capsys.readouterr().err
    assert "its previous outputs are kept as they were (2 carried entries put back)" in err


# ------------------------------------------------------------ 3. a return belongs to its cycle


@pytest.mark.parametrize(
    "stated",
    [
        {"audit_cycle": "2019-20", "template_version": "2019-20"},
        {"audit_cycle": "2019/20"},
        {"template_version": "2020-21"},
    ],
    ids=["next-years-form", "next-audit-cycle", "a-later-template"],
)
def test_a_return_of_a_later_cycle_is_rejected_whole_with_its_code(data, stated):
    from audit_analysis.exceptions import RejectionCode
    from audit_analysis.io.dataset import load_cycle

    misfiled = data / "2018-19" / "returns" / "WMP" / "next-year.xlsx"
    write_toolkit(misfiled, [(s, "met", "next year's child") for s in range(1, 25)], **stated)
    loaded = load_cycle(data, "2018-19")
    assert set(loaded.ratings["source_file"]) == {"returns/WMP/a.xlsx"}  # 1 rating, not 25
    (row,) = loaded.rejections.itertuples()
    assert row.code == RejectionCode.WRONG_CYCLE == "wrong-cycle"
    assert row.source_file == "returns/WMP/next-year.xlsx" and pd.isna(row.source_row)
    assert "later than the 2018-19 folder it sits in" in row.reason
    record = loaded.returns.set_index("source_file").loc["returns/WMP/next-year.xlsx"]
    assert record["status"] == "rejected" and pd.isna(record["case_ref"])


def test_last_years_form_reused_is_still_read(data):
    from audit_analysis.io.dataset import load_cycle

    old = data / "2018-19" / "returns" / "UHB" / "old.xlsx"
    write_toolkit(old, [(1, "met", "e")], agency="UHB", audit_cycle="2017-18",
                  template_version="2017-18")  # fmt: skip
    loaded = load_cycle(data, "2018-19")
    assert loaded.rejections.empty and len(loaded.ratings) == 2


@pytest.mark.parametrize("names", [["2018-2019"], ["2018-19-old"], ["2018-2019", "2018-19-old"]])
def test_a_near_miss_is_named_in_one_line_never_read_instead(data, capsys, names):
    import shutil

    for name in names:
        shutil.copytree(data / "2018-19", data / name)
    shutil.rmtree(data / "2018-19")
    assert main(["validate", str(data), "--cycle", "2018-19"]) == 1
    err = one_line_refusal(capsys, "no folder for cycle 2018-19", "which is not read")
    for name in names:
        assert repr(name) in err


def test_beside_the_cycles_folder_a_backup_is_named_and_not_read(data, capsys):
    backup = data / "2018-19-old"
    write_cases(backup, rows=[["Z99", "", "", "1", "T", "ZZ"]])
    write_toolkit(backup / "returns" / "x.xlsx", [(1, "unmet", "old")], case_id="Z99")
    assert main(["validate", str(data), "--cycle", "2018-19"]) == 0
    out = capsys.readouterr().out
    assert "Cases: 4" in out and "Ratings: 1 accepted" in out
    assert "2018-19-old/ is not read: a cycle's folder is named exactly YYYY-YY" in out


def test_one_rule_says_which_cycles_a_data_folder_holds(data, tmp_path):
    from audit_analysis.io.cycles import DataFolder
    from audit_analysis.io.development import _cycle_folders
    from audit_analysis.io.frameworks import available_cycles
    from audit_analysis.pipeline.runner import earlier_cycles

    (data / "2016-17-old").mkdir()
    write_cases(data / "2016-17-old")
    (data / "2016-17-old" / "framework.yaml").write_text("cycle: 2016-17\n")
    elsewhere = tmp_path / "elsewhere" / "2015-16"
    write_cases(elsewhere)
    (data / "2015-16").symlink_to(elsewhere)
    (data / "2019-20").mkdir()  # started, no cases.csv yet
    (data / "notes").mkdir()
    folder = DataFolder.scan(data)
    assert folder.order == ["2017-18", "2018-19", "2019-20"]
    assert folder.with_cases() == ["2017-18", "2018-19"]
    assert list(folder.links) == ["2015-16"] and folder.near_misses == {"2016-17": ["2016-17-old"]}
    assert earlier_cycles(data, "2019-20") == ["2017-18", "2018-19"]
    assert [c for c, _ in _cycle_folders(data, lambda c: True)] == folder.order
    (data / "2030-31-old").mkdir()
    (data / "2030-31-old" / "framework.yaml").write_text("cycle: 2030-31\n")
    assert "2030-31" not in available_cycles(data)  # a backup's framework names no cycle
    with pytest.raises(Exception, match="symbolic link: not followed"):
        folder.folder("2015-16")


# ------------------------------------------------------------ 13. writes never follow links


def test_new_cycle_never_writes_through_a_dangling_link(data, tmp_path, capsys):
    folder = data / "2019-20"
    folder.mkdir()
    target = tmp_path / "outside" / "planted.yaml"
    target.parent.mkdir()
    (folder / "framework.yaml").symlink_to(target)
    argv = ["new-cycle", "--data", str(data), "--from", "2018-19"]
    assert main(argv) == 1
    one_line_refusal(capsys, "symbolic link: not written through")
    assert not target.exists()
    (folder / "framework.yaml").unlink()
    (folder / "cases.csv").symlink_to(tmp_path / "outside" / "cases.csv")
    assert main(argv) == 1
    one_line_refusal(capsys, "symbolic link: not written through")
    assert list((tmp_path / "outside").iterdir()) == []


def test_progress_forced_over_a_link_is_refused(data, tmp_path, capsys):
    from audit_analysis.admin.newcycle import carry_forward
    from audit_analysis.exceptions import AuditDataError
    from audit_analysis.io.frameworks import load_framework

    (data / "2018-19" / "development_areas.csv").write_text(
        "area_id,kloe,area\nA1,1,Referrals need feedback\n"
    )
    victim = tmp_path / "victim.csv"
    victim.write_text("keep me")
    folder = data / "2019-20"
    folder.mkdir()
    (folder / "progress.csv").symlink_to(victim)
    with pytest.raises(AuditDataError, match="symbolic link: not written through"):
        carry_forward(data, "2018-19", folder, lambda c: load_framework(c, data), force=True)
    assert victim.read_text() == "keep me"


def test_templates_never_write_through_a_linked_records_folder(data, tmp_path, capsys):
    out = tmp_path / "templates"
    out.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (out / "cycle-records").symlink_to(outside)
    argv = ["templates", "--data", str(data), "--cycle", "2018-19", "--out", str(out)]
    assert main([*argv, "--agency", "WMP", "--cases", "C01"]) == 1
    one_line_refusal(capsys, "refusing to write outside the output folder")
    assert list(outside.iterdir()) == []


# ------------------------------------------------------------ 5. text is read as written

BULK = "agency,case_id,standard,rating,evidence"


def _bulk(data: Path, name: str, raw: bytes) -> Path:
    path = data / "2018-19" / "returns" / name
    path.write_bytes(raw)
    return path


def _loaded(data: Path, name: str):
    from audit_analysis.io.dataset import load_cycle

    loaded = load_cycle(data, "2018-19")
    ratings = loaded.ratings[loaded.ratings["source_file"] == f"returns/{name}"]
    rejections = loaded.rejections[loaded.rejections["source_file"] == f"returns/{name}"]
    return ratings, rejections


def test_one_foreign_byte_in_a_utf8_file_rejects_its_line_never_garbles_the_file(data):
    text = f"{BULK}\nWMP,C02,1,met,Zoë’s café\nWMP,C02,2,met,caf".encode() + b"\xe9\n"
    text += "WMP,C02,3,met,naïve\n".encode()
    ratings, rejections = _loaded(data, _bulk(data, "mixed.csv", text).name)
    assert list(ratings["evidence"]) == ["Zoë’s café", "naïve"]
    assert list(rejections["source_row"]) == [3]
    assert "not UTF-8 while the rest of the file is UTF-8" in rejections["reason"].iloc[0]


def test_a_windows_1252_file_is_read_whole_as_windows_1252(data):
    raw = f"{BULK}\nWMP,C02,1,met,Zoë’s café\n".encode("cp1252")
    ratings, rejections = _loaded(data, _bulk(data, "excel.csv", raw).name)
    assert list(ratings["evidence"]) == ["Zoë’s café"] and rejections.empty


@pytest.mark.parametrize(
    "raw",
    [
        ("\ufeff" + BULK.replace(",", "\t") + "\r\nWMP\tC02\t1\tmet\tZoë\r\n").encode("utf-16-le"),
        ("\ufeff" + BULK.replace(",", "\t") + "\nWMP\tC02\t1\tmet\tZoë\n").encode("utf-16-be"),
        f"{BULK}\rWMP,C02,1,met,Zoë\r\rWMP,C02,2,met,Zoë\r".encode(),
        f"sep=;\r\n{BULK.replace(',', ';')}\r\nWMP;C02;1;met;Zoë\r\n".encode(),
        f"\ufeffsep=,\n{BULK}\nWMP,C02,1,met,Zoë\n".encode(),
    ],
    ids=["utf16-le-bom", "utf16-be-bom", "cr-only", "sep-line", "bom-and-sep-line"],
)
def test_excels_other_text_files_are_read(data, raw):
    ratings, rejections = _loaded(data, _bulk(data, "excel.csv", raw).name)
    assert rejections.empty, list(rejections["reason"])
    assert set(ratings["evidence"]) == {"Zoë"} and len(ratings) >= 1


def test_utf16_without_its_mark_is_refused_with_the_reason(data):
    raw = f"{BULK}\nWMP,C02,1,met,Zoë\n".encode("utf-16-le")
    ratings, rejections = _loaded(data, _bulk(data, "nobom.csv", raw).name)
    assert ratings.empty
    assert "NUL bytes (UTF-16 saved without a byte-order mark?)" in rejections["reason"].iloc[0]


def test_nfc_and_nfd_spellings_are_one_case(data):
    from audit_analysis.io.dataset import load_cycle

    nfc, nfd = "Zo\u00eb1", "Zoe\u03081"
    assert nfc != nfd
    write_cases(
        data / "2018-19", rows=[[nfc, "", "", "1", "T1", "AB"], [nfd, "", "", "2", "T2", "CD"]]
    )
    write_toolkit(data / "2018-19" / "returns" / "WMP" / "a.xlsx", [(1, "met", "e")], case_id=nfd)
    _bulk(data, "b.csv", f"{BULK}\nUHB,{nfd},1,met,e\n".encode())
    loaded = load_cycle(data, "2018-19")
    assert list(loaded.cases["case_ref"]) == [nfc]
    (dup,) = loaded.rejections[loaded.rejections["source_file"] == "cases.csv"].itertuples()
    assert dup.code == "case-left-out" and "duplicate case_ref" in dup.reason
    assert list(loaded.ratings["case_ref"]) == [nfc, nfc]


def test_lookalike_and_mixed_script_references_are_flagged_and_kept(data, capsys):
    rows = [
        ["C01", "", "", "1", "T1", "AB"],
        ["\u042101", "", "", "2", "T2", "CD"],  # Cyrillic Es
        ["\uff23\uff10\uff12", "", "", "3", "T3", "EF"],  # fullwidth C02
        ["C02", "", "", "4", "T4", "GH"],
        ["Zo\u0435", "", "", "5", "T5", "IJ"],  # Latin with a Cyrillic e
    ]
    write_cases(data / "2018-19", rows=rows)
    from audit_analysis.io.dataset import load_cycle

    loaded = load_cycle(data, "2018-19")
    assert len(loaded.cases) == 5  # flagged, never left out
    flagged = loaded.rejections[loaded.rejections["code"] == "case-lookalike"]
    assert list(flagged["source_row"]) == [3, 4, 6]
    assert "looks like 'C01' (row 2)" in flagged["reason"].iloc[0]
    assert "looks like 'C02' (row 5)" in flagged["reason"].iloc[1]
    assert "mixes the scripts CYRILLIC, LATIN" in flagged["reason"].iloc[2]
    assert main(["validate", str(data), "--cycle", "2018-19"]) == 0
    assert "looks like 'C01'" in capsys.readouterr().out


def test_a_yaml_key_given_twice_is_refused_with_its_line(data, capsys):
    import yaml

    from audit_analysis.io.frameworks import framework_path

    raw = yaml.safe_load(framework_path("2018-19").read_text(encoding="utf-8"))
    text = yaml.safe_dump(raw, sort_keys=False)
    text += "kloes:\n- number: 1\n  key: only\n  title: One\n  standards: []\n"
    (data / "2018-19" / "framework.yaml").write_text(text, encoding="utf-8")
    line = text.count("\n") - 4
    assert main(["validate", str(data), "--cycle", "2018-19"]) == 1
    one_line_refusal(
        capsys, f"line {line}: the key 'kloes' is given twice", "framework.yaml", "(first on line"
    )


# ------------------------------------------------------------ 8. text is never markup

MONEY = ["Plans cost $\\frac{1}$", "under $5 and over $10", "$x^2$ of cases"]


def test_a_dollar_pair_in_chart_text_is_drawn_as_written(tmp_path):
    import io
    import re

    from audit_analysis.render import plots

    frame = pd.DataFrame(
        {
            "label": MONEY,
            "share": [0.2, 0.5, 0.9],
            "low": [0.1, 0.3, 0.8],
            "high": [0.4, 0.7, 1.0],
            "group": MONEY,
        }  # fmt: skip
    )
    fig = plots.share_dots(frame, "label", group="group", xlabel=MONEY[1])
    fig.axes[0].set_title(MONEY[0])
    fig.legend(title=MONEY[2])
    svg = io.BytesIO()
    fig.savefig(svg, format="svg")  # mathtext would raise on \frac{1}
    fig.savefig(io.BytesIO(), format="png")
    text = svg.getvalue().decode()
    shown = {t.replace("&#36;", "$") for t in re.findall(r">([^<>]*\$[^<>]*)<", text)}
    for words in MONEY:  # every text drawn once at least, its $ signs as they are
        assert any(words in s for s in shown), words


def test_html_shown_in_a_notebook_is_never_typeset_by_mathjax():
    from audit_analysis.render.present import NO_MATHJAX, display_html, no_mathjax

    assert no_mathjax("<p>under $5 and over $10</p>") == (
        f'<div class="{NO_MATHJAX}"><p>under $5 and over $10</p></div>'
    )
    assert {"tex2jax_ignore", "mathjax_ignore"} <= set(NO_MATHJAX.split())
    frame_html = pd.DataFrame({"evidence": MONEY})._repr_html_()
    assert "tex2jax_ignore" in frame_html
    display_html("<p>$5</p>")  # no IPython display here: does nothing, raises nothing


# ------------------------------------------------------------ 11, 12. no valid input aborts


def _four_cases(data: Path) -> None:
    from conftest import write_bulk_csv

    from audit_analysis.io.frameworks import load_framework

    rows = [
        [agency, case, str(s.number), ("met", "unmet", "exceeded")[(s.number + k) % 3], "e"]
        for k, case in enumerate(("C01", "C02", "C03", "C04"))
        for agency in ("WMP", "UHB")
        for s in load_framework("2018-19").standards
    ]
    header = ["agency", "case_id", "standard", "rating", "evidence"]
    write_bulk_csv(data / "2018-19" / "returns" / "all.csv", header, rows)


@pytest.mark.parametrize("threshold", [5, 25])
def test_a_cohort_under_the_threshold_gives_every_page_saying_what_is_missing(
    data, tmp_path, threshold
):
    import matplotlib.pyplot as plt

    from audit_analysis.pipeline.notebook import open_session
    from audit_analysis.render import present
    from audit_analysis.sections import build_all

    _four_cases(data)
    session = open_session(data, "2018-19", tmp_path / "out", min_cell_count=threshold)
    shown: list[str] = []
    original, present.display_html = present.display_html, shown.append
    try:
        for section in build_all(session).values():
            session.report.show(section)
    finally:
        present.display_html = original
        plt.close("all")
    page = "\n".join(shown)
    assert "No standard is shown here: each of the 24 standards rated was rated on fewer " in page
    assert f"than {threshold} cases" in page


@pytest.mark.parametrize("value", ["-1", "0", "two"])
@pytest.mark.parametrize("option", ["--workers", "--min-cell-count"])
def test_a_bad_count_is_one_line_of_usage(data, tmp_path, capsys, option, value):
    argv = ["run", "--data", str(data), "--cycle", "2018-19", "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as stop:
        main([*argv, option, value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"argument {option}: {value!r} is not" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("odd", [-3, 0, 10**30, 2.5, True, "1e3", "1000"])
def test_an_odd_standard_number_is_refused_by_validate_in_one_line(data, capsys, odd):
    import yaml

    from audit_analysis.io.frameworks import framework_path

    raw = yaml.safe_load(framework_path("2018-19").read_text(encoding="utf-8"))
    raw["kloes"][0]["standards"][0]["number"] = odd
    (data / "2018-19" / "framework.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert main(["validate", str(data), "--cycle", "2018-19"]) == 1
    one_line_refusal(capsys, "a standard number must be a whole number from 1 to 999")


def test_a_file_name_that_is_not_utf8_is_shown_escaped_and_read(data, tmp_path, capsys):
    returns = os.fsencode(data / "2018-19" / "returns")
    with open(os.path.join(returns, b"Zo\xeb audit.csv"), "wb") as fh:
        fh.write(b"agency,case_id,standard,rating\nWMP,C02,1,met\nWMP,C02,2,bad\n")
    with open(os.path.join(returns, b"Zo\xeb notes.txt"), "wb") as fh:
        fh.write(b"not a return")
    log = tmp_path / "rejections.csv"
    assert main(["validate", str(data), "--cycle", "2018-19", "--rejections-csv", str(log)]) == 0
    out = capsys.readouterr().out
    assert "returns/Zo\\xeb audit.csv, row 3: unknown rating" in out
    assert "returns/Zo\\xeb notes.txt: not an audit return (.txt)" in out
    text = log.read_text(encoding="utf-8-sig")
    assert '"returns/Zo\\xeb audit.csv","3","unknown-rating"' in text
    from audit_analysis.io.dataset import load_cycle

    loaded = load_cycle(data, "2018-19")
    assert "returns/Zo\\xeb audit.csv" in set(loaded.ratings["source_file"])
    for column in ("source_file",):  # every table can be written as UTF-8
        "".join(loaded.returns[column]).encode("utf-8")


# ------------------------------------------------------------ 9. memory per rejected row


def _many_bad_rows(data: Path, n: int) -> None:
    path = data / "2018-19" / "returns" / "WMP" / "big.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("case_id,standard,rating,evidence\n")
        for i in range(n):
            fh.write(f"C02,{i % 24 + 1},TBC{i % 7},evidence of row {i}\n")


def test_rejected_rows_beyond_the_cap_are_counted_on_one_line(data, capsys):
    from audit_analysis.analysis.quality import rejections_summary
    from audit_analysis.io.dataset import load_cycle
    from audit_analysis.io.schemas import MAX_LISTED

    _many_bad_rows(data, MAX_LISTED + 2345)
    loaded = load_cycle(data, "2018-19")
    big = loaded.rejections[loaded.rejections["source_file"] == "returns/WMP/big.csv"]
    assert len(big) == MAX_LISTED + 1
    assert big["count"].sum() == MAX_LISTED + 2345
    last = big.iloc[-1]
    assert last["count"] == 2345 and last["source_row"] == MAX_LISTED + 2
    assert f"rows {MAX_LISTED + 2}-{MAX_LISTED + 2346}" in last["reason"]
    assert last["code"] == "unknown-rating"
    rows = loaded.returns.set_index("source_file").loc["returns/WMP/big.csv", "rows"]
    assert rows == big["count"].sum()  # every row read is counted, listed or not
    assert rejections_summary(loaded, "kind").set_index("kind").loc["unknown rating", "rows"] == (
        MAX_LISTED + 2345
    )
    assert main(["validate", str(data), "--cycle", "2018-19"]) == 0
    assert f"{MAX_LISTED + 2345} rows rejected" in capsys.readouterr().out


MEASURE = """
import resource, sys
from audit_analysis.pipeline.cli import main
status = main(["validate", sys.argv[1], "--cycle", "2018-19"])
print(status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_a_million_rejected_rows_are_validated_under_a_gigabyte(data):
    import subprocess
    import sys

    _many_bad_rows(data, 1_000_000)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(data)], capture_output=True, text=True, check=True
    )
    status, peak_kb = done.stdout.split()[-2:]
    assert status == "0"
    assert "1000000 rows rejected" in done.stdout
    assert int(peak_kb) < 1024 * 1024, f"peak {int(peak_kb) / 1024:.0f} MB"


# ------------------------------------------------------------ the whole run, end to end


@pytest.mark.e2e
def test_a_quiet_run_on_bad_data_says_so_in_one_line_and_draws_dollar_text(data, tmp_path, capsys):
    """The operator's view end to end, on a cycle with a rejected row (in a file with a
    Windows zip's name) and a return no agency can be tied to, whose framework writes
    dollar signs: run --quiet writes the outputs, exits 3, says so in one line, counts
    each problem in the manifest, draws the dollar text as written and changes no input.
    (A second run over this one, keeping the analyst's own files: tests/test_run.py.)"""
    import yaml

    from audit_analysis.io.frameworks import framework_path

    raw = yaml.safe_load(framework_path("2018-19").read_text(encoding="utf-8"))
    raw["kloes"][0]["title"] = MONEY[1]
    raw["kloes"][0]["standards"][0]["text"] = MONEY[0]
    (data / "2018-19" / "framework.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    _four_cases(data)
    returns = os.fsencode(data / "2018-19" / "returns")
    with open(os.path.join(returns, b"Zo\xeb audit.csv"), "wb") as fh:  # a Windows zip's name
        fh.write(b"agency,case_id,standard,rating,evidence\nUHB,C03,30,TBC,$5 and $10\n")
    write_toolkit(data / "2018-19" / "returns" / "y.xlsx", [(1, "met", "e")], agency="Nowhere")
    before = snapshot(data)
    out = tmp_path / "out"
    argv = ["run", "--data", str(data), "--cycle", "2018-19", "--out", str(out), "--quiet"]
    # outputs written, the data had problems: exit status 3
    assert main(argv) == EXIT_PROBLEMS
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) <= 2, lines  # the summary, and a note when no browser printed the PDF
    (line,) = [x for x in lines if "data problems in 2018-19:" in x]
    # rejected: standard 30 (no such standard), WMP's C01 standard 1 again in all.csv (a.xlsx
    # rated it first), the unknown agency of y.xlsx; not placed: y.xlsx, and the odd-named
    # file, whose one row is rejected
    assert "3 rejections" in line and "2 returns not placed" in line, line
    final = out / "2018-19"
    manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    counts = {n["kind"]: n["count"] for n in manifest["notes"]}
    assert counts["rejections"] == 3 and counts["unplaced_returns"] == 2, counts
    drawn = "".join(p.read_text(encoding="utf-8") for p in (final / "figures").glob("*.svg"))
    assert MONEY[1] in drawn.replace("&#36;", "$")  # a KLOE's title, drawn as written
    log = (final / "tables" / "rejections.csv").read_text(encoding="utf-8-sig")
    assert "returns/Zo\\xeb audit.csv" in log  # the odd name, shown escaped, run complete
    assert snapshot(data) == before  # every input byte-identical
    assert sorted(p.name for p in out.iterdir()) == ["2018-19"]
    # a second run over this one keeps the analyst's own files: tests/test_run.py


def test_new_cycle_never_writes_into_a_linked_cycle_folder(data, tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (data / "2019-20").symlink_to(outside)
    assert main(["new-cycle", "--data", str(data), "--from", "2018-19"]) == 1
    one_line_refusal(capsys, "symbolic link: not written through")
    assert list(outside.iterdir()) == []


def test_case_packs_killed_at_every_rename_lose_nothing(tmp_path, monkeypatch):
    from audit_analysis.pipeline.runner import _publish, clean_stale

    def packs_staging(cycle_folder: Path, name: str, text: str) -> Path:
        staging = cycle_folder / f".case-packs-{name:_<8}"
        (staging / "notebooks").mkdir(parents=True)
        (staging / "C01.html").write_text(text)
        return staging

    for k in range(12):
        out = tmp_path / f"k{k}"
        cycle_folder = out / "2018-19"
        target = cycle_folder / "case-packs"
        _publish(packs_staging(cycle_folder, "old", "old"), target)
        (target / "notes.txt").write_text("mine")
        staging = packs_staging(cycle_folder, "new", "new")
        with monkeypatch.context() as patch:
            _kill_at(patch, k)
            with contextlib.suppress(Killed):
                _publish(staging, target)
        clean_stale(out)
        assert (target / "C01.html").read_text() in ("old", "new"), k
        assert (target / "notes.txt").read_text() == "mine", k
        assert sorted(p.name for p in cycle_folder.iterdir()) == ["case-packs"], k


def test_what_an_older_version_left_between_its_renames_is_put_back(tmp_path, capsys):
    from audit_analysis.pipeline.runner import clean_stale

    out = tmp_path / "out"
    previous = out / ".2018-19.previous"
    (previous / "case-packs").mkdir(parents=True)
    (previous / "case-packs" / "C01.html").write_text("pack")
    (previous / "index.html").write_text("old")
    (out / ".2018-19-abcd1234").mkdir()  # the new outputs it had not yet moved in
    assert clean_stale(out) == [out / ".2018-19-abcd1234"]  # named by output_lock
    assert (out / "2018-19" / "case-packs" / "C01.html").read_text() == "pack"
    assert sorted(p.name for p in out.iterdir()) == ["2018-19"]
    assert "2018-19 put back as it was" in capsys.readouterr().err
