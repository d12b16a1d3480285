"""Installed like any package: the wheel holds the notebooks and the data files, and a
fresh virtual environment outside the clone runs the suite from another folder.

The lock file must cover pyproject.toml (``make lock`` regenerates it), or ``make
report`` would install an environment missing a dependency.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from tables import compare_folders, refresh

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
GOLDEN = Path(__file__).resolve().parent / "golden" / "demo-2018-19"


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_dependency_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in ("dev", "lab"):
        wanted |= {_name(r) for r in project["optional-dependencies"].get(extra, [])}
    pinned = {
        _name(line)
        for line in LOCK.read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    missing = sorted(wanted - pinned)
    assert not missing, f"requirements.lock lacks {missing}: run `make lock`"


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str, str, str]:
    """The wheel built from the clone, everything pip and setuptools said, and the
    commit and exact tag (if any) it was built at."""
    head = _git("rev-parse", "--short=7", "HEAD").stdout.strip()
    tag = _git("describe", "--tags", "--exact-match").stdout.strip()
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    (found,) = out.glob("audit_analysis-*.whl")
    return found, done.stdout + done.stderr, head, tag


@pytest.fixture(scope="module")
def wheel(built) -> Path:
    return built[0]


def test_building_the_wheel_gives_no_setuptools_warning(built):
    """Every data folder is named in the packages configuration: setuptools has nothing
    to warn about (it once printed 90 lines saying the data "would be ignored")."""
    log = built[1]
    assert "absent from the `packages` configuration" not in log
    assert "SetuptoolsDeprecationWarning" not in log
    assert "SetuptoolsWarning" not in log


def test_the_version_comes_from_git(built):
    """The wheel's version is setuptools-scm's, from the clone's tags and commits (not a
    number typed into pyproject.toml, which stayed 0.1.0 whatever the code): off a tag
    it carries the commit it was built from."""
    wheel, _, head, tag = built
    version = wheel.name.split("-")[1]
    if not head:
        pytest.skip("not a git clone")
    if tag:
        tag = tag.lstrip("v")
        assert version == tag or version.startswith(f"{tag}+"), (version, tag)
    else:
        assert f"+g{head}" in version, (version, head)


def test_the_wheel_holds_the_notebooks_and_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for stem in ("01-data-quality", "05-executive-summary", "06-case-pack"):
        assert f"audit_analysis/notebooks/{stem}.ipynb" in names
    assert "audit_analysis/data/notebooks.yaml" in names
    assert "audit_analysis/data/frameworks/2018-19.yaml" in names
    # every sub-package of the library, the explorer's among them
    packages = {
        p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("audit_analysis/**/__init__.py")
    }
    assert {f"{p}/__init__.py" for p in packages} <= names
    assert not any(n.startswith(("tests/", "bench/", "data/demo")) for n in names)


@pytest.mark.e2e
@pytest.mark.slow
def test_installed_wheel_runs_from_another_folder(wheel, tmp_path):
    """What a partnership's IT team does: a fresh virtual environment outside the clone,
    the wheel installed into it, every command run from an unrelated folder; the demo
    run's tables are the golden ones (``tests/golden/demo-2018-19``).

    The wheel is installed without its dependencies, which come from this environment's
    site-packages through a path file (and Jupyter's data files, nbconvert's templates
    among them, through a link): a path file adds the folder but runs none of the path
    files in it, so the clone's editable install stays out of sight, and ``pip check``
    still holds the wheel's own requirements against what it sees. Installing the
    dependencies again from the lock took this test two minutes; the environment every
    test runs in is itself installed from the lock (``make``), which proves the pins."""
    import sysconfig

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_path("purelib")
    Path(purelib, "_dependencies.pth").write_text(f"{ours}\n", encoding="utf-8")
    (env_dir / "share").mkdir(exist_ok=True)
    (env_dir / "share" / "jupyter").symlink_to(Path(sys.prefix, "share", "jupyter"))
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "--no-compile", str(wheel)],
        check=True,
        capture_output=True,
    )
    shown = subprocess.run(
        [str(python), "-c", "import audit_analysis; print(audit_analysis.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.startswith(purelib) and str(ROOT) not in shown  # the wheel's, not the clone's
    checked = subprocess.run([*pip, "check"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout  # every requirement met, none broken
    work = tmp_path / "elsewhere"
    work.mkdir()
    cli = str(env_dir / "bin" / "audit-analysis")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"

    def run(*args: str, status: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [cli, *args], cwd=work, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == status, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
        return done

    assert run("--version").stdout.startswith("audit-analysis ")
    run("demo-data", "--out", "data")
    run("validate", "data", "--cycle", "2018-19")
    # the demo's 2018-19 has rejections on purpose: outputs written, exit status 3, and
    # one line says so, --quiet or not
    done = run("run", "--data", "data", "--cycle", "2018-19", "--out", "out", "--quiet", status=3)
    assert "data problems in 2018-19:" in done.stderr and "rejections" in done.stderr
    assert (work / "out" / "2018-19" / "executive-summary.html").is_file()
    # the demo's tables, to their published precision: as the golden ones (a restructure
    # must not change a result; tests/tables.py says how they are compared, and how to
    # regenerate them when a result changes on purpose)
    refresh(work / "out" / "2018-19" / "tables", GOLDEN)
    assert compare_folders(work / "out" / "2018-19" / "tables", GOLDEN) == []
    manifest = (work / "out" / "2018-19" / "manifest.json").read_text(encoding="utf-8")
    assert str(ROOT) not in manifest  # nothing of the clone was used
    code = json.loads(manifest)["code"]
    assert code["commit"] is None and code["version"] == wheel.name.split("-")[1]
    # one flagged case's pack (each is a kernel of its own; a pack for every flagged case:
    # tests/test_casepacks.py)
    with (work / "data" / "2018-19" / "deep_dive.csv").open(encoding="utf-8") as fh:
        case = next(csv.DictReader(fh))["case_ref"]
    run(
        "case-packs",
        "--data",
        "data",
        "--cycle",
        "2018-19",
        "--cases",
        case,
        "--out",
        "out",
        "--quiet",
    )
    assert [p.name for p in (work / "out" / "2018-19" / "case-packs").glob("*.html")] == [
        f"{case}.html"
    ]
    run("notebooks", "--out", "notebooks")
    assert (work / "notebooks" / "03-trends.ipynb").is_file()
    shutil.rmtree(env_dir)


def test_in_a_clone_paths_are_anchored_at_its_root(tmp_path, monkeypatch):
    """Relative notebook paths and the lock the manifest records are the clone's,
    wherever the process starts (the package sits two folders down in its layers)."""
    from audit_analysis.paths import PROJECT_ROOT
    from audit_analysis.pipeline.notebook import project_path
    from audit_analysis.pipeline.runner import _lock_record

    monkeypatch.chdir(tmp_path)
    assert PROJECT_ROOT == ROOT
    assert project_path("data/demo") == ROOT / "data" / "demo"
    assert _lock_record()["file"] == "requirements.lock"
