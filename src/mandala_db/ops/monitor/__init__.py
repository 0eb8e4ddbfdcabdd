"""Metrics, alerts and log shipping, all sinks of the one event stream (core.events): `Monitor` builds the
sinks the settings ask for and flushes them when the command ends. A sink that fails never fails the
command: each delivery runs under one overall deadline (`bounded`), whatever the sink does (a server
that accepts and never answers, one that drips a byte a second, retries of a client library), and costs
at most that deadline and one warning record; a sink that failed once is not tried again in the run."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mandala_db.core.events import Sink, bus
from mandala_db.core.settings import MonitorSettings
from mandala_db.ops.monitor.deadline import bounded, socket_timeout


class Monitor:
    def __init__(
        self,
        settings: MonitorSettings,
        *,
        environment: str,
        command: str,
        database: Callable[[], str],
        state_dir: Path | None,
        stdout_taken: bool,
    ) -> None:
        self.settings = settings
        self.sinks: list[Sink] = []
        self._flushes: list[tuple[str, Callable[[], None]]] = []
        self._files: list[Any] = []
        wanted = set(settings.metrics)
        if settings.pushgateway:
            wanted.add("prometheus")
        prometheus_file = settings.metrics_file if "prometheus" in wanted else None
        if "emf" in wanted:
            self._emf(command, stdout_taken, textfile_taken=prometheus_file is not None)
        if "prometheus" in wanted:
            self._prometheus(environment, command, prometheus_file)
        if "cloudwatch" in wanted:
            from mandala_db.ops.monitor.cloudwatch import CloudWatchSink

            cw = CloudWatchSink(settings.namespace, settings.log_group, environment, command, bus.run_id)
            self.sinks.append(cw)
            self._flushes.append(("CloudWatch", lambda: cw.flush(socket_timeout(settings.alert_timeout))))
        if settings.alerting:
            from mandala_db.ops.monitor.alerts import AlertSink

            state = state_dir / "alert-state.json" if state_dir else None
            self.sinks.append(
                AlertSink(
                    settings, database=database, environment=environment, command=command, state_file=state
                )
            )

    def _emf(self, command: str, stdout_taken: bool, *, textfile_taken: bool) -> None:
        from mandala_db.ops.monitor.emf import EmfSink

        settings = self.settings
        stream: Any = None
        if settings.metrics_file and not textfile_taken:
            try:
                stream = settings.metrics_file.open("a", encoding="utf-8")
                self._files.append(stream)
            except OSError as exc:  # a metrics file that cannot be written never fails the command
                bus.warning("metrics_failed", f"EMF: {settings.metrics_file} cannot be written: "
                            f"{exc.strerror}; no EMF records this run")  # fmt: skip
        else:
            # The --json document owns stdout; EMF moves to stderr then (Lambda ships both).
            stream = sys.stderr if stdout_taken else sys.stdout
        if stream is not None:
            self.sinks.append(EmfSink(stream, settings.namespace, command))

    def _prometheus(self, environment: str, command: str, textfile: Path | None) -> None:
        from mandala_db.ops.monitor.prometheus import PrometheusSink

        settings = self.settings
        prom = PrometheusSink(environment, command)
        self.sinks.append(prom)
        if textfile is not None:
            self._flushes.append(("Prometheus textfile", lambda: prom.write_textfile(textfile)))
        if settings.pushgateway:
            gateway = settings.pushgateway
            self._flushes.append(
                ("Pushgateway", lambda: prom.push(gateway, socket_timeout(settings.alert_timeout)))
            )

    def finish(self) -> None:
        """Write and push what was collected, each sink within its deadline; a failure is one warning."""
        for name, flush in self._flushes:
            bounded(name, self.settings.alert_timeout, flush)
        for f in self._files:
            with contextlib.suppress(OSError):  # its failure was said when a write failed
                f.close()
