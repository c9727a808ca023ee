"""The dashboard page (HTML, autoescaped): the month-by-month indicators of the activity log."""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape

__all__ = ["dashboard_page"]


_template = Environment(autoescape=select_autoescape(default_for_string=True)).from_string(
    (resources.files("kofu.city.api") / "dashboard.html.j2").read_text(encoding="utf-8")
)


def dashboard_page(view: dict[str, Any]) -> str:
    return _template.render(d=view)
