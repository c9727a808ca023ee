"""The public verifier served over plain HTTP on 127.0.0.1: the built page, from memory.

The page is static: after it loads the browser asks this server nothing
more (its Content-Security-Policy forbids any connection), so serving it is
only handing out the files of ``site_files``.
"""

from __future__ import annotations

import mimetypes

from cryptography import x509
from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response

from kofu.verifier.site import site_files

__all__ = ["create_verifier_app"]

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def create_verifier_app(keys: dict[bytes, x509.Certificate]) -> FastAPI:
    """The page and its files at /, keys as published when the app was made."""
    files = site_files(keys)
    app = FastAPI(title="kofu verifier", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    def index() -> Response:
        return _file("index.html", files["index.html"])

    @app.get("/{name}")
    def one(name: str) -> Response:
        if name not in files:
            return RedirectResponse("/", status_code=303)
        return _file(name, files[name])

    return app


def _file(name: str, data: bytes) -> Response:
    suffix = name[name.rfind(".") :]
    kind = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind == "text/html":
        kind = "text/html; charset=utf-8"
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return Response(data, media_type=kind, headers=headers)
