"""Starting kofu services as child processes and stopping them by PID, whatever their state."""

from __future__ import annotations

import ctypes
import functools
import json
import os
import signal
import subprocess
import sys
from typing import Any

__all__ = [
    "die_with_parent",
    "launch",
    "ready",
    "start_service",
    "start_services",
    "stop",
    "stop_all",
]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
# libc's prctl, looked up at import, before any fork (a forked child should not load libraries)
_PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send ``sig`` to this process when ``parent`` dies (PR_SET_PDEATHSIG, prctl(2)).

    Called in a child right after the fork, so a supervisor or a pre-forked
    service killed with SIGKILL leaves no child holding its port.  The kernel
    ties the signal to the thread that forked: fork from a thread that lives
    as long as the child should.  Elsewhere than Linux it does nothing.
    """
    if _PRCTL is None:
        return
    _PRCTL(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request was made
        os.kill(os.getpid(), sig)


def launch(
    args: list[str],
    env: dict[str, str],
    procs: list[subprocess.Popen[str]],
    quiet: bool = False,
    tied: bool = False,
) -> subprocess.Popen[str]:
    """``kofu ARGS`` as a child, kept in ``procs``; read its ready line later with ``ready``.

    ``tied``: the child gets SIGTERM when this thread's process dies (``die_with_parent``).
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kofu.cli.main import app; app()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else sys.stderr,
        text=True,
        env=env,
        preexec_fn=functools.partial(die_with_parent, os.getpid()) if tied else None,
    )
    procs.append(proc)
    return proc


def ready(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """The JSON line a launched service prints once it serves."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"kofu {' '.join(map(str, proc.args[3:]))} did not start")  # type: ignore[index]
    answer: dict[str, Any] = json.loads(line)
    return answer


def start_service(
    args: list[str], env: dict[str, str], procs: list[subprocess.Popen[str]], quiet: bool = False
) -> dict[str, Any]:
    """``kofu ARGS`` as a child; returns the JSON line it prints when ready."""
    return ready(launch(args, env, procs, quiet))


def start_services(
    many: list[list[str]],
    env: dict[str, str],
    procs: list[subprocess.Popen[str]],
    quiet: bool = False,
) -> list[dict[str, Any]]:
    """Services that need nothing of each other, started side by side (start-up is mostly
    imports and fonts, seconds each); their ready lines in the order given."""
    return [ready(proc) for proc in [launch(args, env, procs, quiet) for args in many]]


def stop_all(procs: list[subprocess.Popen[str]], grace: float = 10) -> None:
    """SIGTERM to every child, then SIGKILL to any still running after ``grace`` seconds."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        _reap(proc, grace)


def stop(proc: subprocess.Popen[str], grace: float = 10) -> None:
    """Stop one child the same way: SIGTERM, SIGKILL after ``grace``, its pipe closed."""
    if proc.poll() is None:
        proc.terminate()
    _reap(proc, grace)


def _reap(proc: subprocess.Popen[str], grace: float) -> None:
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
