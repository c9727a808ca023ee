"""End-to-end fixtures."""

from conftest_e2e import system

__all__ = ["system"]
