"""Starting kofu services as child processes and stopping them by PID, whatever their state."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

__all__ = ["start_service", "stop", "stop_all"]


def start_service(
    args: list[str], env: dict[str, str], procs: list[subprocess.Popen[str]], quiet: bool = False
) -> dict[str, Any]:
    """``kofu ARGS`` as a child; returns the JSON line it prints when ready."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kofu.cli.main import app; app()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else sys.stderr,
        text=True,
        env=env,
    )
    procs.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"kofu {' '.join(args)} did not start")
    ready: dict[str, Any] = json.loads(line)
    return ready


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
