"""Services kept running: a killed one comes back on its port, a killed parent takes its children
with it, and a crash loop is given up on.  Real processes, stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

import pytest

from kofu.core.supervise import GaveUp, Supervisor
from services import KOFU

NOW = "2026-11-24T12:00:00+09:00"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    return env | {"KOFU_HOME": str(home), "KOFU_NOW": NOW}


def _port_open(url: str) -> bool:
    host, port = url.split("://", 1)[1].split("/", 1)[0].split(":")
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


def _alive(pid: int) -> bool:
    """Running and not a zombie waiting for its parent to read its status."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _until(done: object, seconds: float = 60) -> bool:
    """Poll ``done()`` until it holds or ``seconds`` pass (a bound, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return bool(done())  # type: ignore[operator]


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _back(keeper: Supervisor, name: str, times: int = 1) -> bool:
    """One supervisor round; whether ``name`` has been started again ``times`` times."""
    keeper.check()
    return keeper.restarted.count(name) >= times


@contextmanager
def _supervisor(
    home: Path, max_restarts: int = 5, said: list[str] | None = None
) -> Iterator[Supervisor]:
    said = [] if said is None else said
    keeper = Supervisor(_env(home), max_restarts=max_restarts, say=said.append, quiet=True)
    try:
        yield keeper
    finally:
        keeper.stop()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process table in /proc")
def test_workers_of_a_killed_service_die_with_it_and_free_the_port(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(KOFU), "serve", "jpki", "--workers", "2", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(tmp_path),
    )
    workers: list[int] = []
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["url"]
        workers = _children(proc.pid)
        assert len(workers) == 2 and _port_open(url)
        proc.kill()  # SIGKILL: the parent cannot stop its workers itself
        proc.wait()
        assert _until(lambda: not any(map(_alive, workers)))
        assert _until(lambda: not _port_open(url))
    finally:
        _kill([proc.pid, *workers])
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.slow
def test_a_killed_service_comes_back_on_its_port_and_the_others_keep_serving(
    tmp_path: Path,
) -> None:
    with _supervisor(tmp_path) as keeper:
        jpki, juki = keeper.start([("jpki", ["serve", "jpki"]), ("juki", ["serve", "juki"])])
        first, other = keeper.pid("jpki"), keeper.pid("juki")
        os.kill(first, signal.SIGKILL)
        assert _until(lambda: _back(keeper, "jpki"), 120)
        assert keeper.pid("jpki") != first
        assert keeper.services["jpki"].ready["url"] == jpki["url"]  # the URL the others hold
        assert _port_open(jpki["url"])
        assert keeper.pid("juki") == other and _alive(other) and _port_open(juki["url"])
        assert _now_of(keeper.pid("jpki")) > datetime.fromisoformat(NOW)  # its clock goes on


def _now_of(pid: int) -> datetime:
    """The KOFU_NOW a process was started with."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    found = [e.split(b"=", 1)[1] for e in environ if e.startswith(b"KOFU_NOW=")]
    return datetime.fromisoformat(found[0].decode())


@pytest.mark.slow
def test_a_restart_that_finds_its_port_taken_is_tried_again_until_the_port_is_free(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    with _supervisor(tmp_path, said=said) as keeper:
        (jpki,) = keeper.start([("jpki", ["serve", "jpki"])])
        port = int(jpki["url"].rsplit(":", 1)[1])
        os.kill(keeper.pid("jpki"), signal.SIGKILL)
        with socket.socket() as squatter:
            assert _until(lambda: not _port_open(jpki["url"]))
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            tried = lambda: _back(keeper, "jpki") or any("restart 2 of 5" in t for t in said)  # noqa: E731
            assert _until(tried, 120), said  # it failed to start again, which is a death too
            assert keeper.restarted == []  # it could not come back while the port was taken
        assert _until(lambda: _back(keeper, "jpki"), 120)  # the port free again: it is back
        assert keeper.services["jpki"].ready["url"] == jpki["url"]


@pytest.mark.slow
def test_a_service_that_keeps_dying_is_given_up_on(tmp_path: Path) -> None:
    with _supervisor(tmp_path, max_restarts=1) as keeper:
        (jpki,) = keeper.start([("jpki", ["serve", "jpki"])])
        os.kill(keeper.pid("jpki"), signal.SIGKILL)
        assert _until(lambda: _back(keeper, "jpki"), 120)
        os.kill(keeper.pid("jpki"), signal.SIGKILL)
        with pytest.raises(GaveUp, match="jpki keeps dying"):
            _until(lambda: _back(keeper, "jpki", 2), 60)
    assert not _port_open(jpki["url"])


def test_up_refuses_a_port_for_a_service_it_does_not_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(KOFU), "up", "--port", "ocsp=8801"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
    )
    assert done.returncode != 0
    assert "ocsp=8801" in done.stderr and "jpki" in done.stderr
    assert not (tmp_path / "samples").exists()  # refused before anything was made
