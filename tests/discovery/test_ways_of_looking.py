"""The broadcast path (against a stub of the socket: no test broadcasts), USB 1284 ids, DNS-SD TXT records,
and merging what several ways found of one printer."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from appliance.discovery import candidate, dnssd, run, snmp_scan, usb
from appliance.simulator.snmp_agent import answer
from appliance.simulator.snmp_mib import printer_mib
from appliance.simulator.state import VirtualPrinter


class StubSocket:
    """Stands in for the broadcast socket: records what is sent; 'printers' on the pretend network answer."""

    def __init__(self, received: Any, answering: dict[str, VirtualPrinter | dict[Any, bytes]]) -> None:
        self.received = received
        self.answering = answering
        self.sent: list[tuple[str, int]] = []
        self.closed = False

    def sendto(self, data: bytes, address: tuple[str, int]) -> None:
        self.sent.append(address)
        for host, who in self.answering.items():
            mib = printer_mib(who) if isinstance(who, VirtualPrinter) else who
            reply = answer(data, mib, b"public")
            if reply is not None:
                self.received(reply, (host, address[1]))
        self.received(b"\x30\x03garbage", ("192.0.2.99", address[1]))  # a stray datagram is dropped

    def close(self) -> None:
        self.closed = True


async def test_the_broadcast_asks_each_network_once_per_version_and_reads_each_answer() -> None:
    sockets: list[StubSocket] = []
    pt = VirtualPrinter("PT-P750W", "12mm", serial="E7Z100001")
    ql = VirtualPrinter("QL-820NWB", "29x90", serial="K8Q200002")
    from appliance.simulator.snmp_agent import octets, parse_oid

    router = {parse_oid("1.3.6.1.2.1.1.1.0"): octets("RouterOS")}

    async def open_stub(received: Any) -> StubSocket:
        sockets.append(StubSocket(received, {"192.0.2.10": pt, "192.0.2.11": ql, "192.0.2.1": router}))
        return sockets[0]

    found: list[candidate.Candidate] = []
    ignored: list[snmp_scan.Ignored] = []
    networks = [ipaddress.IPv4Network("192.0.2.0/24"), ipaddress.IPv4Network("198.51.100.0/25")]
    asked = await snmp_scan.broadcast(networks, port=161, community="public", window=0.05, found=found.append,
                                      ignored=ignored.append, open_socket=open_stub)
    assert asked == ["192.0.2.255", "198.51.100.127"]
    assert sockets[0].sent == [("192.0.2.255", 161)] * 2 + [("198.51.100.127", 161)] * 2 and sockets[0].closed
    # each agent answered four requests (v2c and v1 on each network): one candidate each
    assert sorted((c.address, c.model, c.serial, c.media) for c in found) == [
        ("192.0.2.10", "PT-P750W", "E7Z100001", "12mm"), ("192.0.2.11", "QL-820NWB", "K8Q200002", "29x90")]
    assert found[0].uri.startswith("tcp://192.0.2.1") and found[0].uri.endswith(":9100")
    assert [i.address for i in ignored] == ["192.0.2.1"] and "RouterOS" in ignored[0].why


def lay_out(root: Path, name: str, device_id: str | None) -> None:
    (root / "dev/usb").mkdir(parents=True, exist_ok=True)
    (root / "dev/usb" / name).write_bytes(b"")
    if device_id is not None:
        sysfs = root / "sys/class/usbmisc" / name / "device"
        sysfs.mkdir(parents=True)
        (sysfs / "ieee1284_id").write_text(device_id + "\n")


def test_usb_printers_are_named_by_their_1284_id_with_a_uri_that_survives_replugging(tmp_path: Path) -> None:
    lay_out(tmp_path, "lp0", "MFG:Brother;CMD:PT-CBP;MDL:PT-P750W;CLS:PRINTER;SN:E7Z100001;")
    lay_out(tmp_path, "lp1", "MFG:Brother;CMD:PJL;MDL:QL-700;CLS:PRINTER;")  # no serial: by its path
    lay_out(tmp_path, "lp2", "MFG:Hewlett-Packard;MDL:LaserJet 1020;")
    lay_out(tmp_path, "lp3", None)  # no sysfs id; the ioctl on a plain file fails: skipped
    found = usb.scan(tmp_path)
    assert [(c.model, c.serial, c.uri, c.other_uris) for c in found] == [
        ("PT-P750W", "E7Z100001", "usb://Brother/PT-P750W?serial=E7Z100001", ["usb:///dev/usb/lp0"]),
        ("QL-700", None, "usb:///dev/usb/lp1", [])]
    assert usb.lpioc_get_device_id(1024) == 0x84005001  # _IOC(_IOC_READ, 'P', 1, 1024) of linux/usb/lp.h


def test_dns_sd_services_are_brother_pt_ql_printers_only_when_their_txt_says_so() -> None:
    found = dnssd.from_service("Brother QL-820NWB._pdl-datastream._tcp.local.", ["192.0.2.20"],
                               {b"usb_MFG": b"Brother", b"usb_MDL": b"QL-820NWB", b"ty": b"Brother QL-820NWB"})
    assert found is not None and (found.model, found.uri, found.found_by) == (
        "QL-820NWB", "tcp://192.0.2.20:9100", {"dns-sd"})
    raw = dnssd.from_service("Brother PT-P750W._pdl-datastream._tcp.local.", ["192.0.2.23"],
                             {"ty": "Brother PT-P750W", "product": "(Brother PT-P750W)"}, 9101)
    assert raw is not None and raw.uri == "tcp://192.0.2.23:9101"  # a raw service's own port
    ipp = dnssd.from_service("Brother PT-P750W._ipp._tcp.local.", ["192.0.2.23"], {"ty": "Brother PT-P750W"}, 631)
    assert ipp is not None and ipp.uri == "tcp://192.0.2.23:9100"  # not IPP's port
    assert dnssd.from_service("HP._ipp._tcp.local.", ["192.0.2.21"], {b"ty": b"HP LaserJet"}) is None
    assert dnssd.from_service("Brother HL-L2350DW._ipp._tcp.local.", ["192.0.2.22"],
                              {b"ty": b"Brother HL-L2350DW"}) is None  # a Brother, but no label printer


def test_one_printer_found_three_ways_is_one_candidate_named_once() -> None:
    published: list[dict[str, Any]] = []
    discovery = run.Discovery([candidate.Known("shelf", "tcp://192.0.2.30:9100", "E7Z000009")], {"pt-p750w"},
                              published.append)
    discovery.add(candidate.Candidate("PT-P750W", "tcp://192.0.2.20:9100", {"snmp"}, serial="E7Z100001",
                                      address="192.0.2.20", snmp_port=161, media="12mm"))
    discovery.add(candidate.Candidate("PT-P750W", "usb://Brother/PT-P750W?serial=E7Z100001", {"usb"},
                                      serial="E7Z100001"))
    discovery.add(candidate.Candidate("PT-P750W", "tcp://192.0.2.20:9100", {"dns-sd"}, serial="E7Z100001"))
    discovery.add(candidate.Candidate("PT-P750W", "tcp://192.0.2.30:9100", {"snmp"}, serial="E7Z000009"))
    answer = discovery.answer(0.0)["printers"]
    one = next(p for p in answer if p["serial"] == "E7Z100001")
    assert one["found_by"] == ["dns-sd", "snmp", "usb"] and one["other_uris"] == [
        "usb://Brother/PT-P750W?serial=E7Z100001"]
    assert one["suggested_name"] == "pt-p750w-2"  # pt-p750w is taken
    assert next(p for p in answer if p["serial"] == "E7Z000009")["configured_as"] == "shelf"
    assert len(published) == 4  # each new or changed candidate streamed; the dns-sd sighting changed found_by


async def test_the_test_suite_never_searches_the_local_network() -> None:
    assert run.loopback_only()  # tests/conftest.py sets it, for every test and the servers they start
    asked: list[str] = []

    def local() -> list[ipaddress.IPv4Network]:
        asked.append("local networks")
        return [ipaddress.IPv4Network("192.0.2.0/24")]

    answer = await run.discover(network=None, snmp_port=161, community="public", timeout_s=0.5, known=[], taken=[],
                                usb_root=Path("/nonexistent"), local_networks=local)
    assert asked == [] and "not searched here" in answer["searched"][0]
    try:
        await run.discover(network="192.0.2.0/30", snmp_port=161, community="public", timeout_s=0.5, known=[],
                           taken=[], usb_root=Path("/nonexistent"))
    except run.networks.NetworkError as exc:
        assert "only loopback" in str(exc)
    else:
        raise AssertionError("a non-loopback network was swept")
