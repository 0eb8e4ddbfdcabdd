#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# migrate-prod.sh [--dry-run] [--yes]
exec ${MANDALA_DB:-mandala-db} migrate prod "$@"
