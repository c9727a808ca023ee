#!/usr/bin/env bash
# The main job on a fresh machine: set up, then run kofu on its embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kofu up "$@"
