"""CA keys and certificates in files under KOFU_HOME/jpki, made on first start.

Private keys are PEM files readable by the owner only; in production this
backend is where an HSM would stand (the CA logic sees only ``KeyStore``).
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kofu.core.certkinds import CertKind
from kofu.jpki.domain.ca import RSA_BITS, CaKeys, build_hierarchy

__all__ = ["FileKeyStore", "load_or_create_hierarchy"]

_NAMES = ("root", CertKind.SIGN.value, CertKind.AUTH.value)


class FileKeyStore:
    """RSA keys named root, sign and auth, each in ``<name>.key.pem``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    @cache  # noqa: B019 — one store per process, keys are immutable
    def private_key(self, name: str) -> rsa.RSAPrivateKey:
        path = self.directory / f"{name}.key.pem"
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        return loaded


def load_or_create_hierarchy(store: FileKeyStore, now: datetime) -> CaKeys:
    """The CA certificates, made once and kept beside the keys."""
    paths = {n: store.directory / f"{n}.crt.pem" for n in _NAMES}
    if not all(p.exists() for p in paths.values()):
        cas = build_hierarchy(store, now)
        certs = {"root": cas.root, **{k.value: c for k, c in cas.issuing.items()}}
        for name, cert in certs.items():
            paths[name].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    loaded = {n: x509.load_pem_x509_certificate(p.read_bytes()) for n, p in paths.items()}
    return CaKeys(root=loaded["root"], issuing={k: loaded[k.value] for k in CertKind})
