"""The IPP wire format (RFC 8010 §3): version, operation or status code, request id, attribute groups.

A message is read from a binary file (the request body spooled to memory or disk) and stops
where the document data begins; everything it holds is bounded: a value's length by the
format itself (two bytes), an attribute's total by `MAX_ATTRIBUTE_BYTES`, the whole
attribute part by `MAX_ATTRIBUTES_BYTES`, collections by `MAX_DEPTH`. Anything else wrong
is a `MessageError` naming the status to answer with.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import IO, Any

from . import codes

MAX_ATTRIBUTE_BYTES = 64 * 1024
MAX_ATTRIBUTES_BYTES = 256 * 1024
MAX_DEPTH = 8

# value tags (RFC 8010 §3.5.2)
UNSUPPORTED_VALUE = 0x10
UNKNOWN = 0x12
NO_VALUE = 0x13
INTEGER = 0x21
BOOLEAN = 0x22
ENUM = 0x23
OCTET_STRING = 0x30
DATE_TIME = 0x31
RESOLUTION = 0x32
RANGE = 0x33
BEG_COLLECTION = 0x34
TEXT_WITH_LANGUAGE = 0x35
NAME_WITH_LANGUAGE = 0x36
END_COLLECTION = 0x37
TEXT = 0x41
NAME = 0x42
KEYWORD = 0x44
URI = 0x45
URI_SCHEME = 0x46
CHARSET = 0x47
LANGUAGE = 0x48
MIME_TYPE = 0x49
MEMBER_NAME = 0x4A
EXTENSION = 0x7F

# delimiter tags (RFC 8010 §3.5.1)
OPERATION_GROUP = 0x01
JOB_GROUP = 0x02
END_OF_ATTRIBUTES = 0x03
PRINTER_GROUP = 0x04
UNSUPPORTED_GROUP = 0x05

RESOLUTION_DPI = 3  # units of a resolution value: dots per inch


class MessageError(Exception):
    """A request that cannot be read: `status` is the IPP status code to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Attribute:
    """One attribute: its name, the value tag of its first value, and its values.

    Values are int (integer, enum), bool, str (the string tags; text/name with a language keep
    only the text), bytes (octetString and unknown tags), datetime, (x, y, units) for a
    resolution, (lower, upper) for a range, and list[Attribute] for a collection; None for the
    out-of-band tags (no-value, unknown, unsupported).
    """

    name: str
    tag: int
    values: list[Any] = field(default_factory=list)

    @property
    def value(self) -> Any:
        return self.values[0] if self.values else None


@dataclass
class Group:
    tag: int
    attributes: list[Attribute] = field(default_factory=list)

    def get(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def add(self, name: str, tag: int, *values: Any) -> Attribute:
        attr = Attribute(name, tag, list(values))
        self.attributes.append(attr)
        return attr


@dataclass
class Message:
    version: tuple[int, int]
    code: int  # operation-id in a request, status-code in a response
    request_id: int
    groups: list[Group] = field(default_factory=list)

    def group(self, tag: int) -> Group | None:
        return next((g for g in self.groups if g.tag == tag), None)

    def groups_of(self, tag: int) -> list[Group]:
        return [g for g in self.groups if g.tag == tag]

    def new_group(self, tag: int) -> Group:
        group = Group(tag)
        self.groups.append(group)
        return group


# --- reading -----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.consumed = 0

    def take(self, n: int) -> bytes:
        data = self.stream.read(n)
        if len(data) != n:
            raise MessageError(codes.BAD_REQUEST, "the IPP message ends early (truncated)")
        self.consumed += n
        if self.consumed > MAX_ATTRIBUTES_BYTES:
            raise MessageError(codes.REQUEST_ENTITY_TOO_LARGE,
                               f"the attributes of the request take more than {MAX_ATTRIBUTES_BYTES} bytes")
        return data

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")


def read_message(stream: IO[bytes]) -> Message:
    """The message's header and attributes; `stream` is left at the first byte of the document."""
    reader = _Reader(stream)
    head = reader.take(8)
    message = Message((head[0], head[1]), int.from_bytes(head[2:4], "big"),
                      int.from_bytes(head[4:8], "big", signed=True))
    group: Group | None = None
    current: Attribute | None = None
    size = 0
    while True:
        tag = reader.u8()
        if tag == END_OF_ATTRIBUTES:
            return message
        if tag < 0x10:  # a delimiter: a new group
            if tag == 0x00:
                raise MessageError(codes.BAD_REQUEST, "group tag 0x00 is reserved")
            group, current = message.new_group(tag), None
            continue
        if group is None:
            raise MessageError(codes.BAD_REQUEST, "an attribute comes before any attribute group")
        name = _name(reader)
        if name:
            current, size = group.add(name, tag), 0
        elif current is None:
            raise MessageError(codes.BAD_REQUEST, "an additional value comes without an attribute")
        value, size = _read_value(reader, tag, current.name, 0, size)
        current.values.append(value)


def _name(reader: _Reader) -> str:
    return _decode_text(reader.take(reader.u16()), "attribute name")


def _decode_text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MessageError(codes.BAD_REQUEST, f"{what} is not UTF-8") from None


def _read_value(reader: _Reader, tag: int, name: str, depth: int, size: int) -> tuple[Any, int]:
    if tag == EXTENSION:
        raise MessageError(codes.BAD_REQUEST, f"{name}: extended value tags are not supported")
    length = reader.u16()
    size += length
    if size > MAX_ATTRIBUTE_BYTES:
        raise MessageError(codes.REQUEST_ENTITY_TOO_LARGE,
                           f"attribute {name} holds more than {MAX_ATTRIBUTE_BYTES} bytes")
    raw = reader.take(length)
    if tag == BEG_COLLECTION:
        if depth >= MAX_DEPTH:
            raise MessageError(codes.BAD_REQUEST, f"{name}: collections nested more than {MAX_DEPTH} deep")
        return _read_collection(reader, name, depth + 1), size
    return decode_value(tag, raw, name), size


def _read_collection(reader: _Reader, name: str, depth: int) -> list[Attribute]:
    """Members as memberAttrName + value pairs up to endCollection (RFC 8010 §3.1.6)."""
    members: list[Attribute] = []
    while True:
        tag = reader.u8()
        if tag < 0x10:
            raise MessageError(codes.BAD_REQUEST, f"{name}: a collection ends without endCollection")
        if reader.u16():
            raise MessageError(codes.BAD_REQUEST, f"{name}: a collection member has a name outside memberAttrName")
        raw = reader.take(reader.u16())
        if tag == END_COLLECTION:
            if raw:
                raise MessageError(codes.BAD_REQUEST, f"{name}: endCollection carries a value")
            return members
        if tag == MEMBER_NAME:
            member = _decode_text(raw, "member name")
            value_tag = reader.u8()
            if reader.u16():
                raise MessageError(codes.BAD_REQUEST, f"{name}.{member}: a member value carries a name")
            value, _ = _read_value(reader, value_tag, f"{name}.{member}", depth, 0)
            members.append(Attribute(member, value_tag, [value]))
            continue
        if not members:  # an additional value of the previous member
            raise MessageError(codes.BAD_REQUEST, f"{name}: a collection value without a member name")
        previous = members[-1]
        if tag == BEG_COLLECTION and depth >= MAX_DEPTH:
            raise MessageError(codes.BAD_REQUEST, f"{name}: collections nested more than {MAX_DEPTH} deep")
        value = _read_collection(reader, name, depth + 1) if tag == BEG_COLLECTION else decode_value(tag, raw, name)
        previous.values.append(value)


def decode_value(tag: int, raw: bytes, name: str) -> Any:
    if tag in (INTEGER, ENUM):
        if len(raw) != 4:
            raise MessageError(codes.BAD_REQUEST, f"{name}: an integer takes 4 bytes, not {len(raw)}")
        return int.from_bytes(raw, "big", signed=True)
    if tag == BOOLEAN:
        if len(raw) != 1 or raw[0] > 1:
            raise MessageError(codes.BAD_REQUEST, f"{name}: a boolean is one byte, 0 or 1")
        return raw[0] == 1
    if tag == RESOLUTION:
        if len(raw) != 9:
            raise MessageError(codes.BAD_REQUEST, f"{name}: a resolution takes 9 bytes")
        return struct.unpack(">iib", raw)
    if tag == RANGE:
        if len(raw) != 8:
            raise MessageError(codes.BAD_REQUEST, f"{name}: a range takes 8 bytes")
        return struct.unpack(">ii", raw)
    if tag == DATE_TIME:
        return _date_time(raw, name)
    if tag in (TEXT_WITH_LANGUAGE, NAME_WITH_LANGUAGE):
        return _with_language(raw, name)
    if 0x40 <= tag <= 0x5F:
        return _decode_text(raw, name)
    if 0x10 <= tag <= 0x1F:
        return None
    return raw  # octetString and tags this codec does not know: kept as they came


def _with_language(raw: bytes, name: str) -> str:
    if len(raw) < 4:
        raise MessageError(codes.BAD_REQUEST, f"{name}: a value with a language is too short")
    lang_len = int.from_bytes(raw[:2], "big")
    rest = raw[2 + lang_len:]
    if len(rest) < 2 or int.from_bytes(rest[:2], "big") != len(rest) - 2:
        raise MessageError(codes.BAD_REQUEST, f"{name}: a value with a language has wrong lengths")
    return _decode_text(rest[2:], name)


def _date_time(raw: bytes, name: str) -> datetime:
    if len(raw) != 11:
        raise MessageError(codes.BAD_REQUEST, f"{name}: a dateTime takes 11 bytes")
    year, month, day, hour, minute, second, decis, sign, off_h, off_m = struct.unpack(">HBBBBBBcBB", raw)
    try:
        offset = timedelta(hours=off_h, minutes=off_m) * (-1 if sign == b"-" else 1)
        return datetime(year, month, day, hour, minute, second, decis * 100000, tzinfo=timezone(offset))
    except ValueError:
        raise MessageError(codes.BAD_REQUEST, f"{name}: not a valid dateTime") from None


# --- writing -----------------------------------------------------------------------------------


def encode_message(message: Message) -> bytes:
    out = bytearray()
    out += bytes(message.version)
    out += message.code.to_bytes(2, "big")
    out += message.request_id.to_bytes(4, "big", signed=True)
    for group in message.groups:
        out.append(group.tag)
        for attr in group.attributes:
            _write_attribute(out, attr)
    out.append(END_OF_ATTRIBUTES)
    return bytes(out)


def _write_attribute(out: bytearray, attr: Attribute) -> None:
    values = attr.values or [None]
    for index, value in enumerate(values):
        name = attr.name.encode() if index == 0 else b""
        tag = attr.tag if value is not None or attr.tag < 0x20 else NO_VALUE
        out.append(tag)
        out += len(name).to_bytes(2, "big") + name
        if tag == BEG_COLLECTION:
            out += b"\x00\x00"
            _write_collection(out, value)
        else:
            raw = encode_value(tag, value)
            out += len(raw).to_bytes(2, "big") + raw


def _write_collection(out: bytearray, members: list[Attribute]) -> None:
    for member in members:
        key = member.name.encode()
        out += bytes([MEMBER_NAME]) + b"\x00\x00" + len(key).to_bytes(2, "big") + key
        for value in member.values:
            out.append(member.tag)
            out += b"\x00\x00"
            if member.tag == BEG_COLLECTION:
                out += b"\x00\x00"
                _write_collection(out, value)
            else:
                raw = encode_value(member.tag, value)
                out += len(raw).to_bytes(2, "big") + raw
    out += bytes([END_COLLECTION]) + b"\x00\x00\x00\x00"


def encode_value(tag: int, value: Any) -> bytes:
    if tag < 0x20:
        return b""
    if tag in (INTEGER, ENUM):
        return int(value).to_bytes(4, "big", signed=True)
    if tag == BOOLEAN:
        return b"\x01" if value else b"\x00"
    if tag == RESOLUTION:
        return struct.pack(">iib", *value)
    if tag == RANGE:
        return struct.pack(">ii", *value)
    if tag == DATE_TIME:
        return _encode_date_time(value)
    if isinstance(value, bytes):
        return value
    raw = str(value).encode("utf-8")
    if tag in (TEXT_WITH_LANGUAGE, NAME_WITH_LANGUAGE):
        lang = b"en"
        return len(lang).to_bytes(2, "big") + lang + len(raw).to_bytes(2, "big") + raw
    return raw


def _encode_date_time(value: datetime) -> bytes:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    offset = value.utcoffset() or timedelta(0)
    minutes = int(abs(offset.total_seconds()) // 60)
    sign = b"-" if offset.total_seconds() < 0 else b"+"
    return struct.pack(">HBBBBBBcBB", value.year, value.month, value.day, value.hour, value.minute, value.second,
                       value.microsecond // 100000, sign, minutes // 60, minutes % 60)
