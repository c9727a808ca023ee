"""What every party's HTTP side shares: kofu's errors as status codes, and reading them back."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused

__all__ = ["answer_of", "party_app"]

log = logging.getLogger("kofu")


def party_app(title: str, description: str | None, lifespan: Any = None) -> FastAPI:
    """A FastAPI app whose KofuErrors answer as JSON (422, 404, 409, 403) naming the problem.

    Anything else is a fault of ours: it is logged and answered as JSON too,
    so a caller never has to parse an HTML or plain-text error page.
    """
    app = FastAPI(title=title, description=description or "", lifespan=lifespan)

    @app.exception_handler(KofuError)
    async def _error(_: Request, exc: KofuError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"error": "internal_error", "message": f"{title} failed to answer this request"},
            status_code=500,
        )

    return app


_BY_STATUS: dict[int, type[KofuError]] = {404: NotFound, 409: Conflict, 422: InvalidInput}


def answer_of(response: httpx.Response, unavailable: Refused) -> dict[str, Any]:
    """Another party's JSON answer, or its refusal raised as ours.

    A party that fails (5xx) or answers something that is not kofu's JSON
    counts as unavailable: the caller gets ``unavailable``, whose words a
    resident can read, never a parser's traceback.
    """
    try:
        data = response.json()
    except ValueError:
        raise unavailable from None
    if not isinstance(data, dict) or response.status_code >= 500:
        raise unavailable
    if response.status_code == 403:
        raise Refused(
            str(data.get("reason", "refused")),
            str(data.get("message", "refused")),
            message_ja=data.get("message_ja"),
        )
    if response.status_code >= 400:
        error = _BY_STATUS.get(response.status_code, KofuError)
        raise error(str(data.get("message", data)), field=data.get("field"))
    return data
