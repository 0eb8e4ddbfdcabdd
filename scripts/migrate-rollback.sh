#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# migrate-rollback.sh list | to REV | reset
exec ${MANDALA_DB:-mandala-db} migrate rollback "$@"
