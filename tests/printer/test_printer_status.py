"""Status blocks from real printers parse to what they meant; builder and parser are inverses."""

from __future__ import annotations

import json
import re

import pytest

from appliance.printer.status import PrinterStatus, StatusError, build_status_block, describe, parse_status

from .util import STATUS_BLOCKS

BLOCKS = json.loads(STATUS_BLOCKS.read_text())["blocks"]
# The JSON's "derived" sentences, in our reason vocabulary.
DERIVED = {"no media loaded": "media-needed"}


@pytest.mark.parametrize("block", BLOCKS, ids=[b["condition"] for b in BLOCKS])
def test_real_blocks_parse_to_expect(block: dict) -> None:
    status = parse_status(bytes.fromhex(block["hex"]))
    assert status.model == block["model"]
    for key, value in block["expect"].items():
        if key == "derived":
            assert status.reasons[0] == DERIVED[value]
            assert status.state == "stopped"
        else:
            got = getattr(status, key)
            assert (list(got) if isinstance(got, tuple) else got) == value, key


@pytest.mark.parametrize("block", BLOCKS, ids=[b["condition"] for b in BLOCKS])
def test_build_inverts_parse_on_real_blocks(block: dict) -> None:
    raw = bytes.fromhex(block["hex"])
    status = parse_status(raw)
    rebuilt = status.to_bytes()
    assert parse_status(rebuilt) == status
    # Every documented offset comes back byte for byte.
    documented = [*range(0, 12), 15, *range(17, 23), 24, 25]
    assert [rebuilt[i] for i in documented] == [raw[i] for i in documented]


def test_roundtrip_of_every_field() -> None:
    fields = dict(series=0x34, model_code=0x41, media_width_mm=62, media_type="die-cut", media_length_mm=100,
                  errors=("end-of-media", "weak-batteries", "cover-open", "cancel-key"), status_type="error",
                  phase="printing", phase_number=0x0102, notification="cooling-started", tape_color="unknown-0x42",
                  text_color="gold", mode=0x40)  # fmt: skip
    status = parse_status(build_status_block(**fields))
    assert status.model == "QL-820NWB"
    for key, value in fields.items():
        assert getattr(status, key) == value, key
    assert parse_status(status.to_bytes()) == status


def _status(**fields: object) -> PrinterStatus:
    base = {"media_width_mm": 12, "media_type": "laminated", "tape_color": "white", "text_color": "black"}
    return parse_status(build_status_block(**{**base, **fields}))  # type: ignore[arg-type]


def test_cover_open_beats_everything() -> None:
    status = _status(media_width_mm=0, media_type="none", errors=("cover-open", "end-of-media", "cutter-jam"))
    assert status.reasons == ["cover-open", "media-empty", "media-jam"]
    assert "media-needed" not in status.reasons
    assert status.state == "stopped"
    assert describe(status.reasons[0], "pt128") == "Cover open — close it to continue"


def test_no_media_from_zero_fields_without_error_bit() -> None:
    status = _status(media_width_mm=0, media_type="none")
    assert status.errors == ()
    assert status.reasons == ["media-needed"]
    assert status.describe() == ["No tape cassette loaded — insert one"]  # a PT's block (series 0x30)


def test_reason_order_and_states() -> None:
    assert _status(errors=("weak-batteries", "wrong-media", "end-of-media")).reasons == [
        "media-empty",
        "media-mismatch",
        "weak-batteries",
    ]
    assert _status(errors=("weak-batteries",)).state == "idle"
    assert _status(phase="printing").state == "printing"
    assert _status().reasons == []
    assert _status(errors=("overheating",)).reasons == ["overheating"]
    assert describe("media-empty", "pt128").startswith("The tape ran out — put in a new tape cassette")
    assert describe("something-new", "ql720") == describe("something-new", None) == "Something new"


def test_ql_error_bit_5_is_the_cancel_key_not_overheating() -> None:
    block = bytearray(build_status_block(series=0x34, model_code=0x41, media_width_mm=62, media_type="continuous"))
    block[9] = 0x20
    assert parse_status(bytes(block)).errors == ("cancel-key",)
    block[3] = 0x30
    assert parse_status(bytes(block)).errors == ("overheating",)


@pytest.mark.parametrize("raw", [b"", bytes(32), b"\x80\x20\x42" + bytes(28), b"\x80\x20\x42" + bytes(30)])
def test_not_a_status_block(raw: bytes) -> None:
    with pytest.raises(StatusError):
        parse_status(raw)


def test_builder_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown error"):
        build_status_block(errors=("on-fire",))
    with pytest.raises(ValueError, match="unknown media type"):
        build_status_block(media_type="papyrus")


def test_a_ql_says_what_went_wrong_with_its_roll_and_a_pt_with_its_cassette() -> None:
    """The same error bits, read from a QL's block and a PT's, in the words of what each one takes."""
    errors = ("end-of-media", "wrong-media", "cutter-jam")
    ql = parse_status(build_status_block(series=0x34, model_code=0x41, media_width_mm=62, media_type="continuous",
                                         errors=errors))
    pt = _status(errors=errors)
    assert ql.reasons == pt.reasons == ["media-empty", "media-mismatch", "media-jam"]
    assert ql.describe() == [
        "The roll ran out (its continuous tape or its last die-cut label) — put in a new DK roll; the printer then "
        "finishes the job",
        "Wrong roll loaded — put in the DK roll this label was made for (its width, and continuous tape or die-cut "
        "labels of its size)",
        "The labels jammed or cannot feed, or the cutter is stuck — open the roll compartment, take the roll out "
        "and clear the jam",
    ]
    assert pt.describe() == [
        "The tape ran out — put in a new tape cassette; the printer then finishes the job",
        "Wrong tape cassette loaded — put in the tape (width and type) this label was made for",
        "The tape jammed or cannot feed, or the cutter is stuck — open the cover, take the cassette out and clear it",
    ]
    empty = parse_status(build_status_block(series=0x34, model_code=0x41))
    assert empty.describe() == ["No DK roll loaded — insert a roll of continuous tape or die-cut labels"]


def test_every_sentence_fits_its_series_and_the_unknown_one_names_neither_alone() -> None:
    """Each printer and job reason, for a PT, a QL and an unknown printer: a QL is never told of a
    cassette, a PT never of a roll; where the family is unknown a cassette is never named alone."""
    from appliance import reasons as job_reasons
    from appliance.printer import status as printer_status

    every = {**printer_status._DESCRIPTIONS, **job_reasons._JOB_REASONS}
    assert {"media-needed", "media-empty", "media-mismatch", "media-jam", "job-incomplete"} <= {
        reason for reason, wording in every.items() if not isinstance(wording, str)}
    for reason in every:
        pt, ql, unknown = (job_reasons.describe(reason, family) for family in ("pt560", "ql720", None))
        assert not re.search(r"\b(roll|rolls|DK|die-cut)\b", pt), (reason, pt)
        assert not re.search(r"cassette", ql), (reason, ql)
        assert "DK" not in unknown, (reason, unknown)
        assert "cassette" not in unknown or re.search(r"\b(roll|labels)\b", unknown), (reason, unknown)
        if reason.startswith("media-"):
            assert len({pt, ql, unknown}) == 3 and re.search(r"\blabels\b", unknown), (reason, unknown)
