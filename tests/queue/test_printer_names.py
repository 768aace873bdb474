"""With several printers, a script may name one by its configured name as well as by its id."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import wait_job
from tests.support import configured, printer_table, running


async def test_a_printer_is_found_by_name_and_a_wrong_one_is_told_the_choices(state_dir: Path, tmp_path: Path) -> None:
    settings = configured(state_dir, tmp_path,
                          printer_table("shelf", "PT-P750W", f"file://{tmp_path}/shelf.prn", "12mm"),
                          printer_table("ship", "QL-820NWB", f"file://{tmp_path}/ship.prn", "62mm"))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        ids = {p["name"]: p["id"] for p in await rpc.call("printer.list")}
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "by name"}, "printer_id": "ship"})
        assert job["printer_id"] == ids["ship"]
        await wait_job(rpc, job["id"], ("completed",))
        assert (tmp_path / "ship.prn").stat().st_size > 0 and not (tmp_path / "shelf.prn").exists()
        listed = await rpc.call("job.list", {"printer_id": "ship"})
        assert [j["id"] for j in listed["jobs"]] == [job["id"]]
        assert (await rpc.call("printer.status", {"printer_id": "shelf"}))["printer_id"] == ids["shelf"]

        with pytest.raises(RpcError) as unknown:  # job.list used to answer an empty list
            await rpc.call("job.list", {"printer_id": "shelve"})
        said = unknown.value.message
        assert unknown.value.code == -32002 and "shelf" in said and ids["ship"] in said
        with pytest.raises(RpcError) as missing:
            await rpc.call("print.submit", {"template": "text", "fields": {"text": "which?"}})
        assert missing.value.code == -32602 and "shelf" in missing.value.message and "ship" in missing.value.message
