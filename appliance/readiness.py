"""The deep checks behind GET /readiness and readiness.check (application/health+json)."""

from __future__ import annotations

import asyncio
import shutil
import time
from typing import TYPE_CHECKING, Any

from . import __version__
from .clock import now_text

if TYPE_CHECKING:
    from .app import Appliance

ORDER = {"pass": 0, "warn": 1, "fail": 2}


def _entry(status: str, output: str = "", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": status, "time": now_text(), **extra}
    if output:
        entry["output"] = output
    return entry


async def _sqlite(appliance: Appliance) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(appliance.db.fetchone("SELECT 1"), timeout=0.5)
    except Exception as exc:
        return _entry("fail", f"the database does not answer: {type(exc).__name__}",
                      componentType="datastore")
    ms = (time.perf_counter() - started) * 1000
    return _entry("pass", observedValue=round(ms, 3), observedUnit="ms", componentType="datastore")


async def check(appliance: Appliance) -> dict[str, Any]:
    checks: dict[str, list[dict[str, Any]]] = {}
    checks["sqlite:responseTime"] = [await _sqlite(appliance)]
    checks["migrations:head"] = [
        _entry("pass", observedValue=appliance.migration_head)
        if appliance.migration_head else _entry("fail", "schema is not migrated")
    ]
    usage = shutil.disk_usage(appliance.settings.state_dir)
    free_mb = usage.free / 1024 / 1024
    checks["disk:free"] = [_entry("pass" if free_mb > 100 else "warn",
                                  "" if free_mb > 100 else "less than 100 MB free in the state directory",
                                  observedValue=round(free_mb), observedUnit="MiB")]
    worst = max((e["status"] for entries in checks.values() for e in entries), key=ORDER.__getitem__)
    return {"status": worst, "version": __version__, "checks": checks}
