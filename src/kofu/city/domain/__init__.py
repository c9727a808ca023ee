"""Registers and rules of a city, free of storage and HTTP."""
