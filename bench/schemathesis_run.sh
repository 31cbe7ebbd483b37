#!/usr/bin/env bash
# Schemathesis over every operation of the live API's /api/schema/ (see bench/schemathesis_run.py).
# Needs PostgreSQL (DATABASE_URL) and `.venv/bin/pip install schemathesis`. For .ci/run:
#   .venv/bin/pip install schemathesis && bench/schemathesis_run.sh --max-examples 20 --max-time 900
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/schemathesis_run.py "$@"
