"""The office's staff accounts, sessions and audit trail, on SQLite and PostgreSQL.

Attacks as tests: a row of the trail altered, one deleted in the middle, the
newest deleted (the chain alone cannot see that; the anchor outside the
database can), a password guessed until the account locks, a session used
after it should have ended.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from kofu.city.adapters.office import OfficeUnitOfWork
from kofu.city.services.office import (
    Auditor,
    SessionPolicy,
    add_staff,
    find_session,
    list_audit,
    sign_in,
    verify_audit,
)
from kofu.core.clock import JST
from kofu.core.errors import InvalidInput, Refused
from services import KOFU

CODE = "112186"
PASSWORD = "correct horse battery"


@dataclass
class MovingClock:
    """A clock the test moves by hand."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.instant.date()


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(datetime(2026, 11, 24, 9, 0, tzinfo=JST))


def _uow(engine: Engine, clock: MovingClock) -> OfficeUnitOfWork:
    return OfficeUnitOfWork(engine, CODE, today=clock.today())


def _auditor(engine: Engine, clock: MovingClock, home: Path) -> Auditor:
    return Auditor(lambda: _uow(engine, clock), clock, home / "audit" / f"city-{CODE}.head.json")


def _drop_guard(engine: Engine) -> None:
    """What someone holding the database does first: remove the append-only trigger."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER office_audit_no_update"))
            conn.execute(text("DROP TRIGGER office_audit_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER office_audit_append_only ON office_audit"))


def test_the_trail_is_append_only_and_tampering_is_found(
    city_engine: Engine, clock: MovingClock, tmp_path: Path
) -> None:
    auditor = _auditor(city_engine, clock, tmp_path)
    for n in range(5):
        auditor.record("clerk1", "clerk", "reveal_number", f"1000000000{n}", "identity_check", {})
    assert verify_audit(uow=_uow(city_engine, clock), anchor=auditor.anchor)["ok"]
    rows = list_audit(uow=_uow(city_engine, clock), since=None)
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[1]["prev_hash"] == rows[0]["hash"]

    with pytest.raises(DBAPIError), city_engine.begin() as conn:  # the database refuses
        conn.execute(text("UPDATE office_audit SET staff = 'nobody' WHERE seq = 2"))
    with pytest.raises(DBAPIError), city_engine.begin() as conn:
        conn.execute(text("DELETE FROM office_audit WHERE seq = 3"))

    _drop_guard(city_engine)
    with city_engine.begin() as conn:
        conn.execute(text("UPDATE office_audit SET resident = '99999999999' WHERE seq = 2"))
    found = verify_audit(uow=_uow(city_engine, clock), anchor=auditor.anchor)
    assert not found["ok"] and {"seq": 2, "problem": "altered"} in found["breaks"]

    with city_engine.begin() as conn:
        conn.execute(text("DELETE FROM office_audit WHERE seq = 4"))
    found = verify_audit(uow=_uow(city_engine, clock), anchor=auditor.anchor)
    assert {"seq": 4, "problem": "missing"} in found["breaks"]


def test_the_newest_row_deleted_is_found_against_the_anchor(
    city_engine: Engine, clock: MovingClock, tmp_path: Path
) -> None:
    auditor = _auditor(city_engine, clock, tmp_path)
    for n in range(3):
        auditor.record("clerk1", "clerk", "open_protected", f"1000000000{n}", "certificate", {})
    assert oct(auditor.anchor.stat().st_mode & 0o777) == "0o600"
    _drop_guard(city_engine)
    with city_engine.begin() as conn:
        conn.execute(text("DELETE FROM office_audit WHERE seq = 3"))
    found = verify_audit(uow=_uow(city_engine, clock), anchor=auditor.anchor)
    assert found["breaks"] == [{"seq": 3, "problem": "truncated"}]
    auditor.anchor.unlink()  # the anchor removed as well
    found = verify_audit(uow=_uow(city_engine, clock), anchor=auditor.anchor)
    assert found["breaks"] == [{"seq": 2, "problem": "anchor_missing"}]


def test_passwords_are_argon2id_and_weak_ones_refused(
    city_engine: Engine, clock: MovingClock
) -> None:
    out = add_staff(
        uow=_uow(city_engine, clock), user="sato", role="clerk", password=PASSWORD, clock=clock
    )
    assert out == {"city": CODE, "user": "sato", "role": "clerk", "created": True}
    with city_engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM office_staff")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    for user, role, password in (
        ("sato", "clerk", "short"),
        ("sato", "clerk", "sato-and-more-letters"),
        ("sato", "mayor", PASSWORD),
        ("Sato!", "clerk", PASSWORD),
    ):
        with pytest.raises(InvalidInput):
            add_staff(
                uow=_uow(city_engine, clock), user=user, role=role, password=password, clock=clock
            )


def test_lock_out_after_repeated_failures_then_sessions_expire(
    city_engine: Engine, clock: MovingClock, tmp_path: Path
) -> None:
    policy = SessionPolicy(max_failures=3)
    auditor = _auditor(city_engine, clock, tmp_path)
    add_staff(
        uow=_uow(city_engine, clock), user="sato", role="clerk", password=PASSWORD, clock=clock
    )

    def attempt(password: str) -> str:
        try:
            sign_in(
                uow=_uow(city_engine, clock),
                user="sato",
                password=password,
                clock=clock,
                policy=policy,
                auditor=auditor,
            )
        except Refused as exc:
            return exc.reason
        return "signed_in"

    assert [attempt(f"guess number {n}") for n in range(3)] == ["sign_in_failed"] * 3
    assert attempt(PASSWORD) == "account_locked"  # the right password does not open it now
    clock.instant += policy.lockout + timedelta(seconds=1)
    assert attempt(PASSWORD) == "signed_in"
    actions = [r["action"] for r in list_audit(uow=_uow(city_engine, clock), since=None)]
    assert actions.count("sign_in_failed") == 3 and "sign_in_locked" in actions

    token, _ = sign_in(
        uow=_uow(city_engine, clock),
        user="sato",
        password=PASSWORD,
        clock=clock,
        policy=policy,
        auditor=auditor,
    )

    def alive() -> bool:
        found = find_session(uow=_uow(city_engine, clock), token=token, clock=clock, policy=policy)
        return found is not None

    assert alive()
    for _ in range(40):  # busy all day, a request every 14 minutes: the absolute limit ends it
        clock.instant += timedelta(minutes=14)
        if not alive():
            break
    assert clock.instant > datetime(2026, 11, 24, 9, 0, tzinfo=JST) + policy.absolute
    token, _ = sign_in(
        uow=_uow(city_engine, clock),
        user="sato",
        password=PASSWORD,
        clock=clock,
        policy=policy,
        auditor=auditor,
    )
    clock.instant += policy.idle + timedelta(seconds=1)
    assert not alive()  # idle too long
    with city_engine.connect() as conn:  # only a hash of the cookie is kept
        kept = conn.execute(text("SELECT token_hash FROM office_sessions")).scalars().all()
    assert token not in kept


def test_kofu_audit_and_verify_on_the_command_line(tmp_path: Path) -> None:
    """``kofu staff add`` then the trail as JSON; ``verify`` exits 1 on a deleted row."""
    home = tmp_path / "var"  # a city store the first command migrates; the office needs no seed
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": "2026-11-24T09:00:00+09:00"}
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")

    def kofu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KOFU), *args], capture_output=True, text=True, env=env, timeout=120
        )

    added = kofu(
        "staff",
        "add",
        "--city",
        CODE,
        "--user",
        "sato",
        "--role",
        "auditor",
        "--password-file",
        str(secret),
        "--json",
    )
    assert json.loads(added.stdout) == {
        "city": CODE,
        "user": "sato",
        "role": "auditor",
        "created": True,
    }
    from kofu.core.db import make_engine

    engine = make_engine(f"sqlite:///{home / f'city_{CODE}.sqlite'}")
    clock = MovingClock(datetime(2026, 11, 24, 9, 0, tzinfo=JST))
    auditor = _auditor(engine, clock, home)
    for n in range(3):
        auditor.record("sato", "auditor", "read_audit", "", "", {"n": n})
    assert list_audit(uow=_uow(engine, clock), since=date(2026, 11, 25)) == []
    listed = kofu("audit", "--city", CODE, "--since", "2026-11-24", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["seq"] for r in rows] == [1, 2, 3] and rows[0]["staff"] == "sato"
    assert verify_audit(uow=_uow(engine, clock), anchor=auditor.anchor)["ok"]
    _drop_guard(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM office_audit WHERE seq = 2"))
    engine.dispose()
    bad = kofu("audit", "verify", "--city", CODE, "--json")
    assert bad.returncode == 1
    assert {"seq": 2, "problem": "missing"} in json.loads(bad.stdout)["breaks"]
