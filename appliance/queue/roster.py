"""Printers added, changed and removed while the appliance runs: printer.add, printer.update, printer.remove.

A printer added here is probed first (nothing is stored when nothing usable answers), stored in the
database (printers.added, migration 0006) and started at once: its status monitor and its queue worker,
no restart. The rules are the configuration's (see store/printer_jobs.py): a new address for the same
model keeps the waiting jobs; another model, or a removal, ends them `aborted/printer-removed`; the
history stays. Printers from the configuration file are changed there, not here.

Once a printer is added, the embedded virtual printer (which stands in while none is configured) is
retired: its waiting jobs move to the new printer when it is of the same model. It comes back when the
last printer is removed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from rpc.errors import InvalidParams, NotAllowed, PrinterUnavailable

from .. import logs
from ..config import PrinterSettings, SnmpSettings
from ..printer.identity import printer_id
from ..printer.media import MediaError, media_for
from ..printer.models import Model, UnknownModelError, get_model
from ..printer.transport import InvalidURIError, open_transport
from ..store import printer_jobs
from ..store import printers as printer_store
from . import runtime as runtime_module
from .runtime import PrinterRuntime

log = logs.get("appliance.printers")

PROBE_TIMEOUT_S = 3.0
SWEEP_AFTER_S = 5.0  # a label being drawn when its printer went is stored by then
SNMP_KEYS = {f.name for f in dataclasses.fields(SnmpSettings)}


def snmp_settings(given: dict[str, Any] | None, base: SnmpSettings | None = None) -> SnmpSettings:
    """printer.add's `snmp` object onto the defaults (or onto `base`, for printer.update)."""
    values = {**dataclasses.asdict(base or SnmpSettings()), **(given or {})}
    unknown = sorted(set(values) - SNMP_KEYS)
    if unknown:
        raise InvalidParams("snmp", f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(SNMP_KEYS))}")
    settings = SnmpSettings(**values)
    if settings.version not in ("1", "2c"):
        raise InvalidParams("snmp.version", "must be 1 or 2c")
    if settings.timeout <= 0 or settings.retries < 0:
        raise InvalidParams("snmp.timeout", "timeout must be > 0 and retries >= 0")
    return settings


def settings_of(name: str, given: dict[str, Any]) -> PrinterSettings:
    return PrinterSettings(name=name, model=given["model"], uri=given["uri"], media=given.get("media") or "",
                           snmp=snmp_settings(given.get("snmp")))


def removed_wire(runtime: PrinterRuntime) -> dict[str, Any]:
    """notify_printer_status for a printer that is gone: clients drop it."""
    return {"printer_id": runtime.id, "name": runtime.name, "removed": True, "state": "removed", "reasons": []}


class Roster:
    def __init__(self, appliance: Any) -> None:
        self.app = appliance
        self._lock = asyncio.Lock()

    # --- at start ------------------------------------------------------------------------------

    async def load(self) -> list[PrinterRuntime]:
        """The printers added at run time before, as runtimes (a stored one this version cannot build is
        logged and left out, never a failed start)."""
        built = []
        for row in await printer_store.added(self.app.db):
            try:
                runtime = self.build(row["name"], row)
            except (ValueError, InvalidParams) as exc:
                log.error("printer.added_not_loaded", printer=row["name"], error=str(exc))
                continue
            built.append(runtime)
        return built

    def build(self, name: str, given: dict[str, Any]) -> PrinterRuntime:
        runtime = runtime_module.build(settings_of(name, given), self.app.settings.queue)
        runtime.extra["added"] = given
        return runtime

    # --- checks --------------------------------------------------------------------------------

    def _in_use(self) -> dict[str, PrinterRuntime]:
        return dict(self.app.queue.printers)

    def _check_name(self, name: str, keep: PrinterRuntime | None) -> None:
        if not name.strip() or name != name.strip():
            raise InvalidParams("name", "must not be empty or begin or end with a space")
        for other in self._in_use().values():
            if other.name == name and other is not keep and not other.virtual:
                raise NotAllowed(f"a printer is already called {name!r} ({other.model.name} at {other.uri}): "
                                 "choose another name", {"field": "name", "reason": "name already used"})

    @staticmethod
    def _model(model: str | None) -> Model | None:
        if model is None:
            return None
        try:
            return get_model(model)
        except UnknownModelError as exc:
            raise InvalidParams("model", str(exc)) from None

    @staticmethod
    def _check_uri(uri: str) -> None:
        try:
            open_transport(uri)
        except InvalidURIError as exc:
            raise InvalidParams("uri", str(exc)) from None

    @staticmethod
    def _media(model: Model, media: str | None) -> str | None:
        if not media:
            return None
        try:
            return media_for(model, media).id
        except MediaError as exc:
            raise InvalidParams("media", str(exc)) from None

    def _editable(self, runtime: PrinterRuntime, verb: str) -> dict[str, Any]:
        if runtime.virtual:
            raise NotAllowed(f"the virtual printer stands in while no printer is set up and cannot be {verb}; "
                             "add a printer (printer.add) and it steps aside",
                             {"field": "printer_id", "reason": "virtual printer"})
        given = runtime.extra.get("added")
        if given is None:
            source = self.app.settings.source
            where = f"the configuration file {source}" if source != "defaults" else "the configuration"
            raise NotAllowed(f"{runtime.name} comes from {where}: edit or remove its [[printers]] table there and "
                             "restart the appliance", {"field": "printer_id", "reason": "configured in a file",
                                                       "file": source})
        return dict(given)

    async def _identify(self, uri: str, snmp: SnmpSettings, model: Model | None, *, must_match: bool = True) -> Any:
        from ..discovery.identify import NotBrother, Unreachable, identify

        try:
            identity = await identify(uri, snmp, timeout=PROBE_TIMEOUT_S, model_given=model is not None)
        except InvalidURIError as exc:
            raise InvalidParams("uri", str(exc)) from None
        except NotBrother as exc:
            raise PrinterUnavailable(f"{exc}; nothing was stored", {"field": "uri", "reason": "not a Brother PT/QL",
                                                                     "detail": str(exc)}) from None
        except Unreachable as exc:
            raise PrinterUnavailable(f"{exc}; nothing was stored", {"field": "uri", "reason": "no answer",
                                                                     "detail": str(exc)}) from None
        if must_match and model is not None and identity.model is not None and identity.model != model.name:
            raise NotAllowed(f"the printer at {uri} says it is a {identity.model}, not the {model.name} given: "
                             f"leave model out, or give {identity.model}",
                             {"field": "model", "reason": "the printer reports another model",
                              "given": model.name, "reported": identity.model})
        return identity

    def _check_free(self, new_id: str, uri: str, keep: PrinterRuntime | None) -> None:
        taken = self._in_use().get(new_id)
        if taken is not None and taken is not keep:
            raise NotAllowed(f"{uri} is already set up as {taken.name}", {"field": "uri", "reason": "already added",
                                                                          "printer_id": taken.id})

    # --- the calls -----------------------------------------------------------------------------

    async def add(self, name: str, uri: str, model: str | None = None, media: str | None = None,
                  snmp: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self._lock:
            self._check_name(name, None)
            self._check_uri(uri)
            given_model = self._model(model)
            settings = snmp_settings(snmp)
            if given_model is not None:
                self._media(given_model, media)  # a bad media is said before the printer is asked
            identity = await self._identify(uri, settings, given_model)
            if given_model is None and identity.model is None:
                raise InvalidParams("model", f"is needed: the printer at {uri} does not say which model it is")
            final = given_model or get_model(identity.model)
            given = {"model": final.name, "uri": uri, "media": self._media(final, media),
                     "snmp": dataclasses.asdict(settings)}
            new_id = printer_id(final.name, uri)
            self._check_free(new_id, uri, None)
            runtime = self.build(name, given)
            await printer_store.store_added(self.app.db, new_id, name, given)
            await self._bring_in(runtime)
            await self._retire_virtual(runtime)
            log.info("printer.added", printer=name, model=final.name, uri=uri)
            return {**runtime.to_wire(), "serial": identity.serial, "note": identity.note}

    async def update(self, printer_id_or_name: str, name: str | None = None, uri: str | None = None,
                     media: str | None = None, snmp: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self._lock:
            old = self.app.queue.printer(printer_id_or_name)
            given = self._editable(old, "changed")
            new_name = old.name if name is None else name
            self._check_name(new_name, old)
            new_uri = uri or given["uri"]
            self._check_uri(new_uri)
            settings = snmp_settings(snmp, snmp_settings(given.get("snmp")))
            model = old.model
            moved_to_model = model
            if new_uri != given["uri"] or snmp is not None:
                identity = await self._identify(new_uri, settings, model, must_match=uri is None)
                if identity.model is not None:
                    moved_to_model = get_model(identity.model)
            if media is not None:
                new_media = self._media(moved_to_model, media)  # "" clears it: the status tells
            else:  # another model may not take the old media: its status tells
                new_media = given.get("media") if moved_to_model is model else None
            new_given = {"model": moved_to_model.name, "uri": new_uri, "media": new_media,
                         "snmp": dataclasses.asdict(settings)}
            new_id = printer_id(moved_to_model.name, new_uri)
            self._check_free(new_id, new_uri, old)
            runtime = self.build(new_name, new_given)
            await self._take_out(old)
            moved: list[int] = []
            aborted: list[int] = []
            try:
                await printer_store.store_added(self.app.db, new_id, new_name, new_given,
                                                replacing=old.id if new_id != old.id else None)
                if new_id != old.id:
                    same = moved_to_model is model
                    why = (f"printer.update gave {old.name} a new address ({new_uri}): the same model, so the job "
                           "follows" if same else f"printer.update: another model ({moved_to_model.name}) now "
                           f"answers as {new_name}; reprint the job with rerender to print it there")
                    moved, aborted = await printer_jobs.leave(self.app.db, old.id,
                                                              successor=new_id if same else None, why=why)
            except BaseException:  # the database said no: the printer goes on as it was
                await self._bring_in(self.build(old.name, given))
                raise
            if new_id != old.id:
                self.app.events.publish("printers", "notify_printer_status", removed_wire(old))
                self._sweep_later(old.id, new_id if moved_to_model is model else None,
                                  f"printer.update: {old.name} moved to {new_uri}")
            await self._bring_in(runtime)
            self._announce_jobs(moved + aborted)
            log.info("printer.updated", printer=new_name, was=old.name, uri=new_uri, model=moved_to_model.name,
                     jobs_moved=moved, jobs_aborted=aborted)
            return {**runtime.to_wire(), "jobs_moved": moved, "jobs_aborted": aborted}

    async def remove(self, printer_id_or_name: str) -> dict[str, Any]:
        async with self._lock:
            old = self.app.queue.printer(printer_id_or_name)
            self._editable(old, "removed")
            await self._take_out(old)
            _, aborted = await printer_jobs.leave(self.app.db, old.id, successor=None,
                                                      why=f"printer.remove took {old.name} away")
            await printer_store.remove_added(self.app.db, old.id)
            self.app.events.publish("printers", "notify_printer_status", removed_wire(old))
            self._announce_jobs(aborted)
            self._sweep_later(old.id, None, f"printer.remove took {old.name} away")
            if not self.app.queue.printers:  # nothing left: the virtual printer stands in again, as at a start
                await self._revive_virtual()
            log.info("printer.removed", printer=old.name, jobs_aborted=aborted)
            return {"removed": {"id": old.id, "name": old.name, "model": old.model.name, "uri": old.uri},
                    "jobs_aborted": aborted}

    # --- starting and stopping -----------------------------------------------------------------

    async def _bring_in(self, runtime: PrinterRuntime) -> None:
        runtime.monitor.on_change = self.app._status_changed_for(runtime)
        self.app.tally.time_probes(runtime.name, runtime.monitor)  # /metrics' probe latency, as at a start
        await self.app.queue.attach(runtime, safe_mode=self.app.safe_mode)
        self.app.printers.append(runtime)
        if not self.app.safe_mode:
            runtime.monitor.start()
        self.app.events.publish("printers", "notify_printer_status", runtime.status_wire())
        if self.app.dnssd is not None:  # DNS-SD: print dialogs see it at once
            await self.app.dnssd.add(runtime)

    async def _take_out(self, runtime: PrinterRuntime) -> None:
        if self.app.dnssd is not None:  # withdrawn first: nobody should find a printer that is going away
            await self.app.dnssd.remove(runtime)
        await self.app.queue.detach(runtime.id, self.app.settings.server.shutdown_timeout_s)
        await runtime.monitor.stop()
        if runtime in self.app.printers:
            self.app.printers.remove(runtime)

    async def _retire_virtual(self, added: PrinterRuntime) -> None:
        """A real printer is here: the virtual one steps aside (its jobs follow when the model is the same)."""
        for virtual in [p for p in self._in_use().values() if p.virtual]:
            await self._take_out(virtual)
            same = virtual.model.name == added.model.name
            moved, aborted = await printer_jobs.leave(
                self.app.db, virtual.id, successor=added.id if same else None,
                why=f"printer {added.name} was added, and the virtual printer stepped aside")
            self.app.events.publish("printers", "notify_printer_status", removed_wire(virtual))
            self._announce_jobs(moved + aborted)
            if added.worker is not None:
                added.worker.wake()
            if self.app.simulator is not None:
                await self.app.simulator.stop()
                self.app.simulator = None
            log.info("printer.virtual_retired", jobs_moved=moved, jobs_aborted=aborted)

    async def _revive_virtual(self) -> None:
        virtual = await self.app._start_virtual_printer()
        await printer_store.upsert(self.app.db, [{"id": virtual.id, "name": virtual.name, "model": virtual.model.name,
                                                  "uri": virtual.uri, "media": virtual.configured_media.id
                                                  if virtual.configured_media else None}])
        await self._bring_in(virtual)
        log.info("printer.virtual_back", why="the last printer was removed")

    def _sweep_later(self, printer_id: str, successor: str | None, why: str) -> None:
        """A print.submit that chose the printer just before it went is stored just after (its label was being
        drawn): look once more, a moment later, so that job too follows the printer's rules, not waits."""

        async def sweep() -> None:
            await asyncio.sleep(SWEEP_AFTER_S)
            if printer_id in self.app.queue.printers or not self.app.db.is_open:
                return  # it came back (added again)
            async with self._lock:
                follow = successor if successor in self.app.queue.printers else None  # not removed meanwhile
                moved, aborted = await printer_jobs.leave(self.app.db, printer_id, successor=follow, why=why)
            if moved or aborted:
                log.info("printer.late_jobs", printer_id=printer_id, jobs_moved=moved, jobs_aborted=aborted)
                self._announce_jobs(moved + aborted)

        task = asyncio.get_running_loop().create_task(sweep(), name="sweep-removed-printer")
        self.app._tasks.add(task)
        task.add_done_callback(self.app._tasks.discard)

    def _announce_jobs(self, job_ids: list[int]) -> None:
        if not job_ids:
            return
        queue = self.app.queue

        async def announce() -> None:
            for job_id in job_ids:
                queue.publish_job(await queue.job(job_id))
            queue.publish_queue()

        task = asyncio.get_running_loop().create_task(announce(), name="announce-moved-jobs")
        self.app._tasks.add(task)
        task.add_done_callback(self.app._tasks.discard)
