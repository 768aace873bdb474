"""The virtual printer as SNMP sees it: Brother's status block plus the standard printer OIDs.

Built afresh for every request from the printer's state. Host Resources mapping (RFC 2790 /
RFC 3805): an error that needs a person → hrDeviceStatus down(5), hrPrinterStatus other(1);
no cassette → warning(3); otherwise running(2) with idle(3) or printing(4).
hrPrinterDetectedErrorState: no cassette / tape out → noPaper, cover open → doorOpen,
offline → offline, wrong tape → serviceRequested (the MIB has no "media mismatch" bit).
"""

from __future__ import annotations

import time
from typing import Any

from appliance.simulator.snmp_agent import Oid, counter32, integer, object_id, octets, parse_oid, timeticks
from appliance.simulator.state import COVER_OPEN, END_OF_MEDIA, NO_MEDIA, WRONG_MEDIA, Phase, VirtualPrinter

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
HR_DEVICE_STATUS = "1.3.6.1.2.1.25.3.2.1.5.1"
HR_PRINTER_STATUS = "1.3.6.1.2.1.25.3.5.1.1.1"
HR_DETECTED_ERRORS = "1.3.6.1.2.1.25.3.5.1.2.1"
SERIAL = "1.3.6.1.2.1.43.5.1.1.17.1"
MARKER_LIFE_COUNT = "1.3.6.1.2.1.43.10.2.1.4.1.1"
DEVICE_ID = "1.3.6.1.4.1.2435.2.3.9.1.1.7.0"
STATUS_BLOCK = "1.3.6.1.4.1.2435.3.3.9.1.6.1.0"
BROTHER_OBJECT_ID = "1.3.6.1.4.1.2435.2.3.9.1"

BIT_NO_PAPER, BIT_DOOR_OPEN, BIT_OFFLINE, BIT_SERVICE_REQUESTED = 1, 4, 6, 7

_started = time.monotonic()


def host_status(printer: VirtualPrinter) -> tuple[int, int]:
    """(hrDeviceStatus, hrPrinterStatus)."""
    if printer.active_errors() or printer.offline:
        return 5, 1
    if printer.tape is None:
        return 3, 3
    return 2, 4 if printer.phase == Phase.PRINTING else 3


def detected_errors(printer: VirtualPrinter) -> bytes:
    errors = printer.active_errors()
    bits: set[int] = set()
    if printer.tape is None or errors & {NO_MEDIA, END_OF_MEDIA}:
        bits.add(BIT_NO_PAPER)
    if COVER_OPEN in errors:
        bits.add(BIT_DOOR_OPEN)
    if printer.offline:
        bits.add(BIT_OFFLINE)
    if WRONG_MEDIA in errors:
        bits.add(BIT_SERVICE_REQUESTED)
    value = 0
    for bit in bits:
        value |= 0x8000 >> bit
    return value.to_bytes(2, "big")


def device_id(printer: VirtualPrinter) -> str:
    return f"MFG:Brother;CMD:PJL;MDL:{printer.model.name};CLS:PRINTER;"


def printer_mib(printer: VirtualPrinter) -> dict[Oid, Any]:
    device, printer_status = host_status(printer)
    values = {
        SYS_DESCR: octets(f"Brother {printer.model.name} (virtual printer)"),
        SYS_OBJECT_ID: object_id(BROTHER_OBJECT_ID),
        SYS_UPTIME: timeticks(int((time.monotonic() - _started) * 100)),
        SYS_NAME: octets(printer.sys_name),
        HR_DEVICE_STATUS: integer(device),
        HR_PRINTER_STATUS: integer(printer_status),
        HR_DETECTED_ERRORS: octets(detected_errors(printer)),
        SERIAL: octets(printer.serial),
        MARKER_LIFE_COUNT: counter32(printer.page_counter),
        DEVICE_ID: octets(device_id(printer)),
        STATUS_BLOCK: octets(printer.status_block()),
    }
    return {parse_oid(oid): value for oid, value in values.items() if oid not in printer.snmp_omit}
