"""The center's status page (稼働状況) for the operator: alarms first, then the issuance log.

Server-rendered, no script: it reloads itself every 15 seconds.  An alarm
means issuance for that city is stopped until the operator has looked into
it, so it is the first thing on the page, in red.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["render_status"]

_STATES = {
    "requested": "要求中 requested",
    "rendered": "印刷待ち rendered",
    "printed": "交付済 printed",
    "voided": "取消 voided",
}

_STYLE = """
body{font-family:'IPAexGothic',sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #999;padding:.3em .8em;text-align:left} td.n{text-align:right}
#alarm{background:#b00020;color:#fff;padding:1em;font-weight:bold}
#ok{background:#e6f4ea;padding:1em}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _alarms(status: dict[str, Any]) -> str:
    if not status["alarms"]:
        return '<p id="ok">警報なし — 全市区町村で交付中 (no alarms)</p>'
    stopped = "、".join(_e(c) for c in status["stopped_cities"]) or "なし none"
    rows = "".join(
        f"<tr><td>{_e(a['at'])}</td><td>{_e(a['city'])}</td><td>{_e(a['kind'])}</td>"
        f"<td>{_e(a['detail'])}</td></tr>"
        for a in status["alarms"]
    )
    return (
        f'<p id="alarm">警報 {len(status["alarms"])} 件 — 交付停止中: {stopped} '
        f"(issuance stopped)</p>"
        f'<table id="alarms"><tr><th>日時 at</th><th>市区町村 city</th><th>種別 kind</th>'
        f"<th>内容 detail</th></tr>{rows}</table>"
    )


def _log(status: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_e(_STATES.get(state, state))}</td><td class='n' id='state-{_e(state)}'>"
        f"{count}</td></tr>"
        for state, count in sorted(status["issuances"].items())
    )
    cities = "".join(
        f"<tr><td>{_e(r['city'])}</td><td>{_e(_STATES.get(r['state'], r['state']))}</td>"
        f"<td class='n'>{r['count']}</td></tr>"
        for r in status["per_city"]
    )
    return (
        f'<h2>交付記録 issuance log</h2><table id="states"><tr><th>状態 state</th>'
        f"<th>件数 count</th></tr>{rows}</table>"
        f'<h2>市区町村別 per city</h2><table id="cities"><tr><th>市区町村 city</th>'
        f"<th>状態 state</th><th>件数 count</th></tr>{cities}</table>"
        f"<p>印刷確認の期限 print confirmation timeout: {status['print_timeout_seconds']} s</p>"
    )


def render_status(status: dict[str, Any]) -> str:
    """The whole page for one reading of ``CenterService.status``."""
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="15">'
        f"<title>証明書交付センター 稼働状況</title><style>{_STYLE}</style></head><body>"
        f"<h1>証明書交付センター 稼働状況 <small>issuance center status</small></h1>"
        f"<p>{_e(status['now'])}</p>{_alarms(status)}{_log(status)}</body></html>"
    )
