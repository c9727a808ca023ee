"""The live authority (``kofu serve jpki``) checked by an independent client: the openssl CLI.

Certificates are issued on the private listener (mutual TLS, as city
112186) with fresh card keys; ``openssl verify``
checks the chain and the CRL, ``openssl ocsp`` asks the responder.  A move
revokes only the signature certificate, so the auth certificate stays good.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from jpki_support import CardKeys, Server, certificate_request

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")

PEM = serialization.Encoding.PEM


class Pki:
    """One test's view of the live authority: its files on disk, its HTTP client."""

    def __init__(self, server: Server, directory: Path) -> None:
        self.server = server
        self.dir = directory
        self.http = httpx.Client(base_url=server.url, timeout=30)  # the public listener
        self.city = server.client("city-112186")  # the private one
        self.ca: dict[str, x509.Certificate] = {}
        for name in ("root", "sign", "auth"):
            answer = self.http.get(f"/ca/{name}.der")
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == "application/pkix-cert"
            self.ca[name] = x509.load_der_x509_certificate(answer.content)
            self.write(f"{name}_ca.pem", self.ca[name].public_bytes(PEM))

    def close(self) -> None:
        self.http.close()
        self.city.close()

    def write(self, name: str, data: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(data)
        return path

    def issue(self, keys: CardKeys, card_id: str) -> dict[str, Any]:
        answer = self.city.post(
            "/certificates",
            json=certificate_request(keys, card_id),
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        for kind in ("sign", "auth"):
            cert = x509.load_pem_x509_certificate(body[f"{kind}_pem"].encode())
            assert f"{cert.serial_number:x}" == body[f"{kind}_serial"]
            self.write(f"{card_id}_{kind}.pem", body[f"{kind}_pem"].encode())
        return body

    def revoke(self, card_id: str, cause: str) -> list[str]:
        answer = self.city.post("/revocations", json={"card_id": card_id, "cause": cause})
        assert answer.status_code == 200, answer.text
        revoked: list[str] = answer.json()["revoked"]
        return revoked

    def crl_chain(self, kind: str) -> Path:
        """Root, the issuing CA and its current CRL in one PEM file, for ``openssl verify``."""
        answer = self.http.get(f"/crl/{kind}.crl")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pkix-crl"
        crl = x509.load_der_x509_crl(answer.content)
        assert crl.is_signature_valid(self.ca[kind].public_key())  # type: ignore[arg-type]
        chain = self.ca["root"].public_bytes(PEM) + self.ca[kind].public_bytes(PEM)
        return self.write(f"chain_{kind}.pem", chain + crl.public_bytes(PEM))

    def verify(self, kind: str, leaf: str) -> subprocess.CompletedProcess[str]:
        chain = self.crl_chain(kind)
        return openssl("verify", "-crl_check", "-CAfile", chain, self.dir / leaf)

    def ocsp(self, kind: str, *target: str | Path) -> subprocess.CompletedProcess[str]:
        return openssl(
            "ocsp",
            "-issuer",
            self.dir / f"{kind}_ca.pem",
            *target,
            "-url",
            f"{self.server.url}/ocsp/{kind}",
            "-CAfile",
            self.dir / "root_ca.pem",
            "-timeout",
            "20",
        )


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.fixture
def pki(jpki_server: Server, tmp_path: Path) -> Iterator[Pki]:
    view = Pki(jpki_server, tmp_path)
    try:
        yield view
    finally:
        view.close()


def _card_id() -> str:
    return f"OSSL-{secrets.token_hex(6)}"


def test_ready_line_names_the_urls(jpki_server: Server) -> None:
    ready, url = jpki_server.ready, jpki_server.url
    assert ready["service"] == "jpki"
    assert url.startswith("http://127.0.0.1:")
    assert ready["crl"] == {"sign": f"{url}/crl/sign.crl", "auth": f"{url}/crl/auth.crl"}
    assert ready["ocsp"] == {"sign": f"{url}/ocsp/sign", "auth": f"{url}/ocsp/auth"}
    assert ready["ca"]["root"] == f"{url}/ca/root.der"
    assert ready["private"].startswith("https://127.0.0.1:") and ready["private"] != url
    assert Path(ready["tls"]["ca"]) == jpki_server.home / "network" / "lgwan" / "ca.pem"


def test_issued_certificates_carry_the_live_urls(pki: Pki, card_keys: CardKeys) -> None:
    card = _card_id()
    body = pki.issue(card_keys, card)
    url = pki.server.url
    for kind in ("sign", "auth"):
        cert = x509.load_pem_x509_certificate(body[f"{kind}_pem"].encode())
        cert.verify_directly_issued_by(pki.ca[kind])
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        assert {a.access_location.value for a in aia} == {
            f"{url}/ocsp/{kind}",
            f"{url}/ca/{kind}.der",
        }
        dps = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert dps[0].full_name is not None
        assert dps[0].full_name[0].value == f"{url}/crl/{kind}.crl"


def test_openssl_verify_with_crl(pki: Pki, card_keys: CardKeys) -> None:
    card = _card_id()
    pki.issue(card_keys, card)
    for kind in ("sign", "auth"):
        result = pki.verify(kind, f"{card}_{kind}.pem")
        assert result.returncode == 0, output(result)
        assert result.stdout.strip().endswith(": OK"), output(result)

    assert len(pki.revoke(card, "loss")) == 2

    for kind in ("sign", "auth"):
        result = pki.verify(kind, f"{card}_{kind}.pem")
        assert result.returncode != 0, output(result)
        assert "certificate revoked" in output(result)


def test_openssl_verify_after_a_move(pki: Pki, card_keys: CardKeys) -> None:
    card = _card_id()
    pki.issue(card_keys, card)
    assert len(pki.revoke(card, "move")) == 1
    revoked = pki.verify("sign", f"{card}_sign.pem")
    assert "certificate revoked" in output(revoked)
    good = pki.verify("auth", f"{card}_auth.pem")
    assert good.returncode == 0, output(good)


def test_openssl_verify_refuses_the_wrong_chain(pki: Pki, card_keys: CardKeys) -> None:
    card = _card_id()
    pki.issue(card_keys, card)
    # the auth certificate against the signature CA (and its CRL) does not chain
    result = pki.verify("sign", f"{card}_auth.pem")
    assert result.returncode != 0
    assert "unable to get local issuer certificate" in output(result)


def test_openssl_ocsp_good_then_revoked(pki: Pki, card_keys: CardKeys) -> None:
    card = _card_id()
    body = pki.issue(card_keys, card)
    auth = pki.dir / f"{card}_auth.pem"
    sign = pki.dir / f"{card}_sign.pem"

    for kind, leaf in (("auth", auth), ("sign", sign)):
        result = pki.ocsp(kind, "-cert", leaf)
        text = output(result)
        assert result.returncode == 0, text
        assert "Response verify OK" in text
        assert f"{leaf}: good" in text

    # a move revokes only the signature certificate
    assert pki.revoke(card, "move") == [body["sign_serial"]]
    result = pki.ocsp("sign", "-cert", sign)
    text = output(result)
    assert "Response verify OK" in text
    assert f"{sign}: revoked" in text
    assert "Reason: affiliationChanged" in text
    assert "Revocation Time:" in text
    result = pki.ocsp("auth", "-cert", auth)
    assert "Response verify OK" in output(result)
    assert f"{auth}: good" in output(result)

    # death revokes the rest
    assert pki.revoke(card, "death") == [body["auth_serial"]]
    result = pki.ocsp("auth", "-cert", auth, "-no_nonce")
    text = output(result)
    assert "Response verify OK" in text
    assert f"{auth}: revoked" in text
    assert "Reason: cessationOfOperation" in text
    # the signature certificate keeps its first reason
    assert "Reason: affiliationChanged" in output(pki.ocsp("sign", "-cert", sign))


def test_openssl_ocsp_two_certificates_at_once(pki: Pki, card_keys: CardKeys) -> None:
    """A request for two certificates is refused as malformedRequest, never a server error."""
    first, second = _card_id(), _card_id()
    pki.issue(card_keys, first)
    pki.issue(card_keys, second)
    a, b = pki.dir / f"{first}_auth.pem", pki.dir / f"{second}_auth.pem"
    result = pki.ocsp("auth", "-cert", a, "-cert", b)
    text = output(result)
    assert "responder error: malformedrequest" in text.lower(), text
    assert "code=500" not in text


def test_openssl_ocsp_unsupported_hash(pki: Pki, card_keys: CardKeys) -> None:
    """A CertID hashed with MD5 cannot be matched: malformedRequest, never a server error."""
    card = _card_id()
    pki.issue(card_keys, card)
    result = openssl(
        "ocsp",
        "-issuer",
        pki.dir / "auth_ca.pem",
        "-md5",
        "-cert",
        pki.dir / f"{card}_auth.pem",
        "-url",
        f"{pki.server.url}/ocsp/auth",
        "-CAfile",
        pki.dir / "root_ca.pem",
    )
    text = output(result)
    assert "responder error: malformedrequest" in text.lower(), text


def test_openssl_ocsp_unknown_serial(pki: Pki) -> None:
    result = pki.ocsp("auth", "-serial", "0x1234")
    text = output(result)
    assert result.returncode == 0, text
    assert "Response verify OK" in text
    assert "0x1234: unknown" in text


def test_openssl_ocsp_unknown_certificate_same_issuer_name(pki: Pki) -> None:
    """A certificate the authority never issued, naming its issuer: openssl asks, it is unknown."""
    throwaway = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "not issued")]))
        .issuer_name(pki.ca["auth"].subject)
        .public_key(throwaway.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(throwaway, hashes.SHA256())
    )
    path = pki.write("forged.pem", forged.public_bytes(PEM))
    result = pki.ocsp("auth", "-cert", path)
    text = output(result)
    assert result.returncode == 0, text
    assert "Response verify OK" in text
    assert f"{path}: unknown" in text
    # and openssl verify refuses it: its signature is not the CA's
    verify = pki.verify("auth", "forged.pem")
    assert verify.returncode != 0


def test_ocsp_wrong_responder_or_issuer_is_unknown(pki: Pki, card_keys: CardKeys) -> None:
    card = _card_id()
    body = pki.issue(card_keys, card)
    sign = x509.load_pem_x509_certificate(body["sign_pem"].encode())
    auth = x509.load_pem_x509_certificate(body["auth_pem"].encode())
    # the signature certificate asked of the auth responder is not its own
    answer = pki.http.post("/ocsp/auth", content=_ocsp_request(sign, pki.ca["sign"]))
    response = _check_response(answer.content, pki.ca["auth"])
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    # the auth certificate's serial under another issuer (the sign CA, the root) is not either
    for wrong in ("sign", "root"):
        answer = pki.http.post("/ocsp/auth", content=_ocsp_request(auth, pki.ca[wrong]))
        response = _check_response(answer.content, pki.ca["auth"])
        assert response.serial_number == auth.serial_number
        assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN, wrong


def _ocsp_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    return request.public_bytes(serialization.Encoding.DER)


def _check_response(der: bytes, issuer: x509.Certificate) -> ocsp.OCSPResponse:
    response = ocsp.load_der_ocsp_response(der)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    key = issuer.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert response.signature_hash_algorithm is not None
    key.verify(
        response.signature,
        response.tbs_response_bytes,
        padding.PKCS1v15(),
        response.signature_hash_algorithm,
    )
    return response


def test_ocsp_get_form(pki: Pki, card_keys: CardKeys) -> None:
    """RFC 6960 §A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}."""
    card = _card_id()
    body = pki.issue(card_keys, card)
    auth = x509.load_pem_x509_certificate(body["auth_pem"].encode())
    request = _ocsp_request(auth, pki.ca["auth"])
    encoded = urllib.parse.quote(base64.b64encode(request).decode(), safe="")

    answer = pki.http.get(f"/ocsp/auth/{encoded}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ocsp-response"
    response = _check_response(answer.content, pki.ca["auth"])
    assert response.serial_number == auth.serial_number
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD

    pki.revoke(card, "key_compromise")
    response = _check_response(pki.http.get(f"/ocsp/auth/{encoded}").content, pki.ca["auth"])
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is x509.ReasonFlags.key_compromise

    # the same request by POST gives the same answer
    posted = pki.http.post(
        "/ocsp/auth", content=request, headers={"content-type": "application/ocsp-request"}
    )
    response = _check_response(posted.content, pki.ca["auth"])
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
