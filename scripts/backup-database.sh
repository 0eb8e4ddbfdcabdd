#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# backup-database.sh full|schema|data|all|stats|cleanup|verify [FILE]
source "$(dirname "${BASH_SOURCE[0]}")/mandala-db.bash"
mandala_db backup "$@"
