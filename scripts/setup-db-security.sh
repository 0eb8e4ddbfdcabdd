#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# setup-db-security.sh check|recommend|audit|all|apply-roles [options]
source "$(dirname "${BASH_SOURCE[0]}")/mandala-db.bash"
mandala_db security "$@"
