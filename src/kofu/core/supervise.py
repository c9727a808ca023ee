"""Keeping a set of kofu services running: a dead one is started again on its own port.

``kofu up`` (and the chaos bench) start each service as a child with
``--port 0`` and pin the port the service reports, so a restarted service
answers at the URL the others were given.  A service that dies is logged and
started again after a backoff (0.5 s, doubling, at most 30 s); one that dies
more than ``max_restarts`` times within ``window`` seconds is given up on and
the whole set stops, as a crash loop is not something waiting will mend.
A restarted service's KOFU_NOW (the test clock) is moved on by the time
since the start, so its clock does not go back.
Every child is tied to the supervisor (``die_with_parent``), so a supervisor
killed with SIGKILL leaves no service behind holding a port.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kofu.core.clock import parse_instant
from kofu.core.processes import launch, ready, stop_all

__all__ = ["GaveUp", "Supervisor"]


class GaveUp(SystemExit):
    """A service kept dying: the supervisor stopped everything."""


@dataclass
class _Service:
    name: str
    args: list[str]
    proc: subprocess.Popen[str]
    ready: dict[str, Any] = field(default_factory=dict)
    deaths: list[float] = field(default_factory=list)  # monotonic times within the window
    due: float | None = None  # when to start it again, once dead
    starting: float | None = None  # since when a restart waits for its ready line


def _port_of(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[1]


def _with(args: list[str], flag: str, value: str) -> list[str]:
    if flag in args:
        at = args.index(flag) + 1
        return [*args[:at], value, *args[at + 1 :]]
    return [*args, flag, value]


def _pinned(args: list[str], ready: dict[str, Any]) -> list[str]:
    """``args`` with every port the service reports pinned, so a restart answers at the same URLs.

    ``url`` is its main listener (``--port``); jpki's mutual-TLS listener is
    ``private`` (``--private-port``), which the center and the cities call.
    """
    pinned = _with(args, "--port", _port_of(str(ready["url"])))
    if "private" in ready:
        pinned = _with(pinned, "--private-port", _port_of(str(ready["private"])))
    return pinned


def _exit_words(code: int | None) -> str:
    return f"killed by signal {-code}" if code is not None and code < 0 else f"exited ({code})"


class Supervisor:
    """Services by name: started, watched, restarted with backoff, stopped by PID."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        max_restarts: int = 5,
        window: float = 300,
        start_timeout: float = 300,
        say: Callable[[str], None] | None = None,
        quiet: bool = False,
    ) -> None:
        self.env, self.max_restarts, self.window = env, max_restarts, window
        self.start_timeout, self.quiet = start_timeout, quiet
        self.say = say or (lambda text: print(text, file=sys.stderr, flush=True))
        self.services: dict[str, _Service] = {}
        self.procs: list[subprocess.Popen[str]] = []  # every child ever started, for stop_all
        self.restarted: list[str] = []  # names, in the order they came back
        self.began = time.monotonic()  # KOFU_NOW's instant, for a clock that runs from it

    def launch(self, name: str, args: list[str]) -> None:
        """Start ``kofu ARGS`` as ``name``; ``ready(name)`` waits for its ready line."""
        proc = launch(args, self.env, self.procs, self.quiet, tied=True)
        self.services[name] = _Service(name, args, proc)

    def ready(self, name: str) -> dict[str, Any]:
        """The ready line of ``name``; its port is kept for every restart."""
        service = self.services[name]
        service.ready = _ready_within(service.proc, self.start_timeout)
        service.args = _pinned(service.args, service.ready)
        return service.ready

    def start(self, many: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
        """Services that need nothing of each other, started side by side; their ready lines."""
        for name, args in many:
            self.launch(name, args)
        return [self.ready(name) for name, _ in many]

    def pid(self, name: str) -> int:
        return int(self.services[name].proc.pid)

    def check(self) -> None:
        """One round, never blocking: note the dead, start again those whose backoff has
        passed, take the ready line of those starting."""
        now = time.monotonic()
        for service in self.services.values():
            if service.due is not None:
                if now >= service.due:
                    self._restart(service, now)
            elif service.proc.poll() is not None:
                service.starting = None
                self._died(service, now)
            elif service.starting is not None:
                self._take_ready(service, now)

    def is_up(self, name: str) -> bool:
        """Running and, when restarted, ready again."""
        service = self.services[name]
        return service.due is None and service.starting is None and service.proc.poll() is None

    def watch(self, until: Callable[[], bool] = lambda: False, every: float = 0.25) -> None:
        """Check every ``every`` seconds until ``until()``; raises GaveUp on a crash loop."""
        while not until():
            self.check()
            time.sleep(every)

    def stop(self) -> None:
        """SIGTERM every child, SIGKILL any still running after the grace time."""
        stop_all(self.procs)

    def _died(self, service: _Service, now: float) -> None:
        service.deaths = [t for t in service.deaths if now - t < self.window] + [now]
        count = len(service.deaths)
        words = _exit_words(service.proc.returncode)
        if count > self.max_restarts:
            self.say(f"{service.name} {words}; died {count} times in {self.window:.0f} s")
            raise GaveUp(f"{service.name} keeps dying; stopping every service")
        delay = min(30.0, 0.5 * 2 ** (count - 1))
        self.say(f"{service.name} {words}; restart {count} of {self.max_restarts} in {delay:.1f} s")
        service.due = now + delay

    def _restart(self, service: _Service, now: float) -> None:
        service.due, service.starting = None, now
        service.proc = launch(service.args, self._env_now(now), self.procs, self.quiet, tied=True)

    def _env_now(self, now: float) -> dict[str, str]:
        """The environment with KOFU_NOW moved on by the time since the start.

        A service started with KOFU_NOW runs its clock from that instant; a
        restarted one must not start again from it, or its clock would go back
        (a print rendered a minute ago would seem to come from the future and
        never time out).
        """
        if not self.env.get("KOFU_NOW"):
            return self.env
        moved = parse_instant(self.env["KOFU_NOW"]) + timedelta(seconds=now - self.began)
        return self.env | {"KOFU_NOW": moved.isoformat()}

    def _take_ready(self, service: _Service, now: float) -> None:
        assert service.proc.stdout is not None and service.starting is not None
        waiting, _, _ = select.select([service.proc.stdout], [], [], 0)
        if not waiting and now - service.starting < self.start_timeout:
            return
        try:
            service.ready = _ready_within(service.proc, 0)
        except SystemExit as exc:  # no ready line (its port still held, say): a death too
            self.say(f"{service.name} did not start again: {exc}")
            service.proc.kill()  # noticed as dead in the next round
            return
        service.starting = None
        self.restarted.append(service.name)
        self.say(f"{service.name} is back at {service.ready['url']} (pid {service.proc.pid})")


def _ready_within(proc: subprocess.Popen[str], seconds: float) -> dict[str, Any]:
    """The child's ready line, or SystemExit when it gives none within ``seconds``."""
    assert proc.stdout is not None
    waiting, _, _ = select.select([proc.stdout], [], [], seconds)
    if not waiting:
        raise SystemExit(f"kofu {' '.join(map(str, proc.args[3:]))} gave no ready line")  # type: ignore[index]
    return ready(proc)
