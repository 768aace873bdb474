"""The Brother printer models the appliance drives, and what each one can do.

Facts come from Brother's raster command references (see /shared PROTOCOL.md) and from captures
of Brother's own drivers. Values marked "unverified" are from memory of the references and have not
been checked against a real printer.

``answers_status_request_tcp``: ``ESC i S`` over TCP 9100 is unreliable (many models never answer,
and asking while printing can upset a job), so it is False for every model: over the network the
status comes from SNMP. Over USB every model answers ``ESC i S`` with the 32-byte block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MODELS", "Family", "Model", "UnknownModelError", "get_model"]

Family = Literal["pt128", "pt560", "ql720"]

SERIES_PT = 0x30
SERIES_QL = 0x34


@dataclass(frozen=True, slots=True)
class Model:
    """One printer model. ``dpi`` is the standard resolution across and along the tape."""

    name: str
    family: Family
    head_pins: int
    bytes_per_line: int
    dpi: int
    high_res: bool
    """Has a high-resolution mode (``ESC i K`` bit 0x40): the feed resolution doubles."""
    high_res_dpi: int
    """Feed resolution in high-res mode."""
    needs_compression: bool
    """Prints blank labels unless raster lines are PackBits-compressed (PT-P750W, PT-E550W)."""
    supports_compression: bool
    supports_cut_every: bool
    supports_half_cut: bool
    supports_chain: bool
    answers_status_request_tcp: bool
    status_series: int
    status_model_code: int
    usb_product_id: int | None
    invalidate_bytes: int
    """Length of the ``00`` run that starts a job (Brother's drivers send 100, 200 or 400)."""
    marks_last_page: bool
    """Print-info page byte is 2 on the last page (seen in PT-P900W driver captures)."""
    sends_notification_mode: bool
    """QL drivers switch automatic status notifications off (``ESC i ! 01``)."""
    default_margin_dots: int
    """Feed margin before and after the label, in standard-resolution feed dots (continuous media)."""
    min_margin_dots: int
    max_margin_dots: int
    min_length_mm: float
    max_length_mm: float
    network: bool

    @property
    def line_opcode(self) -> int:
        """``G`` (0x47) for PT, ``g`` (0x67) for QL."""
        return 0x67 if self.family == "ql720" else 0x47

    @property
    def min_length_dots(self) -> int:
        """Shortest label on tape/continuous media, in standard feed dots (31 on 128-pin heads)."""
        return int(self.min_length_mm * self.dpi / 25.4)

    def feed_dpi(self, high_res: bool = False) -> int:
        return self.high_res_dpi if high_res else self.dpi

    def mm_to_dots(self, mm: float, high_res: bool = False) -> int:
        return round(mm * self.feed_dpi(high_res) / 25.4)


class UnknownModelError(ValueError):
    """The model name is not one the driver knows."""


def _pt128(
    name: str,
    code: int,
    usb: int | None,
    *,
    cut_every: bool,
    half_cut: bool,
    high_res: bool,
    needs_compression: bool,
    network: bool,
) -> Model:
    return Model(
        name=name, family="pt128", head_pins=128, bytes_per_line=16, dpi=180, high_res=high_res,
        high_res_dpi=360, needs_compression=needs_compression, supports_compression=True,
        supports_cut_every=cut_every, supports_half_cut=half_cut, supports_chain=True,
        answers_status_request_tcp=False, status_series=SERIES_PT, status_model_code=code,
        usb_product_id=usb, invalidate_bytes=100, marks_last_page=False, sends_notification_mode=False,
        default_margin_dots=14, min_margin_dots=14, max_margin_dots=900,
        min_length_mm=4.4, max_length_mm=1000.0, network=network,
    )  # fmt: skip


def _pt560(name: str, code: int, usb: int, *, network: bool) -> Model:
    return Model(
        name=name, family="pt560", head_pins=560, bytes_per_line=70, dpi=360, high_res=True,
        high_res_dpi=720, needs_compression=False, supports_compression=True,
        supports_cut_every=True, supports_half_cut=True, supports_chain=True,
        answers_status_request_tcp=False, status_series=SERIES_PT, status_model_code=code,
        usb_product_id=usb, invalidate_bytes=200, marks_last_page=True, sends_notification_mode=False,
        default_margin_dots=14, min_margin_dots=14, max_margin_dots=1800,
        min_length_mm=4.4, max_length_mm=1000.0, network=network,
    )  # fmt: skip


def _ql720(name: str, code: int, usb: int, *, compression: bool, network: bool, notify: bool = True) -> Model:
    return Model(
        name=name, family="ql720", head_pins=720, bytes_per_line=90, dpi=300, high_res=True,
        high_res_dpi=600, needs_compression=False, supports_compression=compression,
        supports_cut_every=True, supports_half_cut=False, supports_chain=True,
        answers_status_request_tcp=False, status_series=SERIES_QL, status_model_code=code,
        usb_product_id=usb, invalidate_bytes=400, marks_last_page=False, sends_notification_mode=notify,
        default_margin_dots=35, min_margin_dots=35, max_margin_dots=35,
        min_length_mm=12.7, max_length_mm=1000.0, network=network,
    )  # fmt: skip


_ALL = (
    # 128-pin. Status codes 0x66/0x68 from PROTOCOL.md; 0x67 (P700) and 0x76 (P710BT) unverified.
    # PT-P700: no half-cutter, and Brother's driver sends no ESC i A; high-res not claimed (unverified).
    _pt128("PT-E550W", 0x66, 0x2060, cut_every=True, half_cut=True, high_res=True, needs_compression=True,
           network=True),
    _pt128("PT-P750W", 0x68, 0x2062, cut_every=True, half_cut=True, high_res=True, needs_compression=True,
           network=True),
    _pt128("PT-P710BT", 0x76, 0x20AF, cut_every=False, half_cut=True, high_res=True,
           needs_compression=False, network=False),
    _pt128("PT-P700", 0x67, 0x2061, cut_every=False, half_cut=False, high_res=False,
           needs_compression=False, network=False),
    # 560-pin. 0x6F/0x70 seen on real printers; PT-P900's 0x6E unverified.
    _pt560("PT-P900", 0x6E, 0x2083, network=False),
    _pt560("PT-P900W", 0x6F, 0x2085, network=True),
    _pt560("PT-P950NW", 0x70, 0x2086, network=True),
    # 720-pin. 0x41 (QL-820NWB) seen; QL-700 0x35 and QL-810W 0x39 unverified.
    # QL-700 takes no compression (M 02) — same as brother_ql's table — and we do not send it ESC i !.
    _ql720("QL-700", 0x35, 0x2042, compression=False, network=False, notify=False),
    _ql720("QL-810W", 0x39, 0x209C, compression=True, network=True),
    _ql720("QL-820NWB", 0x41, 0x209D, compression=True, network=True),
)  # fmt: skip

MODELS: dict[str, Model] = {m.name: m for m in _ALL}


def get_model(name: str) -> Model:
    """Look a model up by name, case-insensitively (``"pt-p750w"`` works)."""
    key = name.strip().upper()
    try:
        return MODELS[key]
    except KeyError:
        known = ", ".join(MODELS)
        raise UnknownModelError(f"unknown printer model {name!r}; known models: {known}") from None


def model_by_status_code(series: int, code: int) -> Model | None:
    """The model whose status block carries this series/model byte pair, if known."""
    for model in _ALL:
        if model.status_series == series and model.status_model_code == code:
            return model
    return None
