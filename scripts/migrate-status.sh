#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# migrate-status.sh [status|schema|history|all|test]
source "$(dirname "${BASH_SOURCE[0]}")/mandala-db.bash"
mandala_db migrate status "$@"
