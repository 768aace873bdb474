"""The raster sink: a printer's TCP 9100 port.

Reads each connection's bytes and decodes them strictly (appliance.printer.decode). A job
is complete when it ends with 1A (print and feed) or when the sender closes the
connection; then it goes to the print engine. Streams a printer would choke on are
reported in the printer's `last_error` and printed nothing — they never stop the sink.
`ESC i S` is answered with the status block only by models that do that over TCP.
Offline closes the listening socket (connections are refused) and drops open ones;
`drop_after_bytes` drops the next connection after that many bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from appliance.printer.decode import DecodedJob
from appliance.simulator.engine import PrintEngine
from appliance.simulator.jobs import PRINT_FEED, STATUS_REQUEST, at_boundary, take
from appliance.simulator.state import ST_REPLY, Phase, VirtualPrinter

log = logging.getLogger(__name__)

__all__ = ["PRINT_FEED", "STATUS_REQUEST", "RasterSink"]


class RasterSink:
    def __init__(
        self,
        printer: VirtualPrinter,
        engine: PrintEngine,
        *,
        idle_timeout: float = 60.0,
        max_job_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.printer = printer
        self.engine = engine
        self.idle_timeout = idle_timeout
        self.max_job_bytes = max_job_bytes
        self.connections = 0
        self._host = "127.0.0.1"
        self._port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._reconcile_lock = asyncio.Lock()
        self._remove_listener = printer.add_listener(self._on_change)
        self._pending: asyncio.Task[None] | None = None

    # --- listening -----------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        self._host, self._port = host, port
        await self._listen()
        return self.address

    @property
    def address(self) -> tuple[str, int]:
        return self._host, self._port

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _unlisten(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None

    def _on_change(self, printer: VirtualPrinter) -> None:
        listening = self._server is not None
        if printer.offline == listening and (self._pending is None or self._pending.done()):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # changed outside the loop: applied on the next change inside it
                return
            self._pending = loop.create_task(self._reconcile())

    async def _reconcile(self) -> None:
        async with self._reconcile_lock:
            if self.printer.offline and self._server is not None:
                await self._unlisten()
            elif not self.printer.offline and self._server is None:
                await self._listen()

    async def stop(self) -> None:
        self._remove_listener()
        if self._pending is not None:
            with contextlib.suppress(Exception):
                await self._pending
        await self._unlisten()

    # --- one connection -------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        printer = self.printer
        if printer.offline:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers.add(writer)
        drop_after, printer.drop_after_bytes = printer.drop_after_bytes, None  # one connection only
        buffer = bytearray()
        received = 0
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), self.idle_timeout)
                except TimeoutError:
                    self._report(f"connection idle for {self.idle_timeout:g} s; closed")
                    return
                except ConnectionError:
                    break
                if not chunk:
                    break
                if printer.phase == Phase.IDLE:
                    printer.set_phase(Phase.RECEIVING)
                received += len(chunk)
                if drop_after is not None and received >= drop_after:
                    self._report(f"connection dropped after {drop_after} bytes (drop_after_bytes)")
                    writer.transport.abort()
                    return
                buffer += chunk
                if len(buffer) > self.max_job_bytes:
                    self._report(f"job larger than {self.max_job_bytes} bytes; connection closed")
                    return
                if at_boundary(buffer):
                    await self._complete(buffer, writer, final=False)
            await self._complete(buffer, writer, final=True)
        finally:
            self._writers.discard(writer)
            if printer.phase == Phase.RECEIVING:
                printer.set_phase(Phase.IDLE)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _complete(self, buffer: bytearray, writer: asyncio.StreamWriter, *, final: bool) -> None:
        """Act on every whole job or status request at the front of `buffer`, and consume it."""

        async def status_asked() -> None:
            if self.printer.answers_status_request:
                writer.write(self.printer.status_block(status_type=ST_REPLY))
                with contextlib.suppress(ConnectionError):
                    await writer.drain()

        await take(buffer, self.printer.model, final=final, submit=self._submit, status_asked=status_asked,
                   report=self._report)  # fmt: skip

    def _submit(self, job: DecodedJob) -> None:
        for warning in job.warnings:
            log.info("virtual printer: %s", warning)
        self.engine.submit(job)

    def _report(self, message: str) -> None:
        log.warning("virtual printer: %s", message)
        self.printer.last_error = message
        self.printer.changed()
