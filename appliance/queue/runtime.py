"""A configured printer at run time: model, media, status monitor, transport, queue worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..config import PrinterSettings, QueueSettings
from ..labels.geometry import Canvas
from ..printer.identity import printer_id
from ..printer.media import Media, media_for, media_table
from ..printer.models import Model, get_model
from ..printer.monitor import StatusMonitor, StatusSnapshot, port_open, snmp_prober, transport_prober
from ..printer.status import MEDIA_NOUN, worded
from ..printer.transport import Transport, open_transport
from ..reasons import describe


@dataclass(eq=False)
class PrinterRuntime:
    name: str
    model: Model
    uri: str  # identity, shown to people
    connect_uri: str  # where the bytes go (differs only for the embedded virtual printer)
    configured_media: Media | None
    settings: PrinterSettings
    queue_settings: QueueSettings
    monitor: StatusMonitor
    virtual: bool = False
    paused: bool = False
    worker: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = printer_id(self.model.name, self.uri)  # on every status call: compute it once

    def transport(self) -> Transport:
        q = self.queue_settings
        return open_transport(self.connect_uri, connect_timeout=q.connect_timeout_s, write_timeout=q.write_timeout_s)

    @property
    def writes_to_file(self) -> bool:
        """A file:// printer: nothing prints, so a job is done once the file has it."""
        return self.connect_uri.startswith("file:")

    @property
    def confirms_labels(self) -> bool:
        """A USB printer: it sends a "printing completed" block per label (its raster asks it to), which the
        queue reads while it writes (queue/usb_follow.py). One that answers no status is judged by time."""
        return self.connect_uri.startswith("usb:")

    @property
    def family(self) -> str:
        """Whose words its reasons are said in (tape cassettes or DK rolls): the configured model's family,
        or the family a status block reports at its address, should that be another (model-mismatch)."""
        return self.monitor.snapshot.family or self.model.family

    @property
    def source(self) -> str:
        """Where it was set up: "configuration" (the file), "added" (printer.add) or "virtual"."""
        return "virtual" if self.virtual else "added" if "added" in self.extra else "configuration"

    def current_media(self) -> Media | None:
        return self.monitor.snapshot.media

    def media_named(self, media_id: str) -> Media:
        return media_for(self.model, media_id)

    def capabilities(self) -> dict[str, Any]:
        m = self.model
        return {
            "family": m.family,
            "head_pins": m.head_pins,
            "dpi": m.dpi,
            "high_res": m.high_res,
            "high_res_dpi": m.high_res_dpi,
            "needs_compression": m.needs_compression,
            "cut_every": m.supports_cut_every,
            "half_cut": m.supports_half_cut,
            "chain": m.supports_chain,
            "status_over_tcp": m.answers_status_request_tcp,
            "status_over_snmp": self.settings.snmp.enabled and self.connect_uri.startswith("tcp://"),
            "media": sorted(media_table(m)),
        }

    def status_wire(self, snapshot: StatusSnapshot | None = None) -> dict[str, Any]:
        """printer.status and its notification. `probe_interval_s` (None: never probed) lets a client
        that keeps the status tell when it is due for a newer one: changes are announced, probes not."""
        wire = {"printer_id": self.id, "name": self.name, "paused": self.paused,
                "queue_stopped": self.queue_stopped(), **(snapshot or self.monitor.snapshot).to_wire()}
        wire["probe_interval_s"] = self.monitor.interval if self.monitor.prober is not None else None
        return wire

    def queue_stopped(self) -> dict[str, str] | None:
        """Why the queue worker sends nothing more until a restart (a damaged database), or None."""
        halted = getattr(self.worker, "halted", None)
        return {"reason": halted, "description": describe(halted, self.family)} if halted else None

    def to_wire(self) -> dict[str, Any]:
        media = self.current_media()
        return {
            "id": self.id,
            "name": self.name,
            "model": self.model.name,
            "uri": self.uri,
            "virtual": self.virtual,
            "source": self.source,
            "media": media.id if media else None,
            **self.monitor.snapshot.media_words(self.family),
            "configured_media": self.configured_media.id if self.configured_media else None,
            "paused": self.paused,
            "state": self.monitor.snapshot.state,
            "capabilities": self.capabilities(),
        }


def canvas_for(media: Media, *, high_res: bool = False) -> Canvas:
    """The renderer's view of a medium: printable pins, resolutions, length limits."""
    shortest, longest = media.length_limits_dots(high_res)
    return Canvas(
        printable_px=media.printable_pins,
        dpi_feed=media.feed_dpi(high_res),
        dpi_head=media.dpi,
        tape_width_mm=media.width_mm,
        min_length_px=shortest,
        max_length_px=longest,
        fixed_length_px=longest if media.is_die_cut else None,
        media_id=media.id,
        media_noun="labels" if media.is_die_cut else worded(MEDIA_NOUN, media.family),
    )


def build(settings: PrinterSettings, queue: QueueSettings, *, connect_uri: str | None = None,
          snmp_port: int | None = None, virtual: bool = False) -> PrinterRuntime:
    """Raises ValueError (UnknownModelError, MediaError) naming what is wrong in the printer's config."""
    model = get_model(settings.model)
    media = media_for(model, settings.media) if settings.media else None
    target = connect_uri or settings.uri
    prober = None
    parsed = urlparse(target)
    if settings.snmp.enabled and parsed.scheme == "tcp":
        snmp = settings.snmp
        prober = snmp_prober(snmp.host or parsed.hostname or "127.0.0.1", port=snmp_port or snmp.port,
                             community=snmp.community, timeout=snmp.timeout, retries=snmp.retries,
                             version=snmp.version)
    elif parsed.scheme == "usb":
        prober = transport_prober(open_transport(target).request_status)
    reachable = None
    if prober is not None and parsed.scheme == "tcp":
        reachable = port_open(parsed.hostname or "127.0.0.1", parsed.port or 9100, timeout=1.0)
    monitor = StatusMonitor(model, media, prober, interval=settings.poll_interval_s,
                            busy_interval=settings.busy_poll_interval_s, offline_after=settings.offline_after,
                            probe_while_busy=parsed.scheme != "usb", reachable=reachable)
    return PrinterRuntime(settings.name, model, settings.uri, target, media, settings, queue, monitor,
                          virtual=virtual)
