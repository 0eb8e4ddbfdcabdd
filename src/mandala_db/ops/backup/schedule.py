"""`backup schedule --print cron|systemd`: the guide's 定期バックアップ and 訓練 for a server: a nightly
backup and a weekly drill, as a crontab or as systemd service and timer units. Secrets stay in an
environment file (never in the units or the crontab)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ENV_FILE = "/etc/mandala-db.env"  # DATABASE_URL, S3_BACKUP_BUCKET, AWS_* ..., mode 600


@dataclass(frozen=True)
class Job:
    name: str
    what: str
    args: str
    cron: str  # minute hour day month weekday
    on_calendar: str  # systemd


JOBS = (
    Job("mandala-db-backup", "nightly full backup, uploaded and checked on S3 when S3_BACKUP_BUCKET is set",
        "backup full", "30 2 * * *", "*-*-* 02:30:00"),
    Job("mandala-db-drill", "weekly recovery drill of the newest backup", "drill --max-backup-age 26h --report drill-report.md",
        "0 4 * * 0", "Sun *-*-* 04:00:00"),
)  # fmt: skip


def cron(workdir: Path, program: Path) -> str:
    lines = [f"# mandala-db: the environment comes from {ENV_FILE} (DATABASE_URL and the rest, mode 600)"]
    for job in JOBS:
        lines.append(f"# {job.what}")
        lines.append(
            f"{job.cron} cd {workdir} && set -a && . {ENV_FILE} && set +a && "
            f"{program} --log-format json {job.args} >> /var/log/{job.name}.log 2>&1"
        )
    return "\n".join(lines) + "\n"


def systemd(workdir: Path, program: Path, user: str = "mandala") -> dict[str, str]:
    """File name -> content: a oneshot service and its timer for each job."""
    units = {}
    for job in JOBS:
        units[f"{job.name}.service"] = (
            f"[Unit]\nDescription=mandala-db: {job.what}\nWants=network-online.target\n"
            f"After=network-online.target\n\n"
            f"[Service]\nType=oneshot\nUser={user}\nWorkingDirectory={workdir}\nEnvironmentFile={ENV_FILE}\n"
            f"Environment=MANDALA_LOG_FORMAT=json\nExecStart={program} {job.args}\nNoNewPrivileges=yes\n"
            f"PrivateTmp=yes\nProtectSystem=full\n"
        )
        units[f"{job.name}.timer"] = (
            f"[Unit]\nDescription=mandala-db: {job.what} (schedule)\n\n"
            f"[Timer]\nOnCalendar={job.on_calendar}\nPersistent=true\nRandomizedDelaySec=5min\n\n"
            f"[Install]\nWantedBy=timers.target\n"
        )
    return units
