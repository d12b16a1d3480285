"""The Executive Group's page as a PDF for the meeting pack, printed by headless Chromium.

Why Chromium: the page is written for a browser, and the PDF must be what a board member
gets by printing it: the same print stylesheet (``export.PRINT_STYLE``: A4, the marking
and page numbers in the page margins, charts kept whole with their tables), the same
SVG charts drawn as vectors, fonts embedded, a tagged PDF whose charts carry their alt
text. Debian's ``chromium`` package is what the browser tests already use; no Python
package or download is needed to print, only the browser. WeasyPrint would add a
second layout engine (and Pango) that renders the page differently from the browser
the Executive Group reads it in; playwright is only a development dependency.

Chromium is found on ``PATH`` (``chromium``, ``chromium-browser``, ``google-chrome``,
``google-chrome-stable``, ``chrome``, ``msedge``), or named by the environment variable
:data:`BROWSER_ENV`. It runs on our own file only, offline: a fresh profile, no
network (every host name resolves to nothing, on top of the page's
Content-Security-Policy, which forbids scripts and requests). pypdf then writes the
document's title, cycle and protective marking into its metadata.

Where no browser is found, or it fails, :func:`print_to_pdf` says why in one line and
returns; the caller writes its HTML regardless.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BROWSER_ENV", "PdfResult", "find_browser", "print_to_pdf"]

BROWSER_ENV = "AUDIT_ANALYSIS_BROWSER"
"""Names the Chromium-family browser to print with (a path or a program on PATH)."""
BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "msedge",
)
TIMEOUT = 120  # seconds: the demo's page prints in about 1.5 s


@dataclass(frozen=True)
class PdfResult:
    """``path`` of the PDF written, or None with ``note`` saying why not (one line)."""

    path: Path | None
    note: str = ""
    browser: str = ""


def find_browser() -> str | None:
    """The browser to print with: :data:`BROWSER_ENV` if set, else the first of
    :data:`BROWSERS` on PATH; None when there is none."""
    named = os.environ.get(BROWSER_ENV, "").strip()
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def _command(browser: str, page: Path, target: Path, profile: Path) -> list[str]:
    args = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no network, whatever the page asked
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",  # the page's own margin boxes carry marking and numbers
        "--generate-pdf-document-outline",
        f"--print-to-pdf={target}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return [*args, page.resolve().as_uri()]


def print_to_pdf(
    page: str | Path,
    target: str | Path,
    *,
    title: str,
    subject: str,
    marking: str,
    keywords: list[str] | None = None,
    browser: str | None = None,
    timeout: float = TIMEOUT,
) -> PdfResult:
    """Print the HTML ``page`` to ``target`` (A4, as its print stylesheet says) and
    write ``title``, ``subject`` (what and which cycle), ``marking`` and ``keywords``
    into the PDF's document information. Never raises for a missing or failing
    browser: the result's ``note`` says what happened."""
    page, target = Path(page), Path(target)
    browser = browser or find_browser()
    if browser is None:
        return PdfResult(
            None,
            "no Chromium or Chrome found to print it with (install Debian's chromium "
            f"package, or set {BROWSER_ENV} to the browser)",
        )
    partial = target.with_name(f".{target.name}.part")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="audit-analysis-chromium-") as profile:
        try:
            returncode, stderr = _run(_command(browser, page, partial, Path(profile)), timeout)
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            return PdfResult(None, f"{browser} took over {timeout:.0f} s to print", browser)
        except OSError as exc:
            return PdfResult(None, f"{browser} could not be started ({exc})", browser)
    if returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        lines = stderr.decode("utf-8", "replace").strip().splitlines()
        last = f": {lines[-1][:200]}" if lines else ""
        return PdfResult(
            None, f"{browser} failed to print (exit status {returncode}){last}", browser
        )
    try:
        _write_metadata(partial, title, subject, marking, keywords or [])
    except Exception as exc:  # a PDF we cannot annotate is not one to hand out
        partial.unlink(missing_ok=True)
        return PdfResult(None, f"the printed PDF could not be read back ({exc})", browser)
    partial.replace(target)
    return PdfResult(target, browser=browser)


def _run(command: list[str], timeout: float) -> tuple[int, bytes]:
    """Run the browser in its own process group, so that on a timeout its helper
    processes (renderer, GPU, zygote) are stopped with it, not left behind."""
    posix = hasattr(os, "killpg")
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=posix,
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if posix:
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            process.kill()
        process.communicate()
        raise
    return process.returncode, stderr


def _write_metadata(
    path: Path, title: str, subject: str, marking: str, keywords: list[str]
) -> None:
    """The document information dictionary, keeping everything else Chromium wrote (the
    structure tree that makes the PDF tagged, the outline, the fonts, its Producer)."""
    from importlib import metadata

    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(path)
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # the version Chromium wrote
    info = {
        "/Title": title,
        "/Subject": subject,
        "/Keywords": "; ".join([marking, *keywords]),
        "/Creator": f"audit-analysis {metadata.version('audit-analysis')}",
        "/ProtectiveMarking": marking,
    }
    writer.add_metadata(info)
    with path.open("wb") as fh:
        writer.write(fh)
