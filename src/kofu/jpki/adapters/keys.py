"""The authority's CA keys under KOFU_HOME/jpki, and its CA certificates beside them.

The keys live in the one key store every party uses (kofu.core.keys): RSA,
``<name>.key.pem``, owner-only, made on first start, never handed out.  In
production this is where an HSM would stand (the CA logic sees only
``KeyStore``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kofu.core.certkinds import CertKind
from kofu.core.keys import KeyAlgorithm, KeyStore, write_new
from kofu.jpki.domain.ca import CaKeys, build_hierarchy

__all__ = ["CA_KEY_NAMES", "FileKeyStore", "load_or_create_hierarchy"]

CA_KEY_NAMES = ("root", CertKind.SIGN.value, CertKind.AUTH.value)


class FileKeyStore(KeyStore):
    """RSA keys named root, sign and auth, each in ``<name>.key.pem``."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, KeyAlgorithm.RSA_2048, ".key.pem")


def load_or_create_hierarchy(store: KeyStore, now: datetime) -> CaKeys:
    """The CA certificates, made once and kept beside the keys."""
    paths = {n: store.directory / f"{n}.crt.pem" for n in CA_KEY_NAMES}
    if not all(p.exists() for p in paths.values()):
        for name in CA_KEY_NAMES:
            store.ensure(name)
        cas = build_hierarchy(store, now)
        certs = {"root": cas.root, **{k.value: c for k, c in cas.issuing.items()}}
        for name, cert in certs.items():
            paths[name].unlink(missing_ok=True)  # a hierarchy made whole, never half of two
            write_new(paths[name], cert.public_bytes(serialization.Encoding.PEM), 0o644)
    loaded = {n: x509.load_pem_x509_certificate(p.read_bytes()) for n, p in paths.items()}
    return CaKeys(root=loaded["root"], issuing={k: loaded[k.value] for k in CertKind})
