"""The center's page for the operator (稼働状況): alarms first, then the issuance log to search.

Server-rendered, no script and no reload of its own: the operator searches
the log (by time, city, store chain and state) with a plain form, and the
page is read again by asking again.  An alarm means issuance for that city
is stopped until the operator has looked into it, so it is the first thing
on the page, in red.  A supervisor's page has, beside each stopped city, a
form to resume it with the reason (a plain POST, then back to the page);
every resume is listed with who, when and why.  Cities are shown by name
and code (「深谷市 (112186)」), the names as the cities' /health gives them;
a city that does not answer its /health now is named at the top, so the
operator knows why its residents cannot be served before any alarm says so.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kofu.center.domain.issuance import Issuance
from kofu.center.domain.log import STATES, LogQuery
from kofu.core.clock import JST

__all__ = ["render_status"]

_STATES = {
    "requested": "要求中 requested",
    "rendered": "印刷待ち rendered",
    "printed": "交付済 printed",
    "voided": "取消 voided",
}

_STYLE = """
body{font-family:'IPAexGothic',sans-serif;margin:1em 1.5em;color:#222}
h1{font-size:1.4em} table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}
td,th{word-break:keep-all}
td.n{text-align:right} .nowrap{white-space:nowrap} table.wide{width:100%} #log{font-size:.9em}
#alarm{background:#b00020;color:#fff;padding:1em;font-weight:bold}
#ok{background:#e6f4ea;padding:1em}
#silent{background:#fff4e5;border:2px solid #8a4b00;color:#222;padding:1em}
form label{margin-right:1em} input,select,button{font-size:1em;min-height:2em}
.stopped{border:2px solid #b00020;padding:.5em 1em;margin:.5em 0}
textarea{font-size:1em;width:30em;max-width:100%}
"""

Names = Mapping[str, str]  # a city's name by its code


def _e(value: object) -> str:
    return html.escape(str(value))


def _when(instant: str) -> str:
    """An ISO instant as the operator reads it, in JST (the ISO form wraps badly and says UTC)."""
    try:
        at = datetime.fromisoformat(instant)
    except ValueError:
        return _e(instant)
    shown = at.astimezone(JST) if at.tzinfo is not None else at
    return f'<time datetime="{_e(instant)}">{shown.strftime("%Y-%m-%d %H:%M:%S")}</time>'


def _city(code: str, names: Names) -> str:
    """「深谷市 (112186)」, or the code alone when the city's name is not known."""
    name = names.get(code)
    return _e(f"{name} ({code})" if name and name != code else code)


def _alarms(status: dict[str, Any], names: Names, supervisor: bool) -> str:
    if not status["alarms"]:
        return '<p id="ok">警報なし — 全市区町村で交付中 (no alarms)</p>'
    stopped = status["stopped_cities"]
    rows = "".join(
        f"<tr><td class='nowrap'>{_when(a['at'])}</td><td>{_city(a['city'], names)}</td>"
        f"<td>{_e(a['kind'])}</td>"
        f"<td>{_e(a['detail'])}</td></tr>"
        for a in status["alarms"]
    )
    if stopped:
        cities = "、".join(_city(c, names) for c in stopped)
        banner = (
            f'<p id="alarm">警報 {len(status["alarms"])} 件 — 交付停止中: {cities} '
            f"(issuance stopped)</p>"
        )
    else:
        banner = '<p id="ok">交付停止なし — 全市区町村で交付中 (every alarm resumed)</p>'
    return (
        banner
        + "".join(_stopped(c, names, supervisor) for c in stopped)
        + '<h2>警報 alarms</h2><table id="alarms" class="wide"><tr><th>日時 at (JST)</th>'
        + "<th>市区町村 city</th>"
        + f"<th>種別 kind</th><th>内容 detail</th></tr>{rows}</table>"
        + _resumes(status.get("resumes", []), names)
    )


def _stopped(code: str, names: Names, supervisor: bool) -> str:
    """A stopped city; on a supervisor's page, the form that resumes it with the reason."""
    head = f'<div class="stopped" id="stopped-{_e(code)}"><p>{_city(code, names)} 交付停止中</p>'
    if not supervisor:
        return head + "<p>再開は監督者のみ (only a supervisor resumes a city)</p></div>"
    request_id = f"resume-{secrets.token_hex(12)}"  # a form sent twice resumes once
    return (
        head + f'<form class="resume" method="post" action="/alarms/{_e(code)}/resume/form">'
        f'<input type="hidden" name="request_id" value="{request_id}">'
        f'<label for="reason-{_e(code)}">再開の理由 reason</label><br>'
        f'<textarea id="reason-{_e(code)}" name="reason" rows="2" required maxlength="500">'
        "</textarea><br>"
        f'<button type="submit" id="resume-{_e(code)}">交付を再開 resume</button></form></div>'
    )


def _resumes(resumes: Sequence[dict[str, Any]], names: Names) -> str:
    if not resumes:
        return ""
    rows = "".join(
        f"<tr><td class='nowrap'>{_when(r['at'])}</td><td>{_city(r['city'], names)}</td>"
        f"<td>{_e(r['operator'] or '(local)')}</td><td>{_e(r['reason'])}</td></tr>"
        for r in resumes
    )
    return (
        '<h2>交付再開 resumes</h2><table id="resumes" class="wide"><tr><th>日時 at (JST)</th>'
        f"<th>市区町村 city</th><th>再開者 who</th><th>理由 reason</th></tr>{rows}</table>"
    )


def _counts(status: dict[str, Any], names: Names) -> str:
    rows = "".join(
        f"<tr><td>{_e(_STATES.get(state, state))}</td><td class='n' id='state-{_e(state)}'>"
        f"{count}</td></tr>"
        for state, count in sorted(status["issuances"].items())
    )
    cities = "".join(
        f"<tr><td>{_city(r['city'], names)}</td><td>{_e(_STATES.get(r['state'], r['state']))}</td>"
        f"<td class='n'>{r['count']}</td></tr>"
        for r in status["per_city"]
    )
    return (
        f'<h2>件数 counts</h2><table id="states"><tr><th>状態 state</th>'
        f"<th>件数 count</th></tr>{rows}</table>"
        f'<h2>市区町村別 per city</h2><table id="cities"><tr><th>市区町村 city</th>'
        f"<th>状態 state</th><th>件数 count</th></tr>{cities}</table>"
        f"<p>印刷確認の期限 print confirmation timeout: {status['print_timeout_seconds']} s</p>"
    )


def _field(name: str, label: str, value: str | datetime | None, kind: str = "text") -> str:
    if isinstance(value, datetime):
        shown = value.astimezone(JST).strftime("%Y-%m-%dT%H:%M")
    else:
        shown = value or ""
    return (
        f'<label>{label} <input type="{kind}" name="{name}" id="q-{name}" '
        f'value="{_e(shown)}"></label>'
    )


def _search(query: LogQuery) -> str:
    states = "".join(
        f'<option value="{s}"{" selected" if query.state == s else ""}>{_e(_STATES[s])}</option>'
        for s in STATES
    )
    return (
        '<h2>交付記録 issuance log</h2><form id="search" method="get" action="/">'
        + _field("since", "から from (JST)", query.since, "datetime-local")
        + _field("until", "まで until (JST)", query.until, "datetime-local")
        + _field("city", "市区町村 city", query.city)
        + _field("chain", "チェーン chain", query.chain)
        + '<label>状態 state <select name="state" id="q-state"><option value="">すべて any'
        + f"</option>{states}</select></label>"
        + '<button type="submit">検索 search</button></form>'
    )


def _entries(entries: Sequence[Issuance], names: Names) -> str:
    if not entries:
        return '<p id="log-empty">該当なし (no entries)</p>'
    rows = "".join(
        f"<tr><td class='nowrap'>{_when(i.created_at.isoformat())}</td>"
        f"<td class='nowrap'>{_e(i.request_id)}</td><td>{_city(i.city, names)}</td>"
        f"<td>{_e(i.chain)}</td>"
        f"<td>{_e(i.store)}</td><td>{_e(i.certificate)}</td><td class='n'>{i.copies}</td>"
        f"<td class='n'>{i.fee}</td><td>{_e(_STATES.get(i.state, i.state))}</td>"
        f"<td>{_e(i.reason or '')}</td></tr>"
        for i in entries
    )
    return (
        '<table id="log" class="wide"><tr><th>日時 created (JST)</th><th>要求 request</th>'
        "<th>市区町村 city</th><th>チェーン chain</th><th>店舗 store</th>"
        "<th>証明書 certificate</th><th>部数 copies</th><th>手数料 fee</th>"
        f"<th>状態 state</th><th>理由 reason</th></tr>{rows}</table>"
    )


def _silent(health: Mapping[str, str | None]) -> str:
    """The cities that did not answer their /health just now, by code, or nothing."""
    silent = [code for code, name in health.items() if name is None]
    if not silent:
        return ""
    cities = "、".join(_e(code) for code in silent)
    return (
        f'<p id="silent" role="status">応答のない市区町村: {cities} — 交付できません '
        "(not answering: no certificates from these cities now)</p>"
    )


def render_status(
    status: dict[str, Any],
    query: LogQuery | None = None,
    entries: Sequence[Issuance] = (),
    *,
    supervisor: bool = False,
    health: Mapping[str, str | None] | None = None,
) -> str:
    """The whole page for one reading of ``CenterService.status`` and one search of the log.

    ``supervisor``: the reader may resume a stopped city (the form is shown);
    ``health``: each connected city's name by its code, None when it does not answer.
    """
    query = query or LogQuery()
    health = health or {}
    names = {code: name for code, name in health.items() if name}
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>証明書交付センター 稼働状況</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>証明書交付センター 稼働状況 <small>issuance center status</small></h1>"
        f"<p>{_when(status['now'])} JST</p></header><main>{_silent(health)}"
        f"{_alarms(status, names, supervisor)}{_search(query)}"
        f"{_entries(entries, names)}{_counts(status, names)}</main></body></html>"
    )
