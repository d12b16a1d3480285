"""The run's kernels, forked from their worker (audit_analysis.pipeline.kernels): each is
an IPython kernel as jupyter_client would have started it (its environment, working
folder, closed standard input, own process group, interrupt and shutdown), and it ends
with the process that forked it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from audit_analysis.pipeline.kernels import KERNEL_NAME, ForkedKernel, ReadyClient, can_fork

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")


def _run(code: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


KERNEL = """
import asyncio, json, os, signal, sys, time
from audit_analysis.pipeline.runner import _kernel_manager

async def main():
    km = _kernel_manager()(kernel_name="python3")
    os.environ["AUDIT_TEST_SEEN"] = "from the worker"
    await km.start_kernel(cwd={cwd!r})
    kc = km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=60)
    out = {{}}

    async def run(code, timeout=60, msg_id=None):
        msg_id = msg_id or kc.execute(code)
        text = []
        while True:
            msg = await kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text.append(msg["content"]["text"])
            if msg["msg_type"] == "error":
                text.append(msg["content"]["ename"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(text)

    out["process"] = type(km.provisioner.process).__name__
    out["client"] = type(kc).__name__
    out["facts"] = await run(
        "import os, sys, json\\n"
        "print(json.dumps({{'pid': os.getpid(), 'ppid': os.getppid(), 'cwd': os.getcwd(),"
        " 'env': os.environ.get('AUDIT_TEST_SEEN'), 'pgid': os.getpgid(0),"
        " 'comm': open('/proc/self/comm').read().strip()}}))"
    )
    out["worker"] = os.getpid()
    # an interrupt reaches a long cell, and the kernel carries on
    msg_id = kc.execute("import time\\ntime.sleep(60)")
    time.sleep(1.0)
    await km.interrupt_kernel()
    out["interrupted"] = await run(None, msg_id=msg_id)
    out["after"] = await run("print('still here')")
    await km.shutdown_kernel(now=True)
    out["alive_after_shutdown"] = await km.is_alive()
    kc.stop_channels()
    print(json.dumps(out))

asyncio.run(main())
"""


@pytest.mark.skipif(not can_fork(), reason="kernels are not forked here")
def test_a_forked_kernel_is_an_ipython_kernel_as_jupyter_client_starts_it(tmp_path):
    import json

    folder = tmp_path / "kernel cwd"
    folder.mkdir()
    done = _run(KERNEL.format(cwd=str(folder)), tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["process"] == ForkedKernel.__name__
    assert out["client"] == ReadyClient.__name__  # and it was ready by its idle status
    facts = json.loads(out["facts"])
    assert facts["ppid"] == out["worker"]  # forked from the process that asked for it
    assert facts["comm"] == KERNEL_NAME
    assert facts["cwd"] == str(folder)  # the working folder jupyter_client gave it
    assert facts["env"] == "from the worker"  # the environment it was given
    assert facts["pgid"] == facts["pid"]  # its own process group, for interrupts
    assert out["interrupted"] == "KeyboardInterrupt"  # the long cell stopped
    assert out["after"] == "still here\n"  # and the kernel carried on
    assert out["alive_after_shutdown"] is False


def test_turned_off_a_kernel_is_a_new_ipykernel_process(tmp_path):
    done = _run(
        """
        import asyncio
        from audit_analysis.pipeline.runner import _kernel_manager

        async def main():
            km = _kernel_manager()(kernel_name="python3")
            await km.start_kernel()
            pid = km.provisioner.process.pid
            print(type(km.provisioner.process).__name__)
            print(open(f"/proc/{pid}/cmdline").read().replace("\\0", " "))
            await km.shutdown_kernel(now=True)

        asyncio.run(main())
        """,
        tmp_path,
        env={"AUDIT_ANALYSIS_FORK_KERNELS": "0"},
    )
    assert done.returncode == 0, done.stderr
    kind, command = done.stdout.splitlines()[:2]
    assert kind == "Popen" and "ipykernel_launcher" in command


def _running(pid: int) -> bool:
    """Alive: not gone, and not a zombie waiting for whoever adopted it to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not can_fork(), reason="kernels are not forked here")
def test_a_forked_kernel_ends_with_the_process_that_forked_it(tmp_path):
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import asyncio, sys, time
                from audit_analysis.pipeline.runner import _kernel_manager

                async def main():
                    km = _kernel_manager()(kernel_name="python3")
                    await km.start_kernel()
                    print(km.provisioner.process.pid, flush=True)
                    time.sleep(600)

                asyncio.run(main())
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        kernel = int(worker.stdout.readline())
        assert Path(f"/proc/{kernel}").exists()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + 30
        while _running(kernel) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(kernel)
    finally:
        if worker.poll() is None:
            worker.kill()


@pytest.mark.skipif(not can_fork(), reason="kernels are not forked here")
def test_a_worker_imports_what_its_notebooks_import_and_nothing_fails_on_a_bad_line(tmp_path):
    import json

    from audit_analysis.pipeline.runner import NOTEBOOK_DIR

    bad = tmp_path / "bad.ipynb"
    bad.write_text(
        json.dumps(
            {
                "cells": [
                    {"cell_type": "code", "source": "%matplotlib inline"},
                    {"cell_type": "code", "source": ["import no_such_module_here\n", "x = 1"]},
                    {"cell_type": "markdown", "source": "import json"},
                ]
            }
        )
    )
    executive = NOTEBOOK_DIR / "05-executive-summary.ipynb"
    done = _run(
        f"""
        import sys
        from audit_analysis.pipeline.kernels import notebook_imports, preload
        print(notebook_imports({str(bad)!r}))
        preload([{str(executive)!r}, {str(bad)!r}])
        print("audit_analysis.sections.executive" in sys.modules)
        print("debugpy.server.api" in sys.modules)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    imports, loaded, debugger = done.stdout.splitlines()[:3]
    assert imports == "['import no_such_module_here']"  # magics and markdown passed over
    assert loaded == "True"  # the executive summary's own import line, done ahead
    assert debugger == "True"  # what a kernel imports for its debugger as it starts
    assert "Debugger warning" not in done.stderr  # pydevd's warning kept off the console


class _Channel:
    """A client's channel, as far as ReadyClient uses it: messages to give, and what was
    sent (shell); ``get_msg`` gives the next message or raises Empty at once."""

    def __init__(self, messages=()):
        self.messages = list(messages)
        self.sent: list[dict] = []

    def send(self, msg: dict) -> None:
        self.sent.append(msg)

    async def get_msg(self, timeout=None):
        from queue import Empty

        if not self.messages:
            raise Empty
        item = self.messages.pop(0)
        return item(self) if callable(item) else item


def _status(state: str, parent: str) -> dict:
    return {
        "msg_type": "status",
        "content": {"execution_state": state},
        "parent_header": {"msg_id": parent},
    }


def test_a_client_is_ready_at_its_request_s_idle_status_and_asks_again_until_iopub_has_it():
    """The first kernel_info reply comes while IOPub is not yet connected (its idle
    status never arrives): the client asks again, and is ready at the idle status of
    that second request, leaving whatever IOPub brings after it unread."""
    import asyncio

    client = ReadyClient()

    def reply(shell: _Channel) -> dict:  # answers the request sent last
        return {
            "msg_type": "kernel_info_reply",
            "parent_header": {"msg_id": shell.sent[-1]["header"]["msg_id"]},
            "content": {"protocol_version": "5.3", "status": "ok"},
        }

    shell = _Channel([reply, reply])
    later = {"msg_type": "stream", "content": {}, "parent_header": {}}
    iopub = _Channel()
    client._shell_channel, client._iopub_channel = shell, iopub

    async def alive() -> bool:
        return True

    client._async_is_alive = alive

    def second_round(_: _Channel) -> dict:  # IOPub connected: the second request's messages
        second = shell.sent[1]["header"]["msg_id"]
        iopub.messages[:0] = [_status("idle", second), later]
        return _status("busy", second)

    # before the second request, IOPub has only an idle status of the first one's
    # kernel (parented elsewhere): it is not this client's ready signal
    iopub.messages = []
    original_get = iopub.get_msg
    rounds = {"n": 0}

    async def get_msg(timeout=None):
        if rounds["n"] == 0 and len(shell.sent) == 2:
            rounds["n"] = 1
            iopub.messages[:0] = [_status("idle", "another request"), second_round]
        return await original_get(timeout)

    iopub.get_msg = get_msg
    asyncio.run(client.wait_for_ready(timeout=30))
    assert [m["msg_type"] for m in shell.sent] == ["kernel_info_request"] * 2
    assert iopub.messages == [later]  # read up to its idle status, no further


def test_a_client_passes_over_the_late_replies_of_a_kernel_slow_to_start():
    """No reply within the first wait: the client asks again, and the kernel, up at
    last, answers both requests. The first reply is passed over, not taken for the
    second's (which would leave the client a reply behind at every turn)."""
    import asyncio

    client = ReadyClient()

    def reply_to(n: int):
        def make(shell: _Channel) -> dict:
            return {
                "msg_type": "kernel_info_reply",
                "parent_header": {"msg_id": shell.sent[n]["header"]["msg_id"]},
                "content": {"protocol_version": "5.3", "status": "ok"},
            }

        return make

    shell, iopub = _Channel(), _Channel()
    client._shell_channel, client._iopub_channel = shell, iopub

    async def alive() -> bool:
        return True

    client._async_is_alive = alive
    first_get = shell.get_msg

    async def get_msg(timeout=None):
        if len(shell.sent) == 2 and not shell.messages and not iopub.messages:
            # the kernel is up: both requests answered, IOPub connected for the second
            shell.messages[:] = [reply_to(0), reply_to(1)]
            iopub.messages[:] = [_status("idle", shell.sent[1]["header"]["msg_id"])]
        return await first_get(timeout)

    shell.get_msg = get_msg
    asyncio.run(client.wait_for_ready(timeout=30))
    assert len(shell.sent) == 2 and shell.messages == [] and iopub.messages == []
