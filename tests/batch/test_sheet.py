"""Reading a spreadsheet's CSV/TSV into label rows (rpc/sheet.py)."""

from __future__ import annotations

import pytest

from rpc.sheet import SheetError, decode, label_rows, map_columns, parse


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_found_from_the_header(delimiter: str) -> None:
    text = delimiter.join(["Name", "Asset_ID"]) + "\n" + delimiter.join(["Bohrer, groß", "MS-1"]) + "\n"
    if delimiter == ",":
        text = 'Name,Asset_ID\n"Bohrer, groß",MS-1\n'
    sheet = parse(text)
    assert sheet.delimiter == delimiter and sheet.rows == [{"Name": "Bohrer, groß", "Asset_ID": "MS-1"}]


def test_a_bom_is_dropped_and_lines_are_counted_past_blank_and_multiline_rows() -> None:
    text = decode(b'\xef\xbb\xbftext;code\r\nA;1\r\n\r\n"two\r\nlines";2\r\nC;3\r\n', "f.csv")
    sheet = parse(text)
    assert sheet.columns == ["text", "code"]
    assert [r["text"] for r in sheet.rows] == ["A", "two\r\nlines", "C"]
    assert sheet.lines == [2, 4, 6]


def test_not_utf8_says_how_to_save_it() -> None:
    with pytest.raises(SheetError, match="CSV UTF-8"):
        decode("Müller".encode("latin-1"), "f.csv")


def test_columns_map_to_fields_in_any_case_and_unknown_ones_are_named() -> None:
    mapping = map_columns(["TEXT", "Barcode", "Notes"], ["text", "code"], {"barcode": "code"}, ignore_extra=True)
    assert mapping.fields == {"TEXT": "text", "Barcode": "code"} and mapping.ignored == ["Notes"]
    with pytest.raises(SheetError, match="unknown columns 'Barcode', 'Notes'"):
        map_columns(["TEXT", "Barcode", "Notes"], ["text", "code"], {}, ignore_extra=False)
    with pytest.raises(SheetError, match="no column 'Kode'"):
        map_columns(["text"], ["text", "code"], {"Kode": "code"}, ignore_extra=False)
    with pytest.raises(SheetError, match="given as text="):
        map_columns(["text"], ["text", "code"], {}, ignore_extra=False, given={"text"})


def test_empty_cells_leave_the_field_out_and_given_values_go_on_every_row() -> None:
    sheet = parse("text,code\nA,\nB,7\n")
    rows = label_rows(sheet, map_columns(sheet.columns, ["text", "code", "note"], {}, ignore_extra=False),
                      {"note": "Lager 3"})
    assert rows == [{"note": "Lager 3", "text": "A"}, {"note": "Lager 3", "text": "B", "code": "7"}]


def test_a_row_longer_than_the_header_is_refused_with_its_line() -> None:
    with pytest.raises(SheetError, match="line 3: 3 cells"):
        parse("text,code\nA,1\nB,2,oops\n")
