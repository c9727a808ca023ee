"""What every party's HTTP app shares: kofu's errors mapped to status codes in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kofu.core.errors import KofuError

__all__ = ["party_app"]


def party_app(title: str, description: str | None) -> FastAPI:
    """A FastAPI app whose KofuErrors answer as JSON (422, 404, 409, 403) naming the problem."""
    app = FastAPI(title=title, description=description or "")

    @app.exception_handler(KofuError)
    async def _error(_: Request, exc: KofuError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    return app
