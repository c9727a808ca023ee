"""The wide-area part of `kofu bench juki`: real processes, two prefectures, answers checked."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kofu.bench.wide_area import HOME, ISSUING, _wrong, bench_wide_area
from kofu.core.settings import Settings

KEYS = {"certificates", "seconds", "per_second", "p50_ms", "p99_ms", "errors", "clients"}


@pytest.mark.slow  # five services start: 18-45 s on two shared cores
def test_wide_area_certificates_cross_two_prefectures_without_errors(tmp_path: Path) -> None:
    conf = Settings(home=tmp_path, database_url=None, schema_prefix="")
    result = bench_wide_area(conf, certificates=6, clients=2, residents=60, seconds=90)
    assert result["errors"] == 0, result.get("first_error") or result.get("skipped")
    assert result["certificates"] > 0
    assert result.keys() >= KEYS
    assert (result["issuing_city"], result["home_city"]) == (ISSUING, HOME)
    assert ISSUING[:2] != HOME[:2]  # the question crosses the national server


def _done(pdf: bytes, subjects: tuple[str, ...], home: str = HOME) -> SimpleNamespace:
    certificate = SimpleNamespace(pdf=pdf, subjects=subjects)
    return SimpleNamespace(
        certificate=certificate, home_city=home, issuing_city=ISSUING, reprint=False
    )


def test_a_certificate_is_checked_for_its_paper_city_and_subjects() -> None:
    household = frozenset({"a", "b"})
    assert _wrong(_done(b"%PDF-1.4 ...", ("b", "a")), household) is None
    assert "PDF" in str(_wrong(_done(b"<html>", ("a", "b")), household))
    assert "subjects" in str(_wrong(_done(b"%PDF-1.4", ("a",)), household))
    assert "answered by" in str(_wrong(_done(b"%PDF-1.4", ("a", "b"), ISSUING), household))
