"""Starting kofu services as child processes and stopping them by PID, whatever their state."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

__all__ = ["launch", "ready", "start_service", "start_services", "stop", "stop_all"]


def launch(
    args: list[str], env: dict[str, str], procs: list[subprocess.Popen[str]], quiet: bool = False
) -> subprocess.Popen[str]:
    """``kofu ARGS`` as a child, kept in ``procs``; read its ready line later with ``ready``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kofu.cli.main import app; app()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else sys.stderr,
        text=True,
        env=env,
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
    many: list[list[str]], env: dict[str, str], procs: list[subprocess.Popen[str]]
) -> list[dict[str, Any]]:
    """Services that need nothing of each other, started side by side (start-up is mostly
    imports and fonts, seconds each); their ready lines in the order given."""
    return [ready(proc) for proc in [launch(args, env, procs) for args in many]]


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
