#!/usr/bin/env bash
# Install everything and run the whole test suite (the README's second command).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest -n 2 -q "$@"
