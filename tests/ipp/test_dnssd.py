"""DNS-SD as data: the TXT keys of PWG 5100.14 and the service records; never a multicast on a network."""

from __future__ import annotations

from pathlib import Path

from appliance.ipp import dnssd
from tests.support import make_settings, running


async def test_txt_record_has_the_pwg_5100_14_keys(fast) -> None:
    runtime = fast.printers[0]
    txt = dnssd.txt_record(runtime, admin_url="http://box.local:8631/", auth="token", priority=0)
    for key in ("txtvers", "rp", "ty", "pdl", "UUID", "URF", "Color", "kind", "note", "adminurl", "priority"):
        assert key in txt, key
    assert txt["rp"] == "ipp/print/virtual"
    assert txt["ty"] == "Brother PT-P750W"
    assert txt["UUID"] == runtime.id
    assert "RS180" in txt["URF"] and "image/pwg-raster" in txt["pdl"] and "application/pdf" in txt["pdl"]
    assert (txt["Color"], txt["kind"], txt["air"]) == ("F", "label", "username,password")


async def test_the_service_is_ipp_with_the_print_subtype(fast) -> None:
    info = dnssd.service_info(fast.printers[0], hostname="box", port=8631, auth="none", priority=0,
                              addresses=["127.0.0.1"])
    assert info.type == "_print._sub._ipp._tcp.local."
    assert info.name == "virtual @ box._ipp._tcp.local."
    assert info.port == 8631
    assert info.properties[b"rp"] == b"ipp/print/virtual"


async def test_with_tls_the_service_is_ipps_with_tls_in_the_txt(fast) -> None:
    info = dnssd.service_info(fast.printers[0], hostname="box", port=8631, auth="token", priority=0,
                              addresses=["127.0.0.1"], tls=True)
    assert info.type == "_print._sub._ipps._tcp.local."
    assert info.name == "virtual @ box._ipps._tcp.local."
    assert info.properties[b"TLS"] == b"1.2"
    assert info.properties[b"adminurl"] == b"https://box.local:8631/"
    plain = dnssd.service_info(fast.printers[0], hostname="box", port=8631, auth="token", priority=0,
                               addresses=["127.0.0.1"])
    assert (plain.properties[b"TLS"], plain.properties[b"adminurl"]) == (b"", b"http://box.local:8631/")


async def test_a_printer_name_is_url_encoded_in_rp(fast) -> None:
    assert dnssd.resource_path("Front desk") == "ipp/print/Front%20desk"
    assert dnssd.resource_path("a/b?c") == "ipp/print/a%2Fb%3Fc"


async def test_readiness_says_why_nothing_is_announced(state_dir: Path, tmp_path: Path) -> None:
    async with running(make_settings(state_dir)) as app:  # tests listen on 127.0.0.1: nothing to announce
        check = (await app.readiness())["checks"]["ipp:dnssd"][0]
        assert check["status"] == "pass"
        assert "listens on 127.0.0.1 only" in check["output"]
    async with running(make_settings(tmp_path / "off", ipp={"advertise": False})) as app:
        check = (await app.readiness())["checks"]["ipp:dnssd"][0]
        assert check["output"] == "off: [ipp] advertise = false"
