"""Who may send to, and read from, each Juki-net server (the rules behind every 403)."""

from __future__ import annotations

from kofu.juki.domain.network import Role, agency_purposes

PREF_11 = Role("prefecture", "11")
NATIONAL = Role("national")
DIRECT = Role("national", direct=True)


def test_a_prefecture_server_takes_only_its_own_cities_each_as_itself() -> None:
    assert PREF_11.may_send("city-112186", "city-112186")
    assert not PREF_11.may_send("city-112186", "city-112011")  # as another city
    assert not PREF_11.may_send("city-032051", "city-032051")  # of another prefecture
    assert not PREF_11.may_send("juki-pref-11", "pref-11")  # a prefecture sends upward only
    assert not PREF_11.may_send("center", "city-112186")


def test_the_national_server_takes_prefectures_and_cities_only_when_alone() -> None:
    assert NATIONAL.may_send("juki-pref-11", "pref-11")
    assert not NATIONAL.may_send("juki-pref-03", "pref-11")
    assert not NATIONAL.may_send("city-112186", "city-112186")
    assert DIRECT.may_send("city-112186", "city-112186")
    assert not DIRECT.may_send("center", "pref-11")


def test_a_city_s_records_are_shown_to_it_and_its_prefecture_only() -> None:
    assert PREF_11.may_read_city("city-112186", "112186")
    assert not PREF_11.may_read_city("city-112011", "112186")
    assert not PREF_11.may_read_city("city-032051", "032051")  # not held here at all
    assert NATIONAL.may_read_city("juki-pref-03", "032051")
    assert not NATIONAL.may_read_city("juki-pref-11", "032051")
    assert not NATIONAL.may_read_city("center", "032051")


def test_only_named_agencies_have_purposes() -> None:
    assert "pension-benefit" in (agency_purposes("agency-japan-pension-service") or {})
    assert agency_purposes("agency-nobody") is None
    assert agency_purposes("japan-pension-service") is None  # not an agency's certificate name
    assert agency_purposes(None) is None
