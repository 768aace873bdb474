"""GET /metrics: the Prometheus text format, written by prometheus_client from its own registry.

Every value comes from memory: the counters in appliance.metrics.Tally, the printers' cached
status snapshots, the queue summary last published, the access guard's and the event bus's
counts, and a stat() of the database files. A scrape never touches a printer; the only query
is the queue summary, once, when nothing has changed since the start. Over TCP it needs a
token (read scope is enough) unless `[metrics] public = true`; the unix socket needs none.
prometheus_client is imported at the first scrape, so an appliance nobody scrapes does not
carry it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .. import __version__

if TYPE_CHECKING:
    from ..app import Appliance

PRINTER_STATES = ("idle", "printing", "stopped", "offline", "unknown")
JOB_STATES = ("pending", "held", "processing", "stopped")
WAITING_STATES = ("pending", "processing", "stopped")  # queue depth: still to print (held jobs wait for a person)


class ApplianceCollector:
    """A prometheus_client collector reading the appliance's state at each scrape."""

    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self.started = time.time() - (time.monotonic() - appliance.started_monotonic)

    def describe(self) -> list[Any]:
        return []  # nothing to check at registration: the families depend on what is running

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        appliance = self.appliance
        tally = appliance.tally
        names = {printer.id: printer.name for printer in appliance.printers}

        def printer_name(printer_id: str) -> str:
            return names.get(printer_id, printer_id)

        info = GaugeMetricFamily("appliance_info", "The appliance's version", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        yield GaugeMetricFamily("appliance_start_time_seconds", "When the server started (Unix time)",
                                value=self.started)
        yield GaugeMetricFamily("appliance_safe_mode", "1 while in safe mode (queues paused, printers not contacted)",
                                value=1 if appliance.safe_mode else 0)

        jobs = GaugeMetricFamily("appliance_jobs", "Jobs not finished yet, by printer and state",
                                 labels=["printer", "state"])
        depth = GaugeMetricFamily("appliance_queue_depth", "Jobs still to print (pending, processing, stopped)",
                                  labels=["printer"])
        for entry in (tally.queue or {}).get("printers", []):
            counts = entry.get("counts", {})
            for state in JOB_STATES:
                jobs.add_metric([entry["name"], state], counts.get(state, 0))
            depth.add_metric([entry["name"]], sum(counts.get(state, 0) for state in WAITING_STATES))
        yield jobs
        yield depth

        finished = CounterMetricFamily("appliance_jobs_finished", "Jobs that reached an end state since the start",
                                       labels=["printer", "state"])
        for (printer_id, state), count in sorted(tally.jobs_finished.items()):
            finished.add_metric([printer_name(printer_id), state], count)
        yield finished
        labels = CounterMetricFamily("appliance_labels_printed", "Labels printed since the start",
                                     labels=["printer", "media"])
        used = CounterMetricFamily("appliance_media_used_mm", "Length of tape or roll used since the start, in mm",
                                   labels=["printer", "media"])
        for (printer_id, media), count in sorted(tally.labels.items()):
            labels.add_metric([printer_name(printer_id), media], count)
            used.add_metric([printer_name(printer_id), media], round(tally.media_mm.get((printer_id, media), 0.0), 3))
        yield labels
        yield used

        yield from self._printers(GaugeMetricFamily)
        yield self._histogram(HistogramMetricFamily, "appliance_printer_probe_duration_seconds",
                              "Printer status probes (SNMP, or the USB status request), by outcome",
                              ["printer", "outcome"], tally.probes)
        yield self._histogram(HistogramMetricFamily, "appliance_rpc_call_duration_seconds",
                              "JSON-RPC calls (HTTP and WebSocket), by method and outcome; _count is the calls",
                              ["method", "outcome"], tally.rpc)
        yield GaugeMetricFamily("appliance_websocket_subscribers", "WebSocket subscriptions to notifications",
                                value=appliance.events.subscriber_count)
        rate_limited = appliance.access.rate_limited if appliance.access is not None else 0
        yield CounterMetricFamily("appliance_rate_limited", "Requests and calls refused for their rate (-32005)",
                                  value=rate_limited)
        yield GaugeMetricFamily("appliance_database_size_bytes", "The SQLite database with its write-ahead log",
                                value=database_bytes(appliance))

    def _printers(self, gauge: Any) -> Iterator[Any]:
        state = gauge("appliance_printer_state", "1 for the printer's current state, 0 for the others",
                      labels=["printer", "state"])
        age = gauge("appliance_printer_status_age_seconds", "Seconds since the printer's status was last read",
                    labels=["printer"])
        paused = gauge("appliance_printer_paused", "1 while a person has paused the printer's queue",
                       labels=["printer"])
        for printer in self.appliance.printers:
            snapshot = printer.monitor.snapshot
            for each in PRINTER_STATES:
                state.add_metric([printer.name, each], 1 if snapshot.state == each else 0)
            if snapshot.age_s is not None:
                age.add_metric([printer.name], snapshot.age_s)
            paused.add_metric([printer.name], 1 if printer.paused else 0)
        yield state
        yield age
        yield paused

    @staticmethod
    def _histogram(family: Any, name: str, text: str, label_names: list[str], source: dict[Any, Any]) -> Any:
        metric = family(name, text, labels=label_names)
        for key, histogram in sorted(source.items()):
            metric.add_metric(list(key), histogram.cumulative(), histogram.total)
        return metric


def database_bytes(appliance: Appliance) -> int:
    total = 0
    db_path = appliance.settings.db_path
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        try:
            total += path.stat().st_size
        except OSError:
            pass
    return total


class MetricsEndpoint:
    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self._registry: Any = None

    def registry(self) -> Any:
        if self._registry is None:
            from prometheus_client import CollectorRegistry

            self._registry = CollectorRegistry(auto_describe=False)
            self._registry.register(ApplianceCollector(self.appliance))
        return self._registry

    async def handle(self, request: web.Request) -> web.Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        appliance = self.appliance
        if appliance.tally.queue is None and appliance.queue is not None and appliance.db.is_open:
            try:  # nothing published since the start: read the summary once; notifications keep it after
                appliance.tally.queue = await appliance.queue.status()
            except Exception:  # the gauges stay empty; every other metric still answers
                pass
        body = generate_latest(self.registry())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
