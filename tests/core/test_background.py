"""``core.http.every``: the background turn a city (report to juki) and the center (sweep) run."""

from __future__ import annotations

import asyncio
import time

from kofu.core.http import every, party_app


def _turns_within(seconds: float, at_start: bool, fail_first: bool = False) -> list[float]:
    turns: list[float] = []

    def job() -> None:
        turns.append(time.monotonic())
        if fail_first and len(turns) == 1:
            raise RuntimeError("juki is down")

    app = party_app("probe", None, lifespan=every(0.5, job, at_start=at_start))

    async def serve_for_a_while() -> int:
        async with app.router.lifespan_context(app):  # what uvicorn runs at start and stop
            await asyncio.sleep(seconds)
        stopped = len(turns)
        await asyncio.sleep(0.5)
        return stopped

    started = time.monotonic()
    stopped = asyncio.run(serve_for_a_while())
    assert len(turns) == stopped, "the job went on after the app stopped"
    return [t - started for t in turns]


def test_the_job_runs_at_start_and_again_every_turn() -> None:
    turns = _turns_within(2.2, at_start=True)  # turns at about 0, 0.5, 1, 1.5, 2 s
    assert turns[0] < 0.4 and 3 <= len(turns) <= 6


def test_a_sweep_waits_one_turn_first() -> None:
    turns = _turns_within(2.2, at_start=False)  # about 0.5, 1, 1.5, 2 s
    assert turns[0] >= 0.5 and 2 <= len(turns) <= 5


def test_a_failing_turn_is_followed_by_the_next() -> None:
    turns = _turns_within(2.2, at_start=True, fail_first=True)
    assert len(turns) >= 3
