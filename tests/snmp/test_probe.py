"""The prober (pysnmp) against the virtual printer's agent over real UDP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from appliance.printer import snmp
from appliance.printer.snmp import SnmpError, SnmpProbe, probe
from appliance.printer.transport import TcpTransport
from appliance.simulator import Simulator, snmp_mib
from appliance.simulator.snmp_agent import SnmpAgent


def job(text: str, tape: str = "12mm") -> bytes:
    """A one-label PT-P750W job with `text` on it."""
    from PIL import Image, ImageDraw

    from appliance.printer.media import media_for
    from appliance.printer.models import get_model
    from appliance.printer.raster import encode_job

    model = get_model("PT-P750W")
    media = media_for(model, tape)
    image = Image.new("1", media.size_px(30), 1)
    ImageDraw.Draw(image).text((4, 4), text, fill=0)
    return encode_job(model, media, [image])


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(speed=None) as s:
        yield s
    snmp.close_sockets()


async def _probe(sim: Simulator, **options) -> SnmpProbe:
    assert sim.snmp_port is not None
    return await probe("127.0.0.1", port=sim.snmp_port, **options)


async def test_ready_printer(sim: Simulator) -> None:
    result = await _probe(sim)
    assert result.version == "v2c" and result.tries == 1
    assert result.status is not None and result.status_block == sim.printer.status_block()
    assert result.status.media_width_mm == 12 and result.status.media_type == "laminated"
    assert result.status.errors == () and result.status.state == "idle"
    assert result.status.model == "PT-P750W"
    assert result.hr_device_status_name == "running" and result.hr_printer_status_name == "idle"
    assert result.detected_error_state == ()
    assert result.device_id == {"MFG": "Brother", "CMD": "PJL", "MDL": "PT-P750W", "CLS": "PRINTER"}
    assert result.serial == "E7Z000001" and result.page_count == 0
    assert result.sys_name == "BRWE7Z000001" and "PT-P750W" in (result.sys_descr or "")
    assert result.missing == ()
    assert 0 < result.round_trip_ms < 2000


async def test_printing(sim: Simulator) -> None:
    sim.printer.update(speed=20)
    host, port = sim.tcp_address
    await TcpTransport(host, port).send(job("PRINTING"))
    await sim.printer.wait_for(lambda p: p.phase.value == "printing", timeout=2)
    result = await _probe(sim)
    assert result.status is not None and result.status.phase == "printing"
    assert result.status.state == "printing" and result.hr_printer_status_name == "printing"
    sim.printer.update(speed="instant")
    await sim.wait_idle(5)
    assert (await _probe(sim)).page_count == 1


async def test_cover_open(sim: Simulator) -> None:
    sim.printer.update(cover_open=True)
    result = await _probe(sim)
    assert result.status is not None
    assert result.status.errors == ("cover-open",) and result.status.media_width_mm == 0
    assert result.status.reasons == ["cover-open"]
    assert result.detected_error_state == ("doorOpen",)
    assert result.hr_device_status_name == "down"


async def test_tape_out(sim: Simulator) -> None:
    sim.printer.update(tape_remaining_mm=5)
    host, port = sim.tcp_address
    await TcpTransport(host, port).send(job("RUNS OUT"))
    await sim.wait_idle(5)
    result = await _probe(sim)
    assert result.status is not None and result.status.errors == ("end-of-media",)
    assert result.status.reasons == ["media-empty"] and result.status.state == "stopped"
    assert result.detected_error_state == ("noPaper",)


async def test_wrong_tape(sim: Simulator) -> None:
    host, port = sim.tcp_address
    await TcpTransport(host, port).send(job("WIDE", tape="24mm"))
    await sim.wait_idle(5)
    result = await _probe(sim)
    assert result.status is not None and result.status.errors == ("wrong-media",)
    assert "media-mismatch" in result.status.reasons and result.status.media_width_mm == 12


async def test_no_cassette(sim: Simulator) -> None:
    sim.printer.update(tape=None)
    result = await _probe(sim)
    assert result.status is not None
    assert result.status.errors == () and result.status.media_width_mm == 0
    assert result.status.media_type == "none" and result.status.reasons == ["media-needed"]
    assert result.detected_error_state == ("noPaper",) and result.hr_device_status_name == "warning"


async def test_silent_agent_fails_within_the_bound_and_recovers(sim: Simulator) -> None:
    sim.printer.update(snmp_silent=True)
    started = time.perf_counter()
    with pytest.raises(SnmpError) as info:
        await _probe(sim, timeout=0.3, retries=1)
    elapsed = time.perf_counter() - started
    assert str(info.value) == f"no SNMP answer from 127.0.0.1:{sim.snmp_port} after 2 tries"
    assert 0.55 <= elapsed < 1.6  # two tries of 0.3 s; the upper bound leaves room for a loaded machine
    sim.printer.update(snmp_silent=False)
    assert (await _probe(sim, timeout=0.3, retries=1)).status is not None


async def test_default_settings_bound_an_unreachable_printer_to_about_two_seconds(sim: Simulator) -> None:
    sim.printer.update(snmp_silent=True)
    started = time.perf_counter()
    with pytest.raises(SnmpError):
        await _probe(sim)
    assert 1.9 <= time.perf_counter() - started < 4.0  # pysnmp's defaults would take ~6 s; room for load


async def test_delayed_answer(sim: Simulator) -> None:
    sim.printer.update(snmp_delay_ms=300)
    result = await _probe(sim, timeout=1.0, retries=0)
    assert result.round_trip_ms >= 300 and result.status is not None
    with pytest.raises(SnmpError):
        await _probe(sim, timeout=0.1, retries=0)


@pytest.mark.parametrize("version", ["v2c", "v1"])
async def test_missing_oid_is_tolerated(sim: Simulator, version: str) -> None:
    sim.printer.snmp_omit = {snmp_mib.SERIAL, snmp_mib.DEVICE_ID}
    result = await _probe(sim, version=version)
    assert result.version == version
    assert result.serial is None and result.device_id == {}
    assert set(result.missing) == {"serial", "device_id"}
    assert result.status is not None and result.page_count == 0 and result.sys_name


async def test_auto_falls_back_to_v1_and_remembers_it() -> None:
    sim = Simulator(speed=None, snmp=None)
    agent = SnmpAgent(lambda: snmp_mib.printer_mib(sim.printer), versions=("v1",))
    host, port = await agent.start()
    try:
        first = await probe(host, port=port, timeout=0.3, retries=1)
        assert first.version == "v1" and first.tries == 2
        second = await probe(host, port=port, timeout=0.3, retries=1)
        assert second.version == "v1" and second.tries == 1
    finally:
        await agent.stop()
        snmp.close_sockets()


async def test_wrong_community_is_a_timeout(sim: Simulator) -> None:
    with pytest.raises(SnmpError, match="no SNMP answer"):
        await _probe(sim, community="private", timeout=0.2, retries=0)


async def test_bad_status_block_keeps_the_rest(sim: Simulator) -> None:
    agent = SnmpAgent(lambda: {**snmp_mib.printer_mib(sim.printer), **{k: v for k, v in _short_block().items()}})
    host, port = await agent.start()
    try:
        result = await probe(host, port=port)
        assert result.status is None and result.status_error and "32 bytes" in result.status_error
        assert result.status_block == b"\x80\x20\x42"
        assert result.serial == "E7Z000001"
    finally:
        await agent.stop()


def _short_block() -> dict:
    from appliance.simulator.snmp_agent import octets, parse_oid

    return {parse_oid(snmp_mib.STATUS_BLOCK): octets(b"\x80\x20\x42")}


async def test_unresolvable_host() -> None:
    with pytest.raises(SnmpError):
        await probe("no-such-host.invalid", timeout=0.2, retries=0)
    snmp.close_sockets()


def test_importing_the_prober_does_not_import_pysnmp() -> None:
    import subprocess
    import sys

    code = "import sys, appliance.printer.snmp; print(any(m.startswith('pysnmp') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


async def test_probes_run_concurrently(sim: Simulator) -> None:
    results = await asyncio.gather(*[_probe(sim) for _ in range(5)])
    assert all(r.status is not None for r in results)


async def test_a_late_answer_is_not_taken_for_the_next_request(sim: Simulator) -> None:
    sim.printer.update(snmp_delay_ms=300)
    with pytest.raises(SnmpError):
        await _probe(sim, timeout=0.1, retries=0)  # its answer (cover closed) is still on its way
    sim.printer.update(cover_open=True, snmp_delay_ms=250)
    result = await _probe(sim, timeout=1.0, retries=0)  # the stale answer lands first, and is dropped
    assert result.status is not None and result.status.errors == ("cover-open",)


class _Relay(asyncio.DatagramProtocol):
    """Passes requests on to the agent through `upstream`; answers go back from `reply_from` (or from itself)."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.upstream: asyncio.DatagramTransport | None = None
        self.reply_from: asyncio.DatagramTransport | None = None
        self.client: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.upstream is not None
        self.client = addr
        self.upstream.sendto(data)

    def answer(self, data: bytes) -> None:
        sender = self.reply_from or self.transport
        assert sender is not None and self.client is not None
        sender.sendto(data, self.client)


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: _Relay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.relay.answer(data)


async def test_only_the_asked_address_is_believed(sim: Simulator) -> None:
    loop = asyncio.get_running_loop()
    relay_transport, relay = await loop.create_datagram_endpoint(_Relay, local_addr=("127.0.0.1", 0))
    relay.upstream, _ = await loop.create_datagram_endpoint(
        lambda: _Upstream(relay), remote_addr=("127.0.0.1", sim.snmp_port or 0)
    )
    other, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
    port = relay_transport.get_extra_info("sockname")[1]
    try:
        assert (await probe("127.0.0.1", port=port, timeout=1.0, retries=0)).status is not None
        relay.reply_from = other  # the same answer, from an address we did not ask
        with pytest.raises(SnmpError, match="no SNMP answer"):
            await probe("127.0.0.1", port=port, timeout=0.3, retries=0, version="v2c")
    finally:
        for transport in (relay_transport, relay.upstream, other):
            transport.close()


async def test_stray_datagrams_do_not_disturb_probes(sim: Simulator) -> None:
    import socket

    await _probe(sim)
    ours = snmp._endpoints[asyncio.get_running_loop()][socket.AF_INET]
    assert ours.transport is not None
    port = ours.transport.get_extra_info("sockname")[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for junk in (b"", b"\x30\x03\x02\x01", b"not snmp at all", bytes(range(256))):
            s.sendto(junk, ("127.0.0.1", port))
    await asyncio.sleep(0.05)
    assert (await _probe(sim, timeout=1.0, retries=0)).status is not None


async def test_closing_the_sockets_fails_nothing_in_flight_silently(sim: Simulator) -> None:
    sim.printer.update(snmp_delay_ms=200)
    pending = asyncio.ensure_future(_probe(sim, timeout=1.0, retries=0))
    await asyncio.sleep(0.05)
    snmp.close_sockets()
    with pytest.raises(SnmpError, match="closed"):
        await pending
    sim.printer.update(snmp_delay_ms=0)
    assert (await _probe(sim)).status is not None  # a new socket for the next probe


async def test_a_probe_can_ask_only_some_fields(sim: Simulator) -> None:
    result = await _probe(sim, fields=snmp.STATUS_FIELDS)
    assert result.status is not None and result.page_count == 0
    assert result.serial is None and result.sys_name is None and result.missing == ()
    with pytest.raises(ValueError, match="PROBE_OIDS"):
        await _probe(sim, fields=("status_block", "colour"))


async def test_the_prober_asks_identity_once_then_only_status(sim: Simulator, monkeypatch) -> None:
    from appliance.printer import monitor

    assert sim.snmp_port is not None
    run = monitor.snmp_prober("127.0.0.1", port=sim.snmp_port, community="public", timeout=0.3, retries=0,
                              version="2c")
    first = await run()
    assert first.info["serial"] == "E7Z000001" and first.info["sys_name"] == "BRWE7Z000001"
    sim.printer.snmp_omit = {snmp_mib.SERIAL}  # identity is not asked again: the serial stays known
    sim.printer.update(cover_open=True)
    second = await run()
    assert second.info["serial"] == "E7Z000001" and second.status is not None
    assert second.status.errors == ("cover-open",)  # the status is fresh every time
    monkeypatch.setattr(monitor, "IDENTITY_REFRESH_S", 0.0)
    assert "serial" not in (await run()).info  # asked again: now the printer does not say
    monkeypatch.setattr(monitor, "IDENTITY_REFRESH_S", 60.0)
    sim.printer.snmp_omit = set()
    sim.printer.update(snmp_silent=True)
    with pytest.raises(SnmpError):
        await run()
    sim.printer.update(snmp_silent=False)
    assert (await run()).info["serial"] == "E7Z000001"  # after a failure the identity is asked again


async def test_a_host_name_is_resolved(sim: Simulator) -> None:
    assert sim.snmp_port is not None
    result = await probe("localhost", port=sim.snmp_port, timeout=1.0, retries=0)
    assert result.status is not None and result.host == "localhost"
