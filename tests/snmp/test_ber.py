import pytest

from appliance.simulator import ber


@pytest.mark.parametrize("n", [0, 1, 127, 128, 255, 256, -1, -128, -129, 2**31 - 1, -(2**31)])
def test_integer_round_trip(n: int) -> None:
    item, end = ber.read_tlv(ber.encode_int(ber.INTEGER, n))
    assert ber.decode_int(item.value) == n
    assert end == len(ber.encode_int(ber.INTEGER, n))


def test_integer_encoding_is_minimal() -> None:
    assert ber.encode_int(ber.INTEGER, 0) == b"\x02\x01\x00"
    assert ber.encode_int(ber.INTEGER, 128) == b"\x02\x02\x00\x80"
    assert ber.encode_int(ber.COUNTER32, 0xFFFFFFFF) == b"\x41\x05\x00\xff\xff\xff\xff"


def test_oid_round_trip_with_multibyte_arcs() -> None:
    oid = ber.parse_oid("1.3.6.1.4.1.2435.3.3.9.1.6.1.0")
    encoded = ber.encode_oid(oid)
    assert encoded[:3] == b"\x06\x0e\x2b"  # 14 bytes; 1.3 → 0x2b
    assert ber.decode_oid(ber.read_tlv(encoded)[0].value) == oid


def test_long_lengths() -> None:
    value = bytes(300)
    item, _ = ber.read_tlv(ber.tlv(ber.OCTET_STRING, value))
    assert item.value == value
    assert ber.encode_length(300) == b"\x82\x01\x2c"


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x05\x02\x01", b"\x30\x85\x00\x00\x00\x00\x01"])
def test_truncated_or_odd_input_raises_ber_error(data: bytes) -> None:
    with pytest.raises(ber.BerError):
        ber.read_tlv(data)
