"""The key store: keys owner-only from their first instant, made once, and never handed out.

The leak test calls every public method of the store, of a stored key and of
the center's signer and looks at what comes back: no private key object, no
PEM or DER of one.  A new public method without a line in the call table
fails the test, so nothing slips past it.
"""

from __future__ import annotations

import inspect
import os
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from kofu.center.adapters.signing import Signer, center_signer
from kofu.core.keys import KeyAlgorithm, KeyStore, StoredKey
from kofu.core.network import network_identity
from kofu.jpki.adapters.keys import FileKeyStore

_PRIVATE = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave any file world-readable unless its mode says otherwise."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def no_chmod(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any chmod is a failure: the mode must be right when the file is made."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a key file was chmod-ed after it was made")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(Path, "chmod", refuse)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _key_files(directory: Path) -> list[Path]:
    return [
        p for p in directory.rglob("*") if p.is_file() and p.name.endswith((".key", ".key.pem"))
    ]


@pytest.mark.usefixtures("open_umask", "no_chmod")
def test_every_key_file_is_owner_only_from_the_start(tmp_path: Path) -> None:
    """The network CA, a party's TLS key, the JPKI CA keys and the center's signing key."""
    network_identity(tmp_path, "city-112186", "lgwan")
    center_signer(tmp_path)
    FileKeyStore(tmp_path / "jpki").ensure("root")
    files = _key_files(tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    assert {"network/lgwan/ca.key", "network/lgwan/city-112186.key", "network/ca.key"} <= names
    assert {"center/signing.key", "jpki/root.key.pem"} <= names
    assert all(_mode(p) == 0o600 for p in files), {p.name: oct(_mode(p)) for p in files}
    assert not list(tmp_path.rglob(".*.key*")), "a temporary key file was left behind"


def test_a_key_is_never_replaced(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, KeyAlgorithm.EC_P256)
    first = store.create("signing")
    before = store.path("signing").read_bytes()
    with pytest.raises(FileExistsError):
        store.create("signing")
    assert KeyStore(tmp_path, KeyAlgorithm.EC_P256).ensure("signing") == first
    assert store.path("signing").read_bytes() == before


def test_processes_making_one_key_at_once_end_with_one(tmp_path: Path) -> None:
    """Eight stores (as eight workers would) ensure the same key at the same moment."""
    start, found = threading.Barrier(8), []

    def make() -> None:
        start.wait()
        found.append(KeyStore(tmp_path, KeyAlgorithm.EC_P256).ensure("ca"))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and all(key == found[0] for key in found)
    assert KeyStore(tmp_path, KeyAlgorithm.EC_P256).public_key("ca") == found[0]


def test_a_missing_key_and_a_bad_name_are_named(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, KeyAlgorithm.EC_P256)
    with pytest.raises(KeyError, match="no key named 'absent'"):
        store.public_key("absent")
    with pytest.raises(ValueError, match="key name"):
        store.path("../escape")


def test_signatures_verify_with_the_public_key(tmp_path: Path) -> None:
    ec_store = KeyStore(tmp_path / "ec", KeyAlgorithm.EC_P256)
    rsa_store = KeyStore(tmp_path / "rsa", KeyAlgorithm.RSA_2048)
    ec_public, rsa_public = ec_store.ensure("k"), rsa_store.ensure("k")
    assert isinstance(ec_public, ec.EllipticCurvePublicKey)
    assert isinstance(rsa_public, rsa.RSAPublicKey) and rsa_public.key_size == 2048
    ec_public.verify(ec_store.sign("k", b"data"), b"data", ec.ECDSA(hashes.SHA256()))
    rsa_public.verify(rsa_store.sign("k", b"data"), b"data", padding.PKCS1v15(), hashes.SHA256())
    handle = ec_store.handle("k")
    ec_public.verify(handle.sign(b"x", ec.ECDSA(hashes.SHA256())), b"x", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(ValueError, match="SHA-256"):
        handle.sign(b"x", ec.ECDSA(hashes.SHA384()))


# --- nothing private comes out -----------------------------------------------------------------


def _secrets_of(path: Path) -> list[bytes]:
    """The key file's PEM and every DER form of the key in it."""
    pem = path.read_bytes()
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, _PRIVATE)
    ders = [
        key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        for fmt in (
            serialization.PrivateFormat.PKCS8,
            serialization.PrivateFormat.TraditionalOpenSSL,
        )
    ]
    return [pem, *ders]


def _leaks(value: object, secrets: list[bytes], seen: set[int] | None = None) -> bool:
    """Whether ``value`` (or anything reachable through its public attributes) is the key."""
    seen = seen if seen is not None else set()
    if id(value) in seen:
        return False
    seen.add(id(value))
    if isinstance(value, _PRIVATE):
        return True
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes | bytearray):
        return b"PRIVATE KEY" in value or any(s in value for s in secrets)
    if isinstance(value, dict):
        return any(_leaks(v, secrets, seen) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_leaks(v, secrets, seen) for v in value)
    if isinstance(value, KeyStore | StoredKey | Signer):
        return any(_leaks(getattr(value, n), secrets, seen) for n in _public_attributes(value))
    return False


def _public_attributes(obj: object) -> list[str]:
    return [
        n
        for n in dir(obj)
        if not n.startswith("_") and not inspect.isroutine(getattr(type(obj), n, None))
    ]


def _public_methods(obj: object) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n))}


def _certificate_builder(public: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> Any:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
    )


def _store_calls(store: KeyStore, cert: x509.Certificate) -> dict[str, Callable[[], object]]:
    return {
        "path": lambda: store.path("k"),
        "exists": lambda: store.exists("k"),
        "create": lambda: store.create("other"),
        "ensure": lambda: store.ensure("k"),
        "public_key": lambda: store.public_key("k"),
        "sign": lambda: store.sign("k", b"data"),
        "sign_with": lambda: store.sign_with("k", _certificate_builder(store.public_key("k"))),
        "handle": lambda: store.handle("k"),
        "pkcs12": lambda: store.pkcs12("k", cert, [], "a password"),
    }


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_no_call_of_the_key_store_returns_a_private_key(
    tmp_path: Path, algorithm: KeyAlgorithm
) -> None:
    store = KeyStore(tmp_path, algorithm)
    public = store.ensure("k")
    cert = store.sign_with("k", _certificate_builder(public))
    secrets = _secrets_of(store.path("k"))
    calls = _store_calls(store, cert)
    assert set(calls) == _public_methods(store), "a public method of KeyStore is not checked"
    for name, call in calls.items():
        assert not _leaks(call(), secrets), f"KeyStore.{name} handed out the private key"
    assert not any(_leaks(getattr(store, n), secrets) for n in _public_attributes(store))
    with pytest.raises(ValueError):  # the PKCS#12 bundle opens only with its password
        pkcs12.load_key_and_certificates(calls["pkcs12"](), None)  # type: ignore[arg-type]


def test_no_call_of_the_center_signer_returns_its_private_key(tmp_path: Path) -> None:
    """The signer once carried the raw key (``signer.key``); now a handle that only signs."""
    signer = center_signer(tmp_path)
    secrets = _secrets_of(tmp_path / "center" / "signing.key")
    assert not isinstance(signer.key, _PRIVATE)
    assert not _leaks(signer, secrets)
    handle_calls: dict[str, Callable[[], object]] = {
        "public_key": signer.key.public_key,
        "sign": lambda: signer.key.sign(b"claims", ec.ECDSA(hashes.SHA256())),
    }
    assert set(handle_calls) == _public_methods(signer.key), "a public method is not checked"
    for name, call in handle_calls.items():
        assert not _leaks(call(), secrets), f"the signer's key.{name} handed out the private key"
    public = signer.key.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public == signer.certificate.public_key()
    assert _public_methods(signer) == set(), "the signer grew a method this test does not check"
