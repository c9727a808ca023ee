"""The center's use cases: sessions, issuance and its recovery, print confirmation, the books."""
