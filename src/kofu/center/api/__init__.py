"""The center over HTTP."""
