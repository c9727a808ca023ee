"""What every party's HTTP side shares: kofu's errors as status codes, and reading them back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import httpx
from cryptography import x509
from cryptography.x509.oid import NameOID
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from kofu.core.apidocs import add_docs
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused
from kofu.core.guard import MiB, RequestGuard
from kofu.core.link import Link, LinkError, Reply

__all__ = [
    "ERROR_RESPONSES",
    "ErrorOut",
    "answer_of",
    "ask",
    "binary",
    "caller",
    "check_caller",
    "every",
    "only",
    "party_app",
    "safe_text",
]

log = logging.getLogger("kofu")

TEXT_CAP = 500  # characters of any one text an error answer carries (a message, a field's name)
PROBLEMS_CAP = 10  # validation problems listed in one answer
_ERROR_NAMES = {400: "InvalidInput", 404: "NotFound", 405: "MethodNotAllowed", 409: "Conflict"}


class ErrorOut(BaseModel):
    """kofu's answer to a request it does not carry out: what went wrong, in words and codes."""

    error: str = Field(description="InvalidInput, NotFound, Conflict, Refused, TooLarge …")
    message: str = Field(description="what is wrong, in English")
    field: str | None = Field(None, description="the field at fault (``facts.name``)")
    reason: str | None = Field(None, description="a stable code: card_unknown, body_too_large …")
    message_ja: str | None = Field(None, description="words a kiosk shows the resident")
    limit: int | None = Field(None, description="with body_too_large: the most bytes taken")
    detail: Any = Field(None, description="request validation: each problem's loc, msg, type")


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# what every route may answer besides its own success (in each party's OpenAPI)
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("the body could not be read as JSON text (not UTF-8)"),
    403: _documented("refused by a rule, or a caller the route does not answer; see reason"),
    404: _documented("the thing named does not exist"),
    409: _documented("the request contradicts the current state"),
    413: _documented("body_too_large: the body is over the path's limit (1 MiB unless said)"),
    422: _documented(
        "invalid input, named by field: the request's shape, text with NUL or a lone "
        "surrogate (unstorable_text), or a rule of the domain (check digits, dates)"
    ),
}


def binary(media_type: str, description: str) -> dict[str, Any]:
    """Route keywords for a 200 answered as ``media_type`` bytes (a PDF, a CRL), so documented."""
    return {
        "response_class": Response,
        "responses": {200: {"content": {media_type: {}}, "description": description}},
    }


def party_app(
    title: str,
    description: str | None,
    lifespan: Any = None,
    larger_bodies: dict[str, int] | None = None,
) -> FastAPI:
    """A FastAPI app whose errors answer as small JSON (422, 404, 409, 403, 413) naming the problem.

    Anything else is a fault of ours: it is logged and answered as JSON too,
    so a caller never has to parse an HTML or plain-text error page.  Every
    answer is encodable and bounded whatever the request held (a lone
    surrogate, megabytes of input), and bodies are capped at 1 MiB, or at
    ``larger_bodies[path]`` for a path that truly takes more.
    """
    app = FastAPI(
        title=title,
        description=description or "",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # FastAPI's pages load from a CDN: ours are served from here
        redoc_url=None,
    )
    add_docs(app, title)
    app.add_middleware(RequestGuard, limit=MiB, larger=larger_bodies)

    @app.exception_handler(KofuError)
    async def _error(_: Request, exc: KofuError) -> JSONResponse:
        return _answer(exc.status, exc.to_dict())

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _answer(422, _validation_answer(exc.errors()))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        name = _ERROR_NAMES.get(exc.status_code, "KofuError")
        detail = {"error": name, "message": str(exc.detail), "detail": str(exc.detail)}
        return _answer(exc.status_code, detail, exc.headers)

    @app.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _answer(
            500, {"error": "internal_error", "message": f"{title} failed to answer this request"}
        )

    return app


def safe_text(value: object, cap: int = TEXT_CAP) -> str:
    """``value`` as text any encoder takes (a lone surrogate as ``\\udXXX``), ``cap`` at most."""
    text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= cap else f"{text[: cap - 1]}…"


def _safe(value: Any) -> Any:
    """A JSON value with every text made safe and every list bounded (see ``safe_text``)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value[:PROBLEMS_CAP]]
    return value


def _answer(status: int, content: dict[str, Any], headers: Any = None) -> JSONResponse:
    return JSONResponse(_safe(content), status_code=status, headers=headers)


def _field(location: Sequence[Any]) -> str:
    """``("body", "facts", "name")`` as ``facts.name``; ``("query", "limit")`` as ``limit``."""
    parts = list(location[1:]) if len(location) > 1 else list(location)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _validation_answer(errors: Sequence[Any]) -> dict[str, Any]:
    """FastAPI's validation problems as kofu's 422: the first named in words, none echoing input."""
    problems: list[dict[str, Any]] = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors[:PROBLEMS_CAP]
    ]
    first: dict[str, Any] = problems[0] if problems else {"loc": [], "msg": "invalid request"}
    field = _field(first["loc"])
    if first.get("type") == "json_invalid":  # its loc is ("body", the offset)
        field = "body"
        first["msg"] = f"not JSON ({errors[0].get('ctx', {}).get('error', 'unreadable')})"
    more = len(errors) - 1
    message = f"{field}: {first['msg']}" + (f" (and {more} more)" if more > 0 else "")
    return {"error": "InvalidInput", "message": message, "field": field, "detail": problems}


def every(seconds: float, job: Callable[[], object], *, at_start: bool = True) -> Any:
    """A lifespan that runs ``job`` every ``seconds`` in the worker, in the thread pool.

    A failing turn (a party down, the store busy) is logged and the job runs
    again at the next turn; it stops with the app.  ``at_start`` runs the
    first turn at once rather than after ``seconds``.
    """

    @asynccontextmanager
    async def running(_: FastAPI) -> AsyncIterator[None]:
        async def loop() -> None:
            if not at_start:
                await asyncio.sleep(seconds)
            while True:
                try:
                    await run_in_threadpool(job)
                except Exception:
                    log.warning("background job failed; it runs again in %s s", seconds)
                await asyncio.sleep(seconds)

        task = asyncio.create_task(loop())
        yield
        task.cancel()

    return running


def caller(request: Request) -> str | None:
    """The common name on the caller's network certificate; None over plain HTTP.

    The server has already checked the certificate against the network CA
    (kofu.core.serve passes it on); this only reads whose it is.
    """
    tls = request.scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return _common_name(chain[0]) if chain else None


@lru_cache(maxsize=64)  # a party has a handful of callers, each on one certificate for months
def _common_name(pem: str) -> str:
    subject = x509.load_pem_x509_certificate(pem.encode()).subject
    names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def check_caller(request: Request, allowed: str, doing: str, staff: bool = False) -> None:
    """Refuse (403 ``caller_not_allowed``) any network certificate but ``allowed``'s.

    With ``staff``, the party's own people and machines get in too: network
    names ``allowed-…`` (``city-112186-counter``), which only whoever keeps
    the network CA can make.  A service started without mutual TLS has no
    caller to check: it was started for one machine's own use (tests, a
    clerk's laptop).
    """
    who = caller(request)
    if who is None or who == allowed or (staff and who.startswith(f"{allowed}-")):
        return
    whose = f"{allowed} and its staff" if staff else allowed
    raise Refused(
        "caller_not_allowed",
        f"only {whose} may {doing}; this network certificate is {who}'s",
        message_ja="システムの接続設定に誤りがあるため、現在交付できません。係員にお知らせください。",
    )


def only(allowed: str, doing: str, staff: bool = False) -> Any:
    """``check_caller`` as a route dependency: ``dependencies=[only("center", "...")]``.

    It never waits for anything, so it runs on the event loop: as a plain
    function FastAPI would send it to the thread pool first, on every request.
    """

    async def check(request: Request) -> None:
        check_caller(request, allowed, doing, staff)

    return Depends(check)


_BY_STATUS: dict[int, type[KofuError]] = {404: NotFound, 409: Conflict, 422: InvalidInput}


def ask(
    client: httpx.Client | Link,
    method: str,
    url: str,
    unavailable: Refused,
    shape: type[dict[str, Any]] | type[list[Any]] = dict,
    **request: Any,
) -> Any:
    """Send one request to another party and read its answer (see ``answer_of``).

    A connection that fails counts as the party being unavailable, as a 5xx does.
    """
    try:
        response = client.request(method, url, **request)
    except (httpx.HTTPError, LinkError) as exc:
        raise unavailable from exc
    return answer_of(response, unavailable, shape)


def answer_of(
    response: httpx.Response | Reply,
    unavailable: Refused,
    shape: type[dict[str, Any]] | type[list[Any]] = dict,
) -> Any:
    """Another party's JSON answer (an object unless ``shape`` says), or its refusal as ours.

    A party that fails (5xx) or answers something that is not kofu's JSON of
    that shape counts as unavailable: the caller gets ``unavailable``, whose
    words a resident can read, never a parser's traceback.
    """
    if response.status_code >= 500:
        raise unavailable
    try:
        data = response.json()
    except ValueError:
        raise unavailable from None
    if response.status_code < 400:
        if not isinstance(data, shape):
            raise unavailable
        return data
    if not isinstance(data, dict):
        raise unavailable
    if response.status_code == 403:
        raise Refused(
            str(data.get("reason", "refused")),
            str(data.get("message", "refused")),
            message_ja=data.get("message_ja"),
        )
    error = _BY_STATUS.get(response.status_code, KofuError)
    raise error(str(data.get("message", data)), field=data.get("field"))
