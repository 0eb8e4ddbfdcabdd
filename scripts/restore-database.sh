#!/usr/bin/env bash
# Kept for the original operations guide: the same words, handed to mandala-db.
set -euo pipefail
# restore-database.sh list | restore FILE | s3-restore s3://bucket/key
source "$(dirname "${BASH_SOURCE[0]}")/mandala-db.bash"
mandala_db restore "$@"
