"""`mandala-db drill`: recovery rehearsed and measured. The newest good backup (local or remote) is fetched,
proved (sha256 and a full read), restored into a scratch database (never the live one) in the checked
transaction restores use, then checked (the data check and the reads the application depends on), and
optionally used to rehearse the next deploy. RTO is measured by phase, RPO from the backup's end; every
drill is recorded in a history beside the backups. The scratch database goes whatever happens; one left by
a killed drill is found and dropped by the next."""

from __future__ import annotations

from mandala_db.ops.drill.history import HISTORY_FILE, freshness, history, newest_good_full, record
from mandala_db.ops.drill.result import DrillResult, report_markdown
from mandala_db.ops.drill.run import drill, drop_leftovers

__all__ = ["HISTORY_FILE", "DrillResult", "drill", "drop_leftovers", "freshness", "history", "newest_good_full",
           "record", "report_markdown"]  # fmt: skip
