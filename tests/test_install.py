"""Installed like any package: the wheel holds the notebooks and the data files, and a
fresh virtual environment outside the clone runs the suite from another folder.

The lock file must cover pyproject.toml (``make lock`` regenerates it), or ``make
report`` would install an environment missing a dependency.
"""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("audit_analysis-*.whl")
    return found


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
    the wheel installed with the pins of requirements.lock, every command run from an
    unrelated folder."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(LOCK), str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    cli = str(env_dir / "bin" / "audit-analysis")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [cli, *args], cwd=work, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
        return done

    assert run("--version").stdout.startswith("audit-analysis ")
    run("demo-data", "--out", "data")
    run("validate", "data", "--cycle", "2018-19")
    run("run", "--data", "data", "--cycle", "2018-19", "--out", "out", "--quiet")
    assert (work / "out" / "2018-19" / "executive-summary.html").is_file()
    manifest = (work / "out" / "2018-19" / "manifest.json").read_text(encoding="utf-8")
    assert str(ROOT) not in manifest  # nothing of the clone was used
    run("case-packs", "--data", "data", "--cycle", "2018-19", "--out", "out", "--quiet")
    assert list((work / "out" / "2018-19" / "case-packs").glob("*.html"))
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
