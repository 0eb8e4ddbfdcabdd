#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# backup-database.sh full|schema|data|all|stats|cleanup|verify [FILE]
exec ${MANDALA_DB:-mandala-db} backup "$@"
