"""Where files written from data go, and who may read them.

Every file whose name comes from data (a ``case_ref``, an agency, a cycle) is named by
:func:`safe_name` and placed with :func:`inside`, which refuses any resolved path that
leaves its folder; :func:`papermill_path` escapes a path for papermill, which formats
paths with its parameters as ``str.format`` does. Outputs that can name cases are
created owner-only: folders 0700 and files 0600 (:func:`owner_only`, :func:`open_private`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from audit_analysis.exceptions import AuditDataError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The folder above the package: a clone's root (``data/demo``, ``outputs``,
``requirements.lock``) when the package runs from a clone. The one place it is defined."""

__all__ = [
    "PROJECT_ROOT",
    "FILE_MODE",
    "FOLDER_MODE",
    "MAX_NAME_CHARS",
    "inside",
    "open_private",
    "owner_only",
    "papermill_path",
    "private_folder",
    "safe_name",
    "write_file",
]


#: Longest name :func:`safe_name` gives (before a suffix such as ``.html``).
MAX_NAME_CHARS = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))}
_RESERVED |= {f"lpt{i}" for i in range(10)}
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def safe_name(text: object, limit: int = MAX_NAME_CHARS) -> str:
    """A file or folder name made from ``text`` (a ``case_ref``, an agency, a cycle):
    letters, digits, ``.``, ``_`` and ``-`` only, never starting with a dot, never empty,
    never a name Windows reserves, at most ``limit`` characters. Text that had to change
    gets a short hash of the original, so two different texts never share a name."""
    original = str(text)
    folded = unicodedata.normalize("NFKD", original).encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("_", folded.strip()).strip("._-")
    changed = name != original
    if not name or name.casefold().split(".")[0] in _RESERVED:
        name = "_" + name if name else "_"
        changed = True
    if changed or len(name) > limit:
        digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"{name[: max(limit - 9, 1)]}-{digest}"
    return name


def inside(folder: str | os.PathLike, *parts: str) -> Path:
    """``folder/part/...``, refused with :class:`AuditDataError` if, resolved (links
    followed), it is not strictly inside ``folder``."""
    base = Path(folder).resolve()
    target = base.joinpath(*parts).resolve()
    if target == base or base not in target.parents:
        raise AuditDataError(
            "refusing to write outside the output folder", file=str(base), value="/".join(parts)
        )
    return target


def _link_refused(path: str | os.PathLike) -> AuditDataError:
    return AuditDataError(
        "is a symbolic link: not written through, so that nothing outside the folder is "
        "changed; remove the link first",
        file=os.fspath(path),
    )


def write_file(path: str | os.PathLike, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` as :func:`open_private` does: owner-only, never through
    a link."""
    if isinstance(data, str):
        data = data.encode(encoding)
    with open_private(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def papermill_path(path: str | os.PathLike) -> str:
    """``path`` as papermill must be given it: papermill formats input and output paths
    with the notebook's parameters (``str.format``), so any brace is doubled."""
    return os.fspath(path).replace("{", "{{").replace("}", "}}")


@contextlib.contextmanager
def owner_only() -> Iterator[None]:
    """Within the block, files and folders this process (and any process it starts)
    creates are readable by their owner only (umask 077)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def private_folder(path: str | os.PathLike) -> Path:
    """Create ``path`` (and missing parents) owner-only; an existing folder is kept as
    it is."""
    path = Path(path)
    with owner_only():
        path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    return path


def open_private(path: str | os.PathLike, mode: str = "w", **kwargs):
    """Open ``path`` for writing, created (or truncated) with mode 0600; an existing file
    is made 0600 too, since what is written may name cases. A symbolic link at ``path``
    (dangling or not) is refused, never written through (:class:`AuditDataError`)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    if os.path.islink(path):  # O_NOFOLLOW where the system has none
        raise _link_refused(path)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _link_refused(path) from None
        raise
    try:
        with contextlib.suppress(OSError):  # a device such as /dev/null keeps its mode
            if os.path.isfile(path):
                os.fchmod(fd, FILE_MODE)
        return open(fd, mode, **kwargs)  # noqa: SIM115 - the caller closes it
    except BaseException:
        os.close(fd)
        raise
