"""What every party refuses before a route sees the request: too large a body, unstorable text.

``RequestGuard`` is ASGI middleware (``party_app`` puts it on every service):

- a body larger than the path's limit (1 MiB unless the app says more for a
  path) is answered 413 ``body_too_large`` without reaching the app, whether
  the client declared its length or streams it in chunks;
- JSON text carrying NUL (``\\u0000``) or a lone surrogate (``\\ud800``),
  which no store can keep and no certificate can print, is answered 422
  naming the field, as is a NUL in the path or query.

Both answers are small JSON bodies in kofu's error shape, so a caller never
has to read a traceback or an echo of what it sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from kofu.core.text import first_text

__all__ = ["MiB", "RequestGuard", "json_answer", "unstorable_character"]

MiB = 1024 * 1024
DRAIN = 16 * MiB  # a refused body is read (and dropped) up to this, so the client sees the 413

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")  # JSON escapes that may decode to bad text
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # after json.loads a valid pair is one character


def json_answer(status: int, content: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The ASGI start and body of a small JSON answer (ASCII: it never fails to encode)."""
    body = json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {"type": "http.response.start", "status": status, "headers": headers}, body


def unstorable_character(text: str) -> str | None:
    """``NUL`` or ``a lone surrogate`` when ``text`` holds one (no store keeps either)."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    return "NUL (\\u0000)" if char == "\x00" else f"a lone surrogate (\\u{ord(char):04x})"


def _is_json(scope: Scope) -> bool:
    """FastAPI reads a body as JSON when it says so, or says nothing about its type."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind = bytes(value).split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return True


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestGuard:
    """ASGI middleware: a bounded body of storable text, or a small 4xx answer (see the module)."""

    def __init__(
        self, app: ASGIApp, limit: int = MiB, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app, self.limit, self.larger = app, limit, dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.limit)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _drain(receive)
            await _too_large(send, limit)
            return
        body = await _read(receive, limit)
        if body is None:  # more than the limit arrived, or the client left
            await _drain(receive)
            await _too_large(send, limit)
            return
        problem = _unstorable(scope, body)
        if problem is not None:
            await _send(send, 422, problem)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it passes ``limit`` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _drain(receive: Receive) -> None:
    """Read what the client still sends (up to ``DRAIN``), so it is listening for the answer."""
    size, more = 0, True
    while more and size < DRAIN:
        message = await receive()
        if message["type"] != "http.request":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body already read, then the client's own messages."""
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


def _unstorable(scope: Scope, body: bytes) -> dict[str, str] | None:
    """kofu's 422 for NUL or a lone surrogate in the path, query or JSON body; else None."""
    if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
        where = "path" if "\x00" in scope["path"] else "query"
        return _refusal(where, "NUL (%00)")
    if not _is_json(scope) or not _SUSPECT.search(body):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # not JSON: the app's own validation answers it
    found = first_text(data, unstorable_character)
    if found is None:
        return None
    where, what = found
    return _refusal("body" if where == "value" else where, what)  # "value": the body is text


def _refusal(field: str, what: str) -> dict[str, str]:
    return {
        "error": "InvalidInput",
        "reason": "unstorable_text",
        "message": f"{field}: text may not contain {what}; no store can keep it",
        "field": field,
    }


async def _too_large(send: Send, limit: int) -> None:
    await _send(
        send,
        413,
        {
            "error": "TooLarge",
            "reason": "body_too_large",
            "message": f"the request body is over {limit} bytes, the most this path takes",
            "limit": limit,
        },
    )


async def _send(send: Send, status: int, content: dict[str, Any]) -> None:
    start, body = json_answer(status, content)
    await send(start)
    await send({"type": "http.response.body", "body": body})
