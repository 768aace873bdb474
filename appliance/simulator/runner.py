"""`Simulator`: the virtual printer with its TCP raster port, SNMP agent and control endpoint.

sim = Simulator(model="PT-P750W", tape="12mm", snmp=("127.0.0.1", 0), out_dir=Path("printed"))
await sim.start()
sim.uri            # "tcp://127.0.0.1:PORT" — hand it to TcpTransport / the queue
                   # (with usb=PATH and listen=None: "usb://PATH", the virtual USB device; sim.usb is it)
sim.snmp_port      # UDP port of the agent (None without SNMP)
sim.control_url    # "http://127.0.0.1:PORT/" (None without a control endpoint)
sim.printer        # the VirtualPrinter: knobs and state, in-process
await sim.stop()
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from appliance.printer.media import Media
from appliance.simulator import output
from appliance.simulator.control import ControlServer
from appliance.simulator.engine import PrintEngine
from appliance.simulator.snmp_agent import SnmpAgent
from appliance.simulator.snmp_mib import printer_mib
from appliance.simulator.state import DEFAULT_SPEED_MM_S, VirtualPrinter
from appliance.simulator.tcp import RasterSink

if TYPE_CHECKING:
    from appliance.simulator.usb import UsbDevice

Address = tuple[str, int]


class Simulator:
    def __init__(
        self,
        model: str = "PT-P750W",
        tape: str | Media | None = "12mm",
        *,
        listen: Address | None = ("127.0.0.1", 0),
        control: Address | None = None,
        snmp: Address | None = ("127.0.0.1", 0),
        out_dir: Path | None = None,
        speed: float | None = DEFAULT_SPEED_MM_S,
        tape_remaining_mm: float | None = None,
        community: str = "public",
        serial: str = "E7Z000001",
        usb: Path | None = None,
        sysfs: Path | None = None,
    ) -> None:
        """`speed` in mm/s; None or 0 prints instantly. Port 0 picks a free port. `listen` None: no TCP
        port (a USB-only printer). `usb`: a virtual USB device linked there; `sysfs`: where its
        usbmisc-like 1284 id entry goes (see appliance.simulator.usb)."""
        self.printer = VirtualPrinter(model, tape, speed_mm_s=speed, tape_remaining_mm=tape_remaining_mm, serial=serial)
        if out_dir is not None:
            self.printer.page_counter = output.settle(out_dir)  # kept like a printer's NVRAM
        self.engine = PrintEngine(self.printer, out_dir)
        self.out_dir = out_dir
        self._listen = listen
        self._control_at = control
        self._snmp_at = snmp
        self._community = community
        self._sink: RasterSink | None = None
        self._agent: SnmpAgent | None = None
        self._control: ControlServer | None = None
        self._usb_at = usb
        self._sysfs = sysfs
        self.usb: UsbDevice | None = None

    async def start(self) -> None:
        try:
            self.engine.start()
            if self._listen is not None:
                self._sink = RasterSink(self.printer, self.engine)
                await self._sink.start(*self._listen)
            if self._usb_at is not None:
                from appliance.simulator.usb import UsbDevice

                self.usb = UsbDevice(self.printer, self.engine, self._usb_at, sysfs=self._sysfs)
                await self.usb.start()
            if self._snmp_at is not None:
                printer = self.printer
                self._agent = SnmpAgent(
                    lambda: printer_mib(printer),
                    community=self._community,
                    silent=lambda: printer.snmp_silent,
                    delay_ms=lambda: printer.snmp_delay_ms,
                )
                await self._agent.start(*self._snmp_at)
            if self._control_at is not None:
                from appliance.simulator.usb import KNOBS

                self._control = ControlServer(self.printer, self.usb, KNOBS if self.usb else ())
                await self._control.start(*self._control_at)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._control is not None:
            await self._control.stop()
            self._control = None
        if self._agent is not None:
            await self._agent.stop()
            self._agent = None
        if self._sink is not None:
            await self._sink.stop()
            self._sink = None
        if self.usb is not None:
            await self.usb.stop()
            self.usb = None
        await self.engine.stop()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Until every job received so far is printed (or kept, waiting for a person)."""
        await self.engine.wait_idle(timeout)

    @property
    def tcp_address(self) -> Address:
        if self._sink is None:
            raise RuntimeError("the simulator is not running")
        return self._sink.address

    @property
    def connections(self) -> int:
        """Raster connections accepted so far (a job's bytes may or may not have followed)."""
        return self._sink.connections if self._sink is not None else 0

    @property
    def uri(self) -> str:
        if self._sink is None and self.usb is not None:
            return f"usb://{self.usb.path}"
        host, port = self.tcp_address
        return f"tcp://{host}:{port}"

    @property
    def snmp_address(self) -> Address | None:
        return self._agent.address if self._agent is not None else None

    @property
    def snmp_port(self) -> int | None:
        address = self.snmp_address
        return address[1] if address else None

    @property
    def control_url(self) -> str | None:
        return self._control.url if self._control is not None else None
