"""The Alembic environment and the revision files that build the goal-mandala schema."""

from pathlib import Path

SCRIPT_LOCATION = Path(__file__).parent
VERSIONS = SCRIPT_LOCATION / "versions"
