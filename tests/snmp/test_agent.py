"""The virtual printer's agent (pyasn1's BER codec), checked by independent clients: pysnmp and net-snmp."""

import asyncio
import shutil
import time
from collections.abc import AsyncIterator

import pytest
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.proto import rfc1905

from appliance.simulator.snmp_agent import SnmpAgent, counter32, format_oid, integer, octets, parse_oid

BLOCK = bytes.fromhex("80 20 42 30 68 30 04 00 00 00 0C 01" + " 00" * 12 + " 01 08" + " 00" * 6)
MIB = {
    parse_oid("1.3.6.1.2.1.1.1.0"): octets("Brother NC-XXXXw, Firmware Ver.1.0"),
    parse_oid("1.3.6.1.2.1.1.5.0"): octets("BRW-TEST"),
    parse_oid("1.3.6.1.2.1.25.3.2.1.5.1"): integer(2),
    parse_oid("1.3.6.1.2.1.43.10.2.1.4.1.1"): counter32(7),
    parse_oid("1.3.6.1.4.1.2435.3.3.9.1.6.1.0"): octets(BLOCK),
}


class Knobs:
    silent = False
    delay_ms = 0.0


@pytest.fixture
async def agent() -> AsyncIterator[tuple[SnmpAgent, Knobs]]:
    knobs = Knobs()
    a = SnmpAgent(lambda: MIB, silent=lambda: knobs.silent, delay_ms=lambda: knobs.delay_ms)
    await a.start("127.0.0.1", 0)
    yield a, knobs
    await a.stop()


@pytest.fixture
async def engine() -> AsyncIterator[SnmpEngine]:
    e = SnmpEngine()
    yield e
    e.close_dispatcher()


async def _target(a: SnmpAgent, timeout: float = 1.0):
    return await UdpTransportTarget.create(a.address, timeout=timeout, retries=0)


async def test_get_v2c_returns_typed_values_and_exceptions(agent, engine) -> None:
    a, _ = agent
    err, status, _, vbs = await get_cmd(
        engine, CommunityData("public"), await _target(a), ContextData(),
        ObjectType(ObjectIdentity("1.3.6.1.4.1.2435.3.3.9.1.6.1.0")),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.43.10.2.1.4.1.1")),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.1.5.1")),  # sysName exists, instance .1 does not
        ObjectType(ObjectIdentity("1.3.6.1.2.1.43.5.1.1.17.1")),  # no such object at all
        lookupMib=False,
    )  # fmt: skip
    assert err is None and int(status) == 0
    assert bytes(vbs[0][1].asOctets()) == BLOCK
    assert int(vbs[1][1]) == 7 and type(vbs[1][1]).__name__ == "Counter32"
    assert isinstance(vbs[2][1], rfc1905.NoSuchInstance)
    assert isinstance(vbs[3][1], rfc1905.NoSuchObject)


async def test_get_v1_missing_oid_is_no_such_name_with_index(agent, engine) -> None:
    a, _ = agent
    _, status, index, _ = await get_cmd(
        engine, CommunityData("public", mpModel=0), await _target(a), ContextData(),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.1.1.0")),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.43.5.1.1.17.1")),
        lookupMib=False,
    )  # fmt: skip
    assert int(status) == 2 and int(index) == 2


async def test_getnext_and_getbulk_walk_in_order(agent, engine) -> None:
    a, _ = agent
    _, _, _, vbs = await next_cmd(
        engine, CommunityData("public"), await _target(a), ContextData(),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.1.1.0")), lookupMib=False,
    )  # fmt: skip
    assert str(vbs[0][0]) == "1.3.6.1.2.1.1.5.0"
    _, _, _, vbs = await bulk_cmd(
        engine, CommunityData("public"), await _target(a), ContextData(), 0, 10,
        ObjectType(ObjectIdentity("1.3")), lookupMib=False,
    )  # fmt: skip
    names = [str(name) for name, value in vbs if not isinstance(value, rfc1905.EndOfMibView)]
    assert names == [format_oid(oid) for oid in sorted(MIB)]


async def test_wrong_community_gets_no_answer(agent, engine) -> None:
    a, _ = agent
    err, *_ = await get_cmd(
        engine, CommunityData("private"), await _target(a, 0.3), ContextData(),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.1.1.0")), lookupMib=False,
    )  # fmt: skip
    assert err is not None and "timeout" in str(err).lower()
    assert a.received == 1 and a.answered == 0


async def test_silent_and_delayed(agent, engine) -> None:
    a, knobs = agent
    knobs.silent = True
    err, *_ = await get_cmd(
        engine, CommunityData("public"), await _target(a, 0.3), ContextData(),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.1.1.0")), lookupMib=False,
    )  # fmt: skip
    assert err is not None
    knobs.silent, knobs.delay_ms = False, 250
    started = time.perf_counter()
    err, _, _, vbs = await get_cmd(
        engine, CommunityData("public"), await _target(a, 2.0), ContextData(),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.1.5.0")), lookupMib=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert err is None and str(vbs[0][1]) == "BRW-TEST"
    assert 0.25 <= elapsed < 3.0  # the 250 ms delay was applied; room for a loaded machine


async def test_garbage_datagrams_are_ignored(agent, engine) -> None:
    a, _ = agent
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=a.address)
    for junk in (b"", b"\x30", b"\x30\x03\x02\x01\x01", bytes(range(256))):
        transport.sendto(junk)
    transport.close()
    await asyncio.sleep(0.05)
    err, *_ = await get_cmd(
        engine, CommunityData("public"), await _target(a), ContextData(),
        ObjectType(ObjectIdentity("1.3.6.1.2.1.1.5.0")), lookupMib=False,
    )  # fmt: skip
    assert err is None and a.received >= 4  # the empty datagram may not arrive


@pytest.mark.skipif(shutil.which("snmpget") is None, reason="net-snmp's snmpget is not installed")
@pytest.mark.parametrize("version", ["-v2c", "-v1"])
async def test_net_snmp_snmpget_reads_the_agent(agent, version: str) -> None:
    a, _ = agent
    host, port = a.address
    proc = await asyncio.create_subprocess_exec(
        "snmpget", version, "-c", "public", "-On", "-t", "1", "-r", "0", f"{host}:{port}",
        "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.25.3.2.1.5.1", "1.3.6.1.2.1.43.10.2.1.4.1.1",
        "1.3.6.1.4.1.2435.3.3.9.1.6.1.0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out = (await proc.communicate())[0].decode()
    assert proc.returncode == 0, out
    assert '.1.3.6.1.2.1.1.5.0 = STRING: "BRW-TEST"' in out
    assert ".1.3.6.1.2.1.25.3.2.1.5.1 = INTEGER: 2" in out
    assert ".1.3.6.1.2.1.43.10.2.1.4.1.1 = Counter32: 7" in out
    assert "Hex-STRING: 80 20 42 30 68 30 04 00 00 00 0C 01" in out


async def _net_snmp(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out = (await proc.communicate())[0].decode()
    assert proc.returncode == 0, out
    return out


@pytest.mark.skipif(shutil.which("snmpwalk") is None, reason="net-snmp's snmpwalk is not installed")
@pytest.mark.parametrize("version", ["-v2c", "-v1"])
async def test_net_snmp_snmpwalk_walks_the_whole_mib_in_order(agent, version: str) -> None:
    a, _ = agent
    host, port = a.address
    out = await _net_snmp("snmpwalk", version, "-c", "public", "-On", "-t", "1", "-r", "0", f"{host}:{port}", ".1")
    names = [line.split(" = ")[0] for line in out.splitlines() if " = " in line and "No more variables" not in line]
    assert names == ["." + format_oid(oid) for oid in sorted(MIB)], out
    assert '.1.3.6.1.2.1.1.1.0 = STRING: "Brother NC-XXXXw, Firmware Ver.1.0"' in out
    assert ".1.3.6.1.2.1.43.10.2.1.4.1.1 = Counter32: 7" in out


@pytest.mark.skipif(shutil.which("snmpbulkget") is None, reason="net-snmp's snmpbulkget is not installed")
async def test_net_snmp_snmpbulkget_with_non_repeaters_and_the_end_of_the_mib(agent) -> None:
    a, _ = agent
    host, port = a.address
    out = await _net_snmp("snmpbulkget", "-v2c", "-c", "public", "-On", "-t", "1", "-r", "0", "-Cn1", "-Cr3",
                          f"{host}:{port}", "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.43")
    lines = out.splitlines()
    assert lines[0] == '.1.3.6.1.2.1.1.5.0 = STRING: "BRW-TEST"', out  # the non-repeater: the next object
    assert lines[1] == ".1.3.6.1.2.1.43.10.2.1.4.1.1 = Counter32: 7", out
    assert lines[2].startswith(".1.3.6.1.4.1.2435.3.3.9.1.6.1.0 = Hex-STRING: 80 20 42"), out
    assert lines[-1] == (".1.3.6.1.4.1.2435.3.3.9.1.6.1.0 = No more variables left in this MIB View "
                         "(It is past the end of the MIB tree)"), out  # the hex string above spans two lines
