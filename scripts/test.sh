#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up, lint, type-check, then pytest
# (SQLite always; PostgreSQL at 127.0.0.1:5432 when one is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests
.venv/bin/ruff format --check src tests
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/pytest -n 2 --dist loadscope --no-loadscope-reorder "$@"
