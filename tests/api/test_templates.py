"""template.* and label.preview over the real server: versions, errors by field, warnings."""

from __future__ import annotations

import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from rpc.errors import RpcError

DEFINITION = """
title = "Bin"
description = "A bin label"
[fields.code]
type = "string"
required = true
pattern = "^[A-Z]{2}-[0-9]{3}$"
[[layout]]
type = "text"
text = "{code}"
"""


async def test_list_get_put_delete(fast: Appliance, rpc: RpcClient) -> None:
    names = {t["name"] for t in await rpc.call("template.list")}
    assert {"text", "asset-tag", "cable-flag", "bin-label"} <= names
    saved = await rpc.call("template.put", {"name": "bin", "definition": DEFINITION})
    assert saved["version"] == 1 and saved["source"] == "user"
    again = await rpc.call("template.put", {"name": "bin", "definition": DEFINITION})
    assert again["version"] == 2
    got = await rpc.call("template.get", {"name": "bin"})
    assert got["version"] == 2 and got["fields"][0]["name"] == "code"
    assert (fast.settings.state_dir / "templates" / "bin.toml").exists()
    assert (await rpc.call("template.delete", {"name": "bin"}))["deleted"] is True
    with pytest.raises(RpcError) as info:
        await rpc.call("template.get", {"name": "bin"})
    assert info.value.code == -32002


async def test_builtins_cannot_be_replaced_or_deleted(rpc: RpcClient) -> None:
    for method, params in (("template.put", {"name": "text", "definition": DEFINITION}),
                           ("template.delete", {"name": "text"})):
        with pytest.raises(RpcError) as info:
            await rpc.call(method, params)
        assert info.value.code == -32003 and info.value.data["field"] == "name"


async def test_bad_definition_names_the_path(rpc: RpcClient) -> None:
    with pytest.raises(RpcError) as info:
        await rpc.call("template.put", {"name": "broken", "definition": "[[layout]]\ntype = \"sparkles\"\n"})
    assert info.value.code == -32602 and info.value.data["field"].startswith("definition")
    with pytest.raises(RpcError) as info:
        await rpc.call("template.put", {"name": "broken", "definition": "title = \n"})
    assert info.value.code == -32602


async def test_field_pattern_and_barcode_errors_come_back_by_field(rpc: RpcClient) -> None:
    await rpc.call("template.put", {"name": "bin", "definition": DEFINITION})
    with pytest.raises(RpcError) as info:
        await rpc.call("label.preview", {"template": "bin", "fields": {"code": "nope"}})
    assert info.value.code == -32602 and info.value.data["field"] == "fields.code"
    assert "pattern" in info.value.data["reason"] or "match" in info.value.data["reason"]


async def test_wider_template_than_loaded_tape_says_both_widths(fast: Appliance, rpc: RpcClient) -> None:
    wide = "tapes = [24]\n" + DEFINITION
    await rpc.call("template.put", {"name": "wide", "definition": wide})
    with pytest.raises(RpcError) as info:
        await rpc.call("print.submit", {"template": "wide", "fields": {"code": "AB-123"}})
    assert info.value.code == -32003
    assert "24" in info.value.data["reason"] and "12" in info.value.data["reason"]


async def test_preview_reports_warnings(rpc: RpcClient) -> None:
    preview = await rpc.call("label.preview", {"template": "asset-tag", "tape": "6mm",
                                               "fields": {"name": "Drill", "asset_id": "MS-0042"}})
    codes = {w["code"] for w in preview["warnings"]}
    assert "qr-omitted" in codes
    assert preview["tape"]["width_mm"] == 6
