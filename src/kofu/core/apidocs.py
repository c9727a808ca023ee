"""Each party's /docs (Swagger UI) served from this machine: no CDN, so it works offline.

FastAPI's own /docs page loads Swagger UI from a CDN, which a closed
network (LGWAN) cannot reach.  The same page is served here with Swagger
UI's files from the npm package swagger-ui-dist, installed by
scripts/setup.sh from package-lock.json like the verifier's QR decoder
(never committed).  Where it is missing, /docs says so and links the
OpenAPI document itself rather than reaching out.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

__all__ = ["SWAGGER_ENV", "add_docs", "swagger_ui_path"]

SWAGGER_ENV = "KOFU_SWAGGER_UI"  # a swagger-ui-dist folder elsewhere than node_modules
_DIST = Path("node_modules") / "swagger-ui-dist"
_FILES = {  # the only files /docs hands out, and their types
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def swagger_ui_path() -> Path | None:
    """swagger-ui-dist: $KOFU_SWAGGER_UI, or node_modules/ in the working folder or above."""
    given = os.environ.get(SWAGGER_ENV)
    if given:
        return Path(given) if (Path(given) / "swagger-ui-bundle.js").is_file() else None
    for folder in (Path.cwd(), *Path(__file__).resolve().parents):
        if (folder / _DIST / "swagger-ui-bundle.js").is_file():
            return folder / _DIST
    return None


def add_docs(app: FastAPI, title: str) -> None:
    """/docs and its files, for an app made with ``docs_url=None`` (its openapi_url kept)."""
    dist = swagger_ui_path()

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if dist is None:
            return HTMLResponse(_without_ui(title, app.openapi_url or "/openapi.json"))
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} — API",
            swagger_js_url="/docs/files/swagger-ui-bundle.js",
            swagger_css_url="/docs/files/swagger-ui.css",
            swagger_favicon_url="/docs/files/favicon-32x32.png",
        )

    @app.get("/docs/files/{name}", include_in_schema=False)
    def files(name: str) -> Response:
        if dist is None or name not in _FILES:
            return Response(status_code=404)
        headers = {"Cache-Control": "max-age=86400", "X-Content-Type-Options": "nosniff"}
        return Response((dist / name).read_bytes(), media_type=_FILES[name], headers=headers)


def _without_ui(title: str, openapi_url: str) -> str:
    """/docs where Swagger UI is not installed: what to do, and the document itself."""
    title, openapi_url = html.escape(title), html.escape(openapi_url)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} — API</title></head><body><main><h1>{title} — API</h1>"
        "<p>Swagger UI is not installed on this machine (scripts/setup.sh installs it).</p>"
        f'<p>The OpenAPI document: <a href="{openapi_url}">{openapi_url}</a></p>'
        "</main></body></html>"
    )
