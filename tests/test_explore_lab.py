"""End to end: the explorer in JupyterLab, in a real browser.

Starts JupyterLab on a free local port with a token (allowing root, as CI runs), opens a
copy of ``notebooks/00-explore.ipynb`` in headless Chromium (Debian's ``chromium``
package, driven by playwright: never ``playwright install``), runs it on the demo data,
changes a control and checks that the view changed. The copy keeps the committed
notebook clean: JupyterLab saves what it runs.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, needs_chromium

from audit_analysis.pipeline.runner import NOTEBOOK_DIR

MISSING = [m for m in ("jupyterlab", "ipywidgets") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.e2e,
    needs_chromium("JupyterLab"),
    pytest.mark.skipif(
        bool(MISSING), reason=f"{', '.join(MISSING)} not installed: pip install -e '.[lab]'"
    ),
]
START_SECONDS = 120  # JupyterLab answering
RUN_MS = 240_000  # the notebook run and the widget shown (a cold kernel on a busy machine)
CHANGE_MS = 60_000  # a control change reaching the page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a folder that holds a copy of the explore notebook:
    ``(base url, token)``. Its settings, workspaces and runtime files stay in that
    folder."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK_DIR / "00-explore.ipynb", root / "00-explore.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(root / ".config"),
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "IPYTHONDIR": str(root / ".ipython"),
        "MPLBACKEND": "Agg",
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={root / '.settings'}",
        f"--LabApp.workspaces_dir={root / '.workspaces'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        "JupyterLab did not start:\n" + (root / "lab.log").read_text()[-3000:]
                    )
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def headline(page) -> str:
    return page.locator("p.audit-explorer-headline").first.inner_text()


def test_explorer_runs_in_jupyterlab_and_redraws_when_a_control_changes(lab, browser):
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(RUN_MS)
    page.goto(f"{base}/lab/tree/00-explore.ipynb?token={token}", wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    # once the notebook and its kernel are ready, every cell run, as Run > Run All Cells
    page.evaluate(
        """async () => {
            const app = window.jupyterapp;
            let panel = null;
            for (const w of app.shell.widgets('main')) {
                if (w.context && w.context.path.endsWith('00-explore.ipynb')) panel = w;
            }
            await panel.context.ready;
            await panel.sessionContext.ready;
            app.shell.activateById(panel.id);
            await app.commands.execute('notebook:run-all-cells');
        }"""
    )
    page.wait_for_selector(".audit-explorer p.audit-explorer-headline")
    banner = page.locator(".audit-explorer-banner").inner_text()
    assert "QA group only" in banner
    first = headline(page)
    assert "all standards, every agency" in first and "met or exceeded" in first
    chart = page.locator(".audit-explorer-chart")
    page.wait_for_function(
        "() => { const i = document.querySelector('.audit-explorer-chart');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert chart.evaluate("img => img.naturalWidth") > 300
    table = page.locator("table.audit-explorer-data").inner_text()
    assert "threshold guidance" in table

    # change a control: the first agency in the list
    page.set_default_timeout(CHANGE_MS)
    agency = page.locator(".audit-explorer-agency select")
    label = agency.locator("option").nth(1).inner_text()
    code = label.split(":")[0]
    agency.select_option(label=label)
    page.wait_for_function(
        "(old) => { const h = document.querySelector('p.audit-explorer-headline');"
        " return h && h.innerText !== old; }",
        arg=first,
    )
    assert f"agency {code}" in headline(page)
    page.wait_for_function(
        "(old) => document.querySelector('table.audit-explorer-data').innerText !== old",
        arg=table,
    )

    # and a view: the cases behind the selection, with no chart
    page.locator(".audit-explorer-view button", has_text="Cases").click()
    page.wait_for_function(
        "() => { const c = document.querySelector('table.audit-explorer-data caption');"
        " return c && c.innerText.includes('cases behind this selection'); }"
    )
    assert page.locator(".audit-explorer-chart").is_hidden()
    page.locator(".audit-explorer-view button", has_text="Share and ratings").click()
    page.wait_for_function(
        "() => { const i = document.querySelector('.audit-explorer-chart');"
        " return i && i.offsetParent !== null && i.naturalWidth > 0; }"
    )
    # the widgets raised nothing in the page (JupyterLab's own offline hiccups aside)
    assert [e for e in errors if "widget" in e.lower()] == []
    page.close()
