"""The run's notebook kernels, forked from a worker that has already imported what they
import.

Every notebook of a run starts a kernel, and a fresh kernel spends more than a second
of CPU importing IPython, pandas, matplotlib and the suite before its first cell does
any work: five kernels in an annual run, one per case in the case packs. The run's
workers import all that once (:func:`preload`, when each worker starts: the
notebooks' own ``import`` lines and what their first statistic and chart import), and each kernel
is then a fork of its worker (:class:`ForkingProvisioner`), already past those imports.

Nothing else about a kernel changes. papermill and nbclient start, talk to and stop it
through jupyter_client exactly as before (the same connection file, IPC sockets,
signed messages); the kernel is ipykernel's own application, launched as
``python -m ipykernel_launcher -f <connection file>`` would launch it, with the
environment and working folder jupyter_client gave it, its standard input closed, its
own session and process group, and it ends with the worker that forked it. A kernel
spec that does not run this very interpreter's ``ipykernel_launcher`` (a user's kernel
on another Python) is started the usual way.

Forked from a worker, a kernel holds copies of the worker's open files and objects: it
never touches them (the worker's event loop is set aside, the garbage collector leaves
every object of the worker alone) and ends with ``os._exit``, so nothing of the worker is
flushed or closed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning import LocalProvisioner

__all__ = [
    "FORK_ENV",
    "ForkingProvisioner",
    "ForkedKernel",
    "KERNEL_DEBUGGER",
    "KERNEL_MODULES",
    "ReadyClient",
    "can_fork",
    "notebook_imports",
    "preload",
]

FORK_ENV = "AUDIT_ANALYSIS_FORK_KERNELS"
"""Set to ``0`` to start every kernel as a new process, as jupyter_client does."""

KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "matplotlib.pyplot",
    # imported by the first statistic or chart a notebook computes or saves, not at the
    # top of a module: every kernel of a run would import them again
    "scipy.special",
    "krippendorff",
)
"""What a run's kernels import beyond their notebooks' own ``import`` lines
(:func:`notebook_imports`), imported once by each worker (:func:`preload`)."""

KERNEL_DEBUGGER = "ipykernel.debugger"
"""What an IPython kernel imports as it starts, for its debugger: debugpy and pydevd,
some 120 modules, and (through debugpy's log) ``platform.platform()``, which runs
``uname -p`` in a new process. Imported by :func:`preload` with what it says on stderr
set aside: pydevd warns there, at import, that it may miss breakpoints in frozen
modules, which is for someone debugging a kernel, not for the run's console."""


def notebook_imports(path: str | os.PathLike) -> list[str]:
    """Every ``import`` statement of a notebook's code cells, in order, once each (a
    cell that is not plain Python, such as one with a magic, is passed over)."""
    import ast
    import json

    with open(path, encoding="utf-8") as fh:
        cells = json.load(fh).get("cells", [])
    lines = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        try:
            tree = ast.parse(source if isinstance(source, str) else "".join(source))
        except SyntaxError:
            continue
        lines += [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return list(dict.fromkeys(lines))


def can_fork() -> bool:
    """Whether kernels are forked here: on Linux (elsewhere a process may not be safe to
    fork once some system libraries are loaded), unless turned off with
    ``AUDIT_ANALYSIS_FORK_KERNELS=0``."""
    return sys.platform.startswith("linux") and os.environ.get(FORK_ENV, "1").strip() != "0"


def preload(notebooks: Sequence[str | os.PathLike] = ()) -> None:
    """Import what the kernels of ``notebooks`` import, in this worker, once: each
    notebook's own ``import`` lines, then :data:`KERNEL_MODULES` (matplotlib on the Agg
    backend, as the run's kernels use it) and :data:`KERNEL_DEBUGGER`. Nothing else is
    run: importing these modules sets no state a notebook could see. An import that fails
    here is left to the kernel, which imports it again and says what failed."""
    if not can_fork():
        return
    import importlib
    import io
    import tempfile

    statements = dict.fromkeys(line for nb in notebooks for line in notebook_imports(nb))

    os.environ.setdefault("MPLBACKEND", "Agg")
    # matplotlib reads a matplotlibrc in the working folder at import: a kernel started
    # in the run's own folder finds none, and neither does this import
    with tempfile.TemporaryDirectory() as empty, contextlib.chdir(empty):
        for statement in statements:
            with contextlib.suppress(Exception):
                exec(statement, {})  # noqa: S102 - a notebook's own import line
        for name in KERNEL_MODULES:
            importlib.import_module(name)
        with contextlib.suppress(Exception), contextlib.redirect_stderr(io.StringIO()):
            importlib.import_module(KERNEL_DEBUGGER)
        from PIL import Image

        Image.init()  # the image formats PIL registers at a chart's first PNG


def _is_this_python(command: str) -> bool:
    try:
        return Path(command).resolve() == Path(sys.executable).resolve()
    except OSError:
        return False


KERNEL_NAME = "audit-kernel"
"""A forked kernel's process name (``ps -o comm``, ``/proc/<pid>/comm``): its command
line is its worker's."""


def _name_process(name: str) -> None:
    """This process's name as ``ps`` and ``top`` show it (Linux's ``PR_SET_NAME``)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(15, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - only a name
        pass


class ForkedKernel:
    """What jupyter_client asks of a kernel's :class:`subprocess.Popen`, for a kernel
    forked from this process: its ``pid``, ``poll``, ``wait``, ``send_signal``,
    ``terminate``, ``kill`` and ``returncode``; no pipes."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: it has ended
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                import subprocess

                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def fork_kernel(argv: list[str], env: dict[str, str], cwd: str | None) -> ForkedKernel:
    """Fork this process into an IPython kernel with the command-line arguments ``argv``
    (those after ``python -m ipykernel_launcher``: ``-f <connection file>`` and any
    settings); returns once the kernel has its own session (so signals to its process
    group reach it)."""
    parent = os.getpid()
    ready, told = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(told)
        try:
            os.read(ready, 1)  # the child has its own session, or has already ended
        finally:
            os.close(ready)
        return ForkedKernel(pid)
    code = 1
    try:
        gc.freeze()  # the worker's objects are the worker's: never collected here
        os.close(ready)
        os.setsid()
        os.write(told, b"1")
        os.close(told)
        from audit_analysis.io.workbooks import die_with_parent

        die_with_parent(parent)
        _name_process(KERNEL_NAME)
        asyncio.events._set_running_loop(None)  # the worker's loop is not this kernel's
        asyncio.set_event_loop_policy(None)
        if cwd:
            os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        sys.argv = [sys.executable, *argv]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - said on stderr (the run's log), then exit
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class ForkingProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, forking this interpreter's own IPython
    kernel (:func:`fork_kernel`) where it would have started it as a new process."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        forkable = (
            can_fork() and cmd[1:3] == ["-m", "ipykernel_launcher"] and _is_this_python(cmd[0])
        )
        if not forkable:
            return await super().launch_kernel(cmd, **kwargs)
        env = kwargs.get("env")
        env = dict(os.environ if env is None else env)
        env["JPY_PARENT_PID"] = str(os.getpid())
        cwd = kwargs.get("cwd")
        # ipykernel read JPY_PARENT_PID when this worker imported it, before it was set
        argv = [*cmd[3:], f"--IPKernelApp.parent_handle={os.getpid()}"]
        self.process = fork_kernel(argv, env, str(cwd) if cwd else None)
        self.pid = self.process.pid
        self.pgid = self.process.pid  # its own session: fork_kernel waited for it
        self.cwd = cwd or Path.cwd()
        return self.connection_info


IOPUB_WAIT = 0.1
"""How long :class:`ReadyClient` waits on IOPub for the idle status of its request
before it asks again: the status comes within milliseconds of the reply once IOPub is
connected, and a quarter of a kernel's first requests find it not yet connected."""


class ReadyClient(AsyncKernelClient):
    """jupyter_client's asynchronous client, whose :meth:`wait_for_ready` knows when
    the kernel is ready rather than waiting for its messages to pause.

    jupyter_client's own waits, after the kernel's ``kernel_info`` reply, until no
    message has come on IOPub for 0.2 s: a fifth of a second asleep for every kernel of
    a run. The kernel publishes its ``idle`` status for a request after everything else
    the request made it publish, and IOPub keeps a kernel's messages in order: so once
    the ``idle`` for this client's ``kernel_info`` request has come, IOPub is connected
    and has nothing more of the start to give. If it does not come within
    :data:`IOPUB_WAIT` (IOPub was not connected yet when it was published), the request
    is sent again, as jupyter_client does when it finds IOPub silent; replies to earlier
    requests are passed over."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            request = self.kernel_info()
            reply = await _answer(
                self.shell_channel,
                request,
                "kernel_info_reply",
                min(1.0, deadline - time.monotonic()),
            )
            if reply is not None and await _answer(
                self.iopub_channel, request, "idle", min(IOPUB_WAIT, deadline - time.monotonic())
            ):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    wait_for_ready = _async_wait_for_ready


async def _answer(channel, request: str, kind: str, seconds: float) -> dict | None:
    """The kernel's message of ``kind`` for the request ``request`` on ``channel``: a
    message type (``kernel_info_reply``), or ``idle``, its status once done with the
    request. Other messages before it are passed over (a kernel slow to start answers
    each of a client's earlier requests); None if it has not come within ``seconds``."""
    from queue import Empty

    end = time.monotonic() + max(seconds, 0.0)
    while True:
        try:
            msg = await channel.get_msg(timeout=max(end - time.monotonic(), 0))
        except Empty:
            return None
        if msg["parent_header"].get("msg_id") != request:
            continue
        if msg["msg_type"] == kind or (
            kind == "idle"
            and msg["msg_type"] == "status"
            and msg["content"].get("execution_state") == "idle"
        ):
            return msg
