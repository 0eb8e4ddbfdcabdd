# Sourced by the guide's wrappers: which mandala-db to run. $MANDALA_DB when set (a command line, e.g.
# "python -m mandala_db"); else the project's own virtualenv beside these scripts, so the wrappers work
# right after `make demo` without an activated venv; else whatever `mandala-db` is on PATH.
mandala_db() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  if [ -n "${MANDALA_DB:-}" ]; then
    # shellcheck disable=SC2086 # a command line, split on purpose
    exec ${MANDALA_DB} "$@"
  elif [ -x "$here/../.venv/bin/mandala-db" ]; then
    exec "$here/../.venv/bin/mandala-db" "$@"
  elif command -v mandala-db >/dev/null; then
    exec mandala-db "$@"
  fi
  echo "mandala-db is not installed: run \`make demo\` (or \`make install\`) in $(dirname "$here"), or set MANDALA_DB" >&2
  exit 127
}
