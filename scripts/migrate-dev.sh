#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# migrate-dev.sh [NAME]   e.g. migrate-dev.sh init
exec ${MANDALA_DB:-mandala-db} migrate dev "$@"
