"""Stable names: usb://Brother/MODEL?serial=SN finds its printer by the IEEE 1284 id, on every open.

Two virtual printers of the same model sit at dev/usb/lp0 and lp1 with sysfs-like entries; the
kernel's numbering is then swapped by re-plugging them in the other order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError
from appliance.printer.transport import InvalidURIError, TransportError, UsbTransport, open_transport
from appliance.printer.usb_devices import UsbSelector, device_id_fields, list_nodes, parse_usb_uri, resolve
from rpc.client import RpcClient
from tests.fast_fixtures import wait_job
from tests.simulator.helpers import job
from tests.support import configured, printer_table, running

URI_B = "usb://Brother/PT-P750W?serial=E7Z0000BB"


async def test_the_serial_picks_the_node_and_is_looked_up_again_after_a_replug(usb_printers, usb_roots) -> None:
    dev, _ = usb_roots
    a = await usb_printers(node="lp0", serial="E7Z0000AA", speed=None)
    b = await usb_printers(node="lp1", serial="E7Z0000BB", speed=None)
    assert [(n.name, n.fields["SN"]) for n in list_nodes()] == [("lp0", "E7Z0000AA"), ("lp1", "E7Z0000BB")]
    transport = open_transport(URI_B)
    assert isinstance(transport, UsbTransport)
    await transport.send(job("to B"))
    assert transport.path == str(dev / "usb" / "lp1")
    await b.printer.wait_for(lambda p: len(p.printed) == 1, timeout=5)
    # both unplugged, B plugged in first: the kernel gives it lp0 now
    assert a.usb is not None and b.usb is not None
    a.usb.unplug()
    b.usb.unplug()
    b.usb.plug(dev / "usb" / "lp0")
    a.usb.plug(dev / "usb" / "lp1")
    session = await transport.session()
    try:
        assert transport.path == str(dev / "usb" / "lp0")
        await session.send(job("to B again"), timeout=5)
        await b.printer.wait_for(lambda p: len(p.printed) == 2, timeout=5)
    finally:
        await transport.close()
    assert a.printer.printed == [] and a.printer.jobs_received == 0


async def test_two_alike_without_a_serial_is_a_question_for_a_person(usb_printers) -> None:
    await usb_printers(node="lp0", serial="E7Z0000AA")
    await usb_printers(node="lp1", serial="E7Z0000BB")
    with pytest.raises(TransportError) as ambiguous:
        await open_transport("usb://Brother/PT-P750W").request_status()
    error = ambiguous.value
    assert (error.reason, error.retryable, error.reached) == ("printer-ambiguous", True, False)  # jobs wait
    assert "E7Z0000AA" in error.message and "?serial=" in error.message


async def test_one_printer_of_its_model_is_found_without_a_serial(usb_printers) -> None:
    await usb_printers("QL-820NWB", "62mm", node="lp3", serial="K9Z000042")
    block = await open_transport("usb://brother/ql-820nwb").request_status()
    assert block is not None and block[4] == 0x41  # the QL-820NWB's model code


async def test_a_printer_not_plugged_in_is_offline_and_nothing_was_sent(usb_printers) -> None:
    await usb_printers(node="lp0", serial="E7Z0000AA")
    transport = open_transport("usb://Brother/PT-P750W?serial=NOPE")
    with pytest.raises(TransportError) as offline:
        await transport.send(job("nowhere"))
    assert (offline.value.reason, offline.value.retryable, offline.value.reached) == ("printer-offline", True, False)
    assert "E7Z0000AA" in offline.value.message  # says what is plugged in instead


def test_device_ids_in_either_spelling(tmp_path: Path) -> None:
    assert device_id_fields("MANUFACTURER:Brother;COMMAND SET:PT-CBP;MODEL:QL-700;SERN:000G5J123;\n") == {
        "MFG": "Brother", "CMD": "PT-CBP", "MDL": "QL-700", "SN": "000G5J123"}  # fmt: skip
    (tmp_path / "lp7" / "device").mkdir(parents=True)
    (tmp_path / "lp7" / "device" / "ieee1284_id").write_text("MFG:Brother;MDL:QL-700;SN:X1;")
    (tmp_path / "lp7" / "uevent").write_text("MAJOR=180\nMINOR=7\nDEVNAME=usb/lp7\n")
    (tmp_path / "not-a-printer").mkdir()
    node = resolve(UsbSelector("Brother", "QL-700", "X1"), sysfs=tmp_path, dev="/dev")
    assert node.path == Path("/dev/usb/lp7")


@pytest.mark.parametrize(
    ("uri", "said"),
    [
        ("usb://Brother/?serial=X", "usb://MAKER/MODEL?serial=SERIAL"),
        ("usb://Brother/PT-P700?serial=", "one non-empty serial"),
        ("usb://Brother/PT-P700?sn=X", "unknown parameter 'sn'"),
        ("usb://Brother/PT/P700", "three slashes"),
    ],
)
def test_bad_usb_uris_are_refused_saying_how(uri: str, said: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidURIError, match=said.replace("?", r"\?")):
        open_transport(uri)
    with pytest.raises(ConfigError) as bad:
        configured(tmp_path / "state", tmp_path, printer_table("desk", "PT-P700", uri, "12mm"))
    assert bad.value.key == "printers[0].uri" and said in bad.value.expected


def test_the_uri_forms() -> None:
    assert parse_usb_uri("usb:///dev/usb/lp0") == "/dev/usb/lp0"
    assert parse_usb_uri("usb://Brother/PT-P700?serial=E7Z123456") == UsbSelector("Brother", "PT-P700", "E7Z123456")
    assert str(parse_usb_uri("usb://Brother/PT%20P700")) == "usb://Brother/PT P700"


async def test_the_server_prints_to_a_serial_uri_and_readiness_names_the_node(
    usb_printers, usb_roots, state_dir: Path, tmp_path: Path
) -> None:
    dev, _ = usb_roots
    await usb_printers(node="lp0", serial="E7Z0000AA", speed=None)
    b = await usb_printers(node="lp1", serial="E7Z0000BB", speed=None)
    settings = configured(state_dir, tmp_path, printer_table("desk", "PT-P750W", URI_B, "12mm", poll_interval_s=0.2))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        document = await app.readiness()
        [usb] = document["checks"]["printer:usbDevice"]
        assert (usb["status"], usb["observedValue"], usb["componentId"]) == ("pass", str(dev / "usb" / "lp1"), "desk")
        assert usb["output"] == f"{URI_B} is lp1"
        submitted = await rpc.call("print.submit", {"template": "text", "fields": {"text": "by serial"}})
        await wait_job(rpc, submitted["id"], ("completed",), timeout=15)
        assert len(b.printer.printed) == 1
        assert b.usb is not None
        b.usb.unplug()
        [gone] = (await app.readiness())["checks"]["printer:usbDevice"]
        assert gone["status"] == "warn" and "no such printer plugged in" in gone["output"]
