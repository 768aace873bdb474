"""The few BER (X.690) encodings an SNMP v1/v2c agent needs, by hand.

Small on purpose: the virtual printer's agent must start fast and stay light,
so it does not load pysnmp's MIB machinery. Only definite lengths, only the
universal and SNMP application types a printer's MIB uses.
"""

from __future__ import annotations

from dataclasses import dataclass

Oid = tuple[int, ...]

INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82


class BerError(ValueError):
    """The bytes are not the BER this codec understands."""


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def encode_int(tag: int, n: int) -> bytes:
    """Two's complement, minimal length (INTEGER); unsigned types get a leading 0 when needed."""
    length = max(1, (n + (n < 0)).bit_length() // 8 + 1)
    return tlv(tag, n.to_bytes(length, "big", signed=True))


def encode_oid(oid: Oid) -> bytes:
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] > 39):
        raise BerError(f"cannot encode OID {oid}")
    arcs = [oid[0] * 40 + oid[1], *oid[2:]]
    out = bytearray()
    for arc in arcs:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return tlv(OBJECT_IDENTIFIER, bytes(out))


def read_tlv(data: bytes, pos: int = 0) -> tuple[Tlv, int]:
    """One TLV at `pos`; returns it and the position just after it."""
    if pos + 2 > len(data):
        raise BerError("truncated TLV header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise BerError("multi-byte tags are not supported")
    first = data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise BerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    end = pos + length
    if end > len(data):
        raise BerError("truncated value")
    return Tlv(tag, data[pos:end]), end


def read_all(data: bytes) -> list[Tlv]:
    """Every TLV inside a constructed value, in order."""
    items: list[Tlv] = []
    pos = 0
    while pos < len(data):
        item, pos = read_tlv(data, pos)
        items.append(item)
    return items


def expect(item: Tlv, tag: int) -> bytes:
    if item.tag != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{item.tag:02x}")
    return item.value


def decode_int(value: bytes) -> int:
    if not value:
        raise BerError("empty INTEGER")
    return int.from_bytes(value, "big", signed=True)


def decode_oid(value: bytes) -> Oid:
    if not value:
        raise BerError("empty OID")
    arcs: list[int] = []
    arc = 0
    for byte in value:
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    if value[-1] & 0x80:
        raise BerError("OID ends mid-arc")
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def parse_oid(text: str) -> Oid:
    return tuple(int(part) for part in text.strip(".").split("."))


def format_oid(oid: Oid) -> str:
    return ".".join(str(arc) for arc in oid)
