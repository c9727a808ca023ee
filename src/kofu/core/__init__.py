"""Shared core: identifiers, era dates, the clock, errors and storage helpers."""
