"""Benchmarks (``kofu bench``): measured figures, each with the command that reproduces it."""
