#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# migrate-status.sh [status|schema|history|all|test]
exec ${MANDALA_DB:-mandala-db} migrate status "$@"
