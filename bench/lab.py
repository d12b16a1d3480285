"""The explorer's first render from a cold kernel, in JupyterLab, in a real browser
(issue 25): what an analyst waits for after Run All on ``notebooks/00-explore.ipynb``.

Starts JupyterLab on a free local port with a token (its settings, workspaces and
runtime files in a temporary folder), opens a fresh copy of the notebook in headless
Chromium (Debian's ``chromium`` package, driven by playwright) for each round, waits
until its new kernel is idle (started, nothing imported), then times from Run All to
the explorer's first view on the page (its headline drawn). Each round's kernel is a
new process and is shut down after it, so every round is cold: the kernel's imports,
the three demo cycles loaded from the files, the first view computed, sent over the
widget comm and drawn by the browser. JupyterLab's own page load and the kernel's
start-up are not counted (the analyst meets them once, before any click).

Run as ``python -m bench.lab [rounds]``: prints one line of JSON with the median and
every round's seconds. ``tests/test_explore_lab.py`` checks, in the same setting, that
what is drawn is right; the time lives here, never in a test.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "00-explore.ipynb"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"]
TARGETS = {"explore.cold_first_render_seconds": ("<=", 3.0)}
HEADLINE = ".audit-explorer p.audit-explorer-headline"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def available() -> str | None:
    """Why the figure cannot be measured here (None when it can)."""
    import importlib.util

    missing = [
        m for m in ("jupyterlab", "ipywidgets", "playwright") if not importlib.util.find_spec(m)
    ]
    if missing:
        return f"{', '.join(missing)} not installed (pip install -e '.[lab]')"
    if chromium() is None:
        return "no chromium on PATH (Debian's chromium package)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab_server(root: Path) -> Iterator[tuple[str, str]]:
    """JupyterLab serving ``root``: ``(base url, token)``; stopped on exit."""
    port, token = _free_port(), secrets.token_hex(16)
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
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "JupyterLab did not start:\n" + (root / "lab.log").read_text()[-2000:]
                    ) from None
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


def _stop_kernels(base: str, token: str) -> None:
    """Shut every session's kernel down: the next round starts a new one."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=30) as answer:
        sessions = json.load(answer)
    for session in sessions:
        request = urllib.request.Request(
            f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE"
        )
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=30).close()


# Once the notebook is open and its new kernel idle: Run All, then the seconds until
# the explorer's headline is on the page (polled each animation frame).
RUN_ALL = """async (selector) => {
    const app = window.jupyterapp;
    let panel = null;
    while (!panel) {
        for (const w of app.shell.widgets('main')) {
            if (w.context && w.context.path.endsWith(window.__notebook)) panel = w;
        }
        if (!panel) await new Promise(r => setTimeout(r, 50));
    }
    await panel.context.ready;
    await panel.sessionContext.ready;
    const kernel = panel.sessionContext.session.kernel;
    while (kernel.status !== 'idle') await new Promise(r => setTimeout(r, 20));
    app.shell.activateById(panel.id);
    const start = performance.now();
    app.commands.execute('notebook:run-all-cells');
    // a cell that fails ends the wait at once, with its error, not at the timeout
    const failed = () => {
        for (const cell of panel.content.model.toJSON().cells) {
            for (const out of cell.outputs || []) {
                if (out.output_type === 'error') return out.ename + ': ' + out.evalue;
            }
        }
        return null;
    };
    let frames = 0;
    while (!document.querySelector(selector)) {
        await new Promise(r => requestAnimationFrame(r));
        if (++frames % 10 === 0 && failed()) return {error: failed()};
    }
    return {seconds: (performance.now() - start) / 1000};
}"""


def first_render(page, base: str, token: str, name: str) -> float:
    """Seconds from Run All to the first view, ``name`` opened in a new kernel; a cell
    that fails raises RuntimeError with its error (not a timeout minutes later)."""
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.evaluate(f"() => {{ window.__notebook = {json.dumps(name)}; }}")
    answer = page.evaluate(RUN_ALL, HEADLINE)
    if "error" in answer:
        raise RuntimeError(f"the explore notebook failed in JupyterLab: {answer['error']}")
    return float(answer["seconds"])


def measure(rounds: int = 5) -> dict:
    """``rounds`` cold first renders (after one warm-up that fills the disk cache and
    JupyterLab's own first-time work): their median and every round."""
    from playwright.sync_api import sync_playwright

    seconds = []
    with tempfile.TemporaryDirectory(prefix="audit-lab-bench-") as tmp:
        root = Path(tmp)
        for i in range(rounds + 1):
            shutil.copy(NOTEBOOK, root / f"explore-{i}.ipynb")  # JupyterLab saves it
        with lab_server(root) as (base, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                for i in range(rounds + 1):
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    page.set_default_timeout(240_000)
                    took = first_render(page, base, token, f"explore-{i}.ipynb")
                    page.close()
                    _stop_kernels(base, token)
                    if i:  # round 0 warms up
                        seconds.append(took)
            finally:
                browser.close()
    return {
        "cold_first_render_seconds": round(statistics.median(seconds), 3),
        "rounds": [round(s, 3) for s in seconds],
    }


if __name__ == "__main__":
    reason = available()
    if reason:
        print(json.dumps({"skipped": reason}))
    else:
        print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
