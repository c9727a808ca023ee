"""Fixtures for the JPKI authority tests: keys made once, stores per backend, a live service.

RSA-2048 key generation is the slow part (about 0.1 s a key), so the three CA
keys and a few card keys are generated once per session; each test copies the
CA key files into its own key directory and builds its own CA certificates
(cheap: three signatures).

``jpki_engine`` is an empty, migrated authority store per backend: a SQLite
file under ``tmp_path``, or a fresh PostgreSQL schema ``t_<hex>_jpki`` dropped
afterwards.  The PostgreSQL case alone is skipped when no server is reachable.

``jpki_server`` is the real service, ``kofu serve jpki --port 0`` in a
subprocess, once per backend and session, terminated by its PID afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jpki_support import (
    BASE_URL,
    CA_NAMES,
    KOFU,
    NOW,
    CardKeys,
    Server,
    copy_ca_keys,
)
from sqlalchemy import Engine

from kofu.core.clock import FixedClock
from kofu.jpki.adapters.keys import FileKeyStore
from kofu.jpki.bootstrap import jpki_service
from kofu.jpki.domain.ca import Urls
from kofu.jpki.services.authority import JpkiService
from stores import BACKENDS, POSTGRES_URL, drop_schema, fresh_store, postgres_unreachable


@pytest.fixture(scope="session")
def ca_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root, sign and auth CA keys, generated once per session (PEM files only)."""
    directory = tmp_path_factory.mktemp("ca_keys")
    store = FileKeyStore(directory)
    for name in CA_NAMES:
        store.ensure(name)
    return directory


@pytest.fixture(scope="session")
def card_keys() -> CardKeys:
    """Fresh RSA-2048 card keys for this session."""
    return CardKeys(
        auth=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        sign=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@pytest.fixture(scope="session")
def small_key() -> rsa.RSAPrivateKey:
    """An RSA-1024 key: well-formed, but not what the card holds."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@pytest.fixture(params=BACKENDS)
def jpki_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated authority store of this test's own."""
    with fresh_store(request.param, tmp_path, "jpki") as engine:
        yield engine


@pytest.fixture
def clock() -> FixedClock:
    """2026-11-23 10:00 Japan time."""
    return FixedClock(NOW)


@pytest.fixture
def service(
    jpki_engine: Engine, ca_key_dir: Path, tmp_path: Path, clock: FixedClock
) -> JpkiService:
    """The authority over this test's store, with the session's CA keys."""
    keys = FileKeyStore(copy_ca_keys(ca_key_dir, tmp_path / "keys"))
    return jpki_service(jpki_engine, keys, Urls(BASE_URL), clock)


# --- the live service ------------------------------------------------------------------------


def _read_ready_line(proc: subprocess.Popen[bytes], stderr_path: Path, timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise RuntimeError(
                "kofu serve jpki did not report ready "
                f"(exit {proc.poll()}): {stderr_path.read_text(errors='replace')[-2000:]}"
            )
        readable, _, _ = select.select([proc.stdout], [], [], min(left, 0.2))
        if readable:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk and proc.poll() is not None:
                continue
            buffer += chunk
    return buffer.split(b"\n", 1)[0].decode()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the one process this fixture started, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="session", params=BACKENDS)
def jpki_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, ca_key_dir: Path
) -> Iterator[Server]:
    """``kofu serve jpki --port 0`` with its own KOFU_HOME, on SQLite or a fresh PG schema."""
    backend = request.param
    schema = None
    home = tmp_path_factory.mktemp(f"kofu_home_{backend}")
    copy_ca_keys(ca_key_dir, home / "jpki")  # the service makes its CA certificates on start
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env["KOFU_HOME"] = str(home)
    if backend == "postgresql":
        reason = postgres_unreachable()
        if reason:
            pytest.skip(reason)
        prefix = f"t_{secrets.token_hex(6)}_"
        schema = f"{prefix}jpki"
        env["KOFU_DATABASE_URL"] = POSTGRES_URL
        env["KOFU_DATABASE_SCHEMA_PREFIX"] = prefix
    try:
        with _serving(home, env, backend) as server:
            yield server
    finally:
        if schema:
            drop_schema(schema)


@contextmanager
def _serving(home: Path, env: dict[str, str], backend: str, *args: str) -> Iterator[Server]:
    """``kofu serve jpki --port 0 ARGS`` until the block ends, then stopped by its PID."""
    stderr_path = home / "serve.stderr"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(KOFU), "serve", "jpki", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=home,
        )
    try:
        ready = json.loads(_read_ready_line(proc, stderr_path, timeout=60))
        yield Server(url=ready["url"], ready=ready, home=home, backend=backend)
    finally:
        _stop(proc)


@pytest.fixture
def two_workers(tmp_path: Path, ca_key_dir: Path) -> Iterator[Server]:
    """``kofu serve jpki --workers 2`` on SQLite: both listeners shared by pre-forked workers."""
    home = tmp_path / "home"
    copy_ca_keys(ca_key_dir, home / "jpki")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env["KOFU_HOME"] = str(home)
    with _serving(home, env, "sqlite", "--workers", "2") as server:
        yield server
