"""One status loop per printer and its in-memory cache.

Probes every `interval` seconds (every `busy_interval` while a job prints), keeps the
last answer with its time, and after `offline_after` failures in a row says the
printer is offline while keeping its last known media. Callers read `snapshot`
(never waiting for the printer) and get `on_change` calls when state, reasons or
media change; page-counter moves only wake `wait_change` waiters.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .media import Media, loaded_words, media_from_status
from .models import Model, model_by_status_code
from .status import MEDIA_NOUN, PrinterStatus, describe, worded
from .transport import TransportError


@dataclass(frozen=True)
class ProbeResult:
    status: PrinterStatus | None
    source: str  # "snmp" or "transport"
    page_count: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


Prober = Callable[[], Awaitable[ProbeResult | None]]


@dataclass(frozen=True)
class StatusSnapshot:
    state: str  # idle | printing | stopped | offline | unknown
    reasons: tuple[str, ...]
    media: Media | None
    media_source: str  # status | config | last-known | none
    source: str  # snmp | transport | config
    captured_at: datetime | None = None
    captured_monotonic: float | None = None
    last_error: str | None = None
    failures: int = 0
    page_count: int | None = None
    status: PrinterStatus | None = None
    info: dict[str, Any] = field(default_factory=dict)
    family: str | None = None
    """The printer's family, for wording its reasons (tape cassettes or DK rolls): the configured model's,
    or the one a status block reports (what is at the address, should it be another); None: unknown."""

    @property
    def age_s(self) -> float | None:
        if self.captured_monotonic is None:
            return None
        return round(time.monotonic() - self.captured_monotonic, 3)

    @property
    def key(self) -> tuple[Any, ...]:
        """What counts as a change worth storing and announcing."""
        return (self.state, self.reasons, self.media.id if self.media else None, self.last_error is not None)

    def describe(self) -> list[str]:
        return [describe(reason, self.family) for reason in self.reasons]

    def colors(self) -> tuple[str | None, str | None]:
        """(tape colour, text colour) of the loaded media, as its status block reports them; None when
        the media is known otherwise (config, last known)."""
        status = self.status
        if status is None or self.media_source != "status":
            return None, None
        return status.tape_color, status.text_color

    def media_words(self, family: str | None) -> dict[str, str]:
        """What a person reads of the media, in the words of a printer of `family` (see MEDIA_NOUN):
        `media_noun` ("tape", "roll", "media") and `media_description` (see media.loaded_words)."""
        return {"media_noun": worded(MEDIA_NOUN, family),
                "media_description": loaded_words(self.media, family, *self.colors())}

    def to_wire(self) -> dict[str, Any]:
        status = self.status
        media = None
        if self.media is not None:
            tape_color, text_color = self.colors()
            media = {
                "id": self.media.id,
                "width_mm": self.media.width_mm,
                "kind": self.media.kind,
                "length_mm": self.media.length_mm,
                "source": self.media_source,
                "tape_color": tape_color,
                "text_color": text_color,
            }
        return {
            "state": self.state,
            "reasons": list(self.reasons),
            "descriptions": self.describe(),
            "media": media,
            **self.media_words(self.family),
            "source": self.source,
            "captured_at": self.captured_at,
            "age_s": self.age_s,
            "last_error": self.last_error,
            "consecutive_failures": self.failures,
            "page_count": self.page_count,
            "errors": list(status.errors) if status else [],
            "phase": status.phase if status else None,
            "info": self.info,
        }


def _initial(configured: Media | None, probing: bool, family: str) -> StatusSnapshot:
    return StatusSnapshot(
        state="unknown",
        reasons=(),
        media=configured,
        media_source="config" if configured else "none",
        source="snmp" if probing else "config",
        family=family,
    )


FAILED_RECHECK_S = 1.0  # after a failed probe, the next one comes this soon (until the printer is offline)


class StatusMonitor:
    def __init__(
        self,
        model: Model,
        configured_media: Media | None,
        prober: Prober | None,
        *,
        interval: float = 10.0,
        busy_interval: float = 1.0,
        offline_after: int = 3,
        on_change: Callable[[StatusSnapshot], None] | None = None,
        probe_while_busy: bool = True,
        reachable: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.model = model
        self.configured_media = configured_media
        self.prober = prober
        self.interval = interval
        self.busy_interval = busy_interval
        self.offline_after = offline_after
        self.on_change = on_change
        self.probe_while_busy = probe_while_busy  # a USB status request must not interrupt printing
        # whether the printer takes jobs when its status probes fail (SNMP silent, raster port open)
        self.reachable = reachable
        self.refused: str | None = None  # see note_refused
        self._sent = 0  # jobs whose raster is at the printer, their end not known yet (see job_sent)
        self._refusals = 0  # notes so far: a port check clears only if no note came while it ran
        self.snapshot = _initial(configured_media, prober is not None, model.family)
        self.probes = 0
        self._busy = 0
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._probe_lock = asyncio.Lock()

    @property
    def effective_interval(self) -> float:
        return self.busy_interval if self._busy else self.interval

    def start(self) -> None:
        if self.prober is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="status-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @contextlib.contextmanager
    def busy(self) -> Any:
        """While a job prints, its worker drives the probes (at `busy_interval`); the loop stands aside."""
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1

    @contextlib.contextmanager
    def job_sent(self) -> Iterator[None]:
        """While a job's raster is at the printer and its end is not known, failing probes say
        "status-lost", not "printer-offline": the printer may be printing it (the label came out in
        trials while the printer was called not reachable). The state stays "offline". The queue says
        the same on the job (reconcile.following_reason), so the printer and its job tell one story."""
        self._sent += 1
        self._update(self._marked(self.snapshot))
        try:
            yield
        finally:
            self._sent -= 1
            self._update(self._marked(self.snapshot))

    @property
    def next_wait(self) -> float:
        """Seconds to the next probe: soon after a failure, so an unplugged printer is called offline
        after a few seconds rather than `offline_after` whole intervals; the usual pace otherwise."""
        if 0 < self.snapshot.failures < self.offline_after:
            return min(self.effective_interval, FAILED_RECHECK_S)
        return self.effective_interval

    async def _loop(self) -> None:
        while True:
            if not self._busy:
                await self.probe_now()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.next_wait)

    async def probe_now(self) -> StatusSnapshot:
        """Probe once (bounded by the prober's own timeout) and update the cache."""
        if self.prober is None:
            return self.snapshot
        async with self._probe_lock:
            self.probes += 1
            try:
                result = await self.prober()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._update(self._marked(self._failed(str(exc) or type(exc).__name__,
                                                       await self._why_unreachable(exc))))
            else:
                if self.refused is not None and not self._busy and self.reachable is not None:
                    # no job tried since (canceled, say): does the port take connections again?
                    notes = self._refusals
                    if await self.reachable() and notes == self._refusals and not self._busy:
                        self.refused = None
                self._update(self._marked(self._succeeded(result) if result is not None else self.snapshot))
            return self.snapshot

    def note_refused(self, error: str | None) -> None:
        """What the queue found opening a print connection: `error` when it could not, None once it could.

        Status probes (SNMP) and print jobs (the raster port) take different ways in: a printer whose
        raster port refuses, or that another computer holds, still answers "ready" to SNMP. Until a
        connection opens again its status carries the reason "jobs-refused", so nobody is told "ready"
        of a printer that takes no job. Not while it counts as offline: that says more already.
        """
        self._refusals += 1
        if error != self.refused:
            self.refused = error
            self._update(self._marked(self.snapshot))

    def _marked(self, snapshot: StatusSnapshot) -> StatusSnapshot:
        """The snapshot with what the queue noted: jobs-refused (note_refused), status-lost (job_sent)."""
        reasons = tuple("printer-offline" if r == "status-lost" else r for r in snapshot.reasons
                        if r != "jobs-refused")
        if self._sent and snapshot.state == "offline":
            reasons = tuple("status-lost" if r == "printer-offline" else r for r in reasons)
        if self.refused is not None and snapshot.state != "offline":
            reasons = (*reasons, "jobs-refused")
        return snapshot if reasons == snapshot.reasons else replace(snapshot, reasons=reasons)

    async def _why_unreachable(self, exc: Exception) -> str:
        """The reason a failed probe gives once the printer counts as offline: "printer-busy" (another
        program holds its USB device), "status-unavailable" (it takes jobs but its status cannot be
        read: a wrong SNMP community or port, SNMP switched off) or "printer-offline"."""
        if isinstance(exc, TransportError) and exc.reason == "printer-busy":
            return "printer-busy"
        # not while a job is at the printer: an extra connection to its raster port then could upset it
        if (self.reachable is not None and not self._busy and self.snapshot.failures + 1 >= self.offline_after
                and await self.reachable()):
            return "status-unavailable"
        return "printer-offline"

    def _succeeded(self, result: ProbeResult) -> StatusSnapshot:
        status = result.status
        if status is None:
            return replace(self.snapshot, state="unknown", reasons=(), source=result.source, last_error=None,
                           failures=0, captured_at=datetime.now(UTC), captured_monotonic=time.monotonic(),
                           page_count=result.page_count, info=result.info)
        loaded = None
        if status.media_width_mm:
            loaded = media_from_status(self.model, status.media_width_mm, status.media_type_code,
                                       status.media_length_mm)
        reasons = tuple(status.reasons)
        info = result.info
        reported = model_by_status_code(status.series, status.model_code)
        if reported is not None and reported.family != self.model.family:
            # another print head than the configured model's: every label would be refused or garbled
            reasons = ("model-mismatch", *reasons)
            info = {**info, "reported_model": reported.name}
        if loaded is not None:
            media, media_source = loaded, "status"
        elif "cover-open" in reasons and self.snapshot.media is not None:
            media, media_source = self.snapshot.media, "last-known"  # cover open zeroes the media fields
        elif "media-needed" in reasons:
            media, media_source = None, "none"
        else:
            media, media_source = self.configured_media, "config" if self.configured_media else "none"
        return StatusSnapshot(
            state="stopped" if "model-mismatch" in reasons else status.state,
            reasons=reasons,
            media=media,
            media_source=media_source,
            source=result.source,
            captured_at=datetime.now(UTC),
            captured_monotonic=time.monotonic(),
            last_error=None,
            failures=0,
            page_count=result.page_count,
            status=status,
            info=info,
            family=reported.family if reported is not None else status.family,
        )

    def _failed(self, error: str, reason: str) -> StatusSnapshot:
        """`reason`: see _why_unreachable. Whatever it is, the printer is out of reach, so its state is offline."""
        failures = self.snapshot.failures + 1
        if failures >= self.offline_after:
            media_source = "last-known" if self.snapshot.media is not None else "none"
            return replace(self.snapshot, state="offline", reasons=(reason,), last_error=error,
                           failures=failures, media_source=media_source)
        return replace(self.snapshot, last_error=error, failures=failures)

    def _update(self, new: StatusSnapshot) -> None:
        old = self.snapshot
        self.snapshot = new
        if new.key != old.key and self.on_change is not None:
            self.on_change(new)
        if new.key != old.key or new.page_count != old.page_count or new.captured_at != old.captured_at:
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_change(self, timeout: float) -> bool:
        """Wait for the next probe result (or `timeout`); True if one came."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                return False
            return True


IDENTITY_REFRESH_S = 60.0  # name, serial, description: asked again this often (and after any failure)


def snmp_prober(host: str, *, port: int, community: str, timeout: float, retries: int, version: str) -> Prober:
    """A prober over SNMP (pysnmp is imported on first use, not at server start).

    The printer's identity (sysName, serial, sysDescr, IEEE 1284 id) is asked on the first probe,
    every IDENTITY_REFRESH_S and after a failure; the probes between ask only the status block and
    the page counter, which keeps each one about half as costly to parse.
    """
    identity: dict[str, Any] = {}
    asked_at = float("-inf")

    async def run() -> ProbeResult:
        nonlocal identity, asked_at
        from . import snmp

        if not snmp.loaded():  # ~60 ms: import it off the event loop
            await asyncio.to_thread(snmp.load)
        full = time.monotonic() - asked_at >= IDENTITY_REFRESH_S
        try:
            result = await snmp.probe(host, port=port, community=community, timeout=timeout, retries=retries,
                                      version="v1" if version == "1" else "auto",
                                      fields=tuple(snmp.PROBE_OIDS) if full else snmp.STATUS_FIELDS)
        except BaseException:
            asked_at = float("-inf")
            raise
        if result.status is None and result.status_block is None:
            asked_at = float("-inf")
            raise RuntimeError("the printer's SNMP agent has no Brother status block")
        if full:
            identity = {k: v for k, v in (("sys_name", result.sys_name), ("serial", result.serial),
                                          ("sys_descr", result.sys_descr), ("device_id", result.device_id or None))
                        if v}
            asked_at = time.monotonic()
        info = {**identity, "round_trip_ms": round(result.round_trip_ms, 2)}
        return ProbeResult(result.status, "snmp", result.page_count, info)

    return run


def port_open(host: str, port: int, timeout: float) -> Callable[[], Awaitable[bool]]:
    """A check that the printer's raster port accepts a connection (closed again at once, sending nothing)."""

    async def run() -> bool:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    return run


def transport_prober(request_status: Callable[[], Awaitable[bytes | None]]) -> Prober:
    """A prober that asks the printer over its transport (`ESC i S`) where the model answers."""
    from .status import parse_status

    async def run() -> ProbeResult | None:
        block = await request_status()
        if block is None:
            return None
        return ProbeResult(parse_status(block), "transport")

    return run
