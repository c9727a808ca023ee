"""kofu."""
