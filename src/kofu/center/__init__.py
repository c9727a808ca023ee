"""The Certificate Issuance Center (証明書交付センター): authentication, routing, anti-forgery.

Layered as every party: ``domain`` (issuance states, the checks on a city's
answer, session rules, settlement; no SQL, no HTTP), ``services`` (the use
cases over an abstract unit of work), ``adapters`` (its tables, the SQL unit
of work, the links to jpki, juki and the cities, the signer), ``api`` (the
kiosks' and operators' door) and ``bootstrap`` (built from settings).
"""
