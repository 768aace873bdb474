"""The agent's answers, byte for byte, against pyasn1's BER codec and pysnmp's message types.

These were the tests of the hand-written BER codec (ber.py); the agent now uses the library, so
they check what a client sees: each value type and edge size decodes to what the MIB held, the
encoding is the minimal one real agents send, and odd datagrams are dropped, never answered
with an exception.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import rfc1905
from pysnmp.proto.api import v1, v2c

from appliance.simulator.snmp_agent import (
    GEN_ERR,
    NO_SUCH_NAME,
    NOT_WRITABLE,
    answer,
    counter32,
    integer,
    object_id,
    octets,
    parse_oid,
    timeticks,
)

COMMUNITY = b"public"


def request(oids: list[str], *, api: Any = v2c, kind: str = "GetRequestPDU", community: str = "public",
            non_repeaters: int = 0, max_repetitions: int = 10) -> bytes:
    """A request as a client builds it, with the library (not the code under test)."""
    pdu = getattr(api, kind)()
    if kind == "GetBulkRequestPDU":
        api.apiBulkPDU.set_defaults(pdu)
        api.apiBulkPDU.set_non_repeaters(pdu, non_repeaters)
        api.apiBulkPDU.set_max_repetitions(pdu, max_repetitions)
    else:
        api.apiPDU.set_defaults(pdu)
    api.apiPDU.set_request_id(pdu, 4242)
    api.apiPDU.set_varbinds(pdu, [(api.ObjectIdentifier(oid), api.null) for oid in oids])
    message = api.Message()
    api.apiMessage.set_defaults(message)
    api.apiMessage.set_community(message, community)
    api.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def reply(data: bytes | None, api: Any = v2c) -> tuple[int, int, list[tuple[str, Any]]]:
    """(error status, error index, [(OID, value)]) of an answer."""
    assert data is not None, "the agent did not answer"
    message, rest = decoder.decode(data, asn1Spec=api.Message())
    assert rest == b""
    pdu = api.apiMessage.get_pdu(message)
    assert pdu.tagSet == api.GetResponsePDU.tagSet and int(api.apiPDU.get_request_id(pdu)) == 4242
    assert bytes(api.apiMessage.get_community(message)) == COMMUNITY
    return (int(api.apiPDU.get_error_status(pdu)), int(api.apiPDU.get_error_index(pdu)),
            [(str(name), value) for name, value in api.apiPDU.get_varbinds(pdu)])


@pytest.mark.parametrize("n", [0, 1, 127, 128, 255, 256, -1, -128, -129, 2**31 - 1, -(2**31)])
def test_integers_round_trip_at_every_length_boundary(n: int) -> None:
    mib = {parse_oid("1.3.6.1.2.1.25.3.2.1.5.1"): integer(n)}
    status, _, values = reply(answer(request(["1.3.6.1.2.1.25.3.2.1.5.1"]), mib, COMMUNITY))
    assert status == 0 and int(values[0][1]) == n


def test_encodings_are_minimal() -> None:
    for value, encoded in ((integer(0), b"\x02\x01\x00"), (integer(128), b"\x02\x02\x00\x80"),
                           (counter32(0xFFFFFFFF), b"\x41\x05\x00\xff\xff\xff\xff"),
                           (counter32(2**32 + 5), b"\x41\x01\x05"), (timeticks(100), b"\x43\x01\x64")):
        data = answer(request(["1.3.6.1.2.1.1.3.0"]), {parse_oid("1.3.6.1.2.1.1.3.0"): value}, COMMUNITY)
        assert data is not None and data.endswith(encoded), (value, data.hex())


def test_every_value_type_the_printer_mib_uses_decodes_to_its_type() -> None:
    mib = {parse_oid("1.3.6.1.2.1.1.1.0"): octets("Brother"),
           parse_oid("1.3.6.1.2.1.1.2.0"): object_id("1.3.6.1.4.1.2435"),
           parse_oid("1.3.6.1.2.1.1.3.0"): timeticks(12345), parse_oid("1.3.6.1.2.1.43.10.2.1.4.1.1"): counter32(7)}
    for api in (v1, v2c):
        status, _, values = reply(answer(request([".".join(map(str, oid)) for oid in mib], api=api), mib, COMMUNITY),
                                  api)
        assert status == 0
        assert [value.tagSet for _, value in values] == [value.tagSet for value in mib.values()]  # v1 names
        # Counter32 "Counter", with the same tag
        assert (bytes(values[0][1]), str(values[1][1]), int(values[2][1]), int(values[3][1])) == \
            (b"Brother", "1.3.6.1.4.1.2435", 12345, 7)


def test_multibyte_oid_arcs_and_long_lengths() -> None:
    oid = "1.3.6.1.4.1.2435.3.3.9.1.6.1.0"
    data = answer(request([oid]), {parse_oid(oid): octets(bytes(300))}, COMMUNITY)
    assert data is not None and b"\x06\x0e\x2b\x06\x01\x04\x01\x93\x03" in data  # 2435 → 0x93 0x03
    assert b"\x04\x82\x01\x2c" + bytes(300) in data  # a 300-byte OCTET STRING: long form length
    assert reply(data)[2] == [(oid, bytes(300))]


def test_missing_objects_v2c_exceptions_and_v1_no_such_name() -> None:
    mib = {parse_oid("1.3.6.1.2.1.1.5.0"): octets("x")}
    _, _, values = reply(answer(request(["1.3.6.1.2.1.1.5.1", "1.3.6.1.2.1.9.0"]), mib, COMMUNITY))
    assert isinstance(values[0][1], rfc1905.NoSuchInstance) and isinstance(values[1][1], rfc1905.NoSuchObject)
    status, index, values = reply(answer(request(["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.9.0"], api=v1), mib, COMMUNITY),
                                  v1)
    assert (status, index) == (NO_SUCH_NAME, 2) and [oid for oid, _ in values] == ["1.3.6.1.2.1.1.5.0",
                                                                                  "1.3.6.1.2.1.9.0"]


def test_getbulk_walks_and_ends_with_end_of_mib_view() -> None:
    mib = {parse_oid(f"1.3.6.1.2.1.1.{n}.0"): integer(n) for n in (1, 2, 3)}
    data = answer(request(["1.3.6.1.2.1.1.1.0", "1.3"], kind="GetBulkRequestPDU", non_repeaters=1,
                          max_repetitions=10), mib, COMMUNITY)
    _, _, values = reply(data)
    names = [oid for oid, _ in values]
    assert names[0] == "1.3.6.1.2.1.1.2.0"  # the non-repeater
    assert names[1:4] == ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0"]
    assert len(values) == 5 and isinstance(values[4][1], rfc1905.EndOfMibView)  # stops after one row of ends


def test_set_is_refused_as_read_only() -> None:
    mib = {parse_oid("1.3.6.1.2.1.1.5.0"): octets("x")}
    assert reply(answer(request(["1.3.6.1.2.1.1.5.0"], kind="SetRequestPDU"), mib, COMMUNITY))[:2] == (NOT_WRITABLE, 1)
    assert reply(answer(request(["1.3.6.1.2.1.1.5.0"], api=v1, kind="SetRequestPDU"), mib, COMMUNITY), v1)[:2] == \
        (NO_SUCH_NAME, 1)


def test_a_response_pdu_sent_to_the_agent_is_a_gen_err() -> None:
    mib = {parse_oid("1.3.6.1.2.1.1.5.0"): octets("x")}
    assert reply(answer(request(["1.3.6.1.2.1.1.5.0"], kind="ResponsePDU"), mib, COMMUNITY))[0] == GEN_ERR


@pytest.mark.parametrize("data", [
    b"", b"\x30", b"\x30\x05\x02\x01", b"\x30\x85\x00\x00\x00\x00\x01", bytes(range(256)),
    b"\x30\x03\x02\x01\x01",  # a version and nothing else
    b"\x30" + b"\x80" + b"\x30\x80" * 2000,  # indefinite lengths nested deep, never closed
    b"\x30\x84\xff\xff\xff\xff\x02\x01\x01",  # a length of 4 GiB
])
def test_truncated_or_odd_datagrams_are_dropped(data: bytes) -> None:
    assert answer(data, {parse_oid("1.3.6.1.2.1.1.5.0"): octets("x")}, COMMUNITY) is None


def test_wrong_community_v3_and_v1_getbulk_are_dropped() -> None:
    mib = {parse_oid("1.3.6.1.2.1.1.5.0"): octets("x")}
    assert answer(request(["1.3.6.1.2.1.1.5.0"], community="private"), mib, COMMUNITY) is None
    v3ish = request(["1.3.6.1.2.1.1.5.0"]).replace(b"\x02\x01\x01", b"\x02\x01\x03", 1)  # version 3
    assert answer(v3ish, mib, COMMUNITY) is None
    bulk_in_v1 = request(["1.3"], kind="GetBulkRequestPDU").replace(b"\x02\x01\x01", b"\x02\x01\x00", 1)
    assert answer(bulk_in_v1, mib, COMMUNITY) is None
    assert answer(request(["1.3.6.1.2.1.1.5.0"], api=v1), mib, COMMUNITY, frozenset({1})) is None  # v2c-only
