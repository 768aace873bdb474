"""`appliance serve` for the bench, plus one thing: SIGUSR1 writes the server's counters to $BENCH_COUNTERS.

The counters (db.transactions: committed write transactions; snmp_probes: SNMP GETs the
server made) live in the server process; this is how the bench reads them from outside. The
probe counter is one integer increment around `appliance.printer.snmp.probe`.

    python -m bench._served serve --state-dir DIR ...   (same arguments as `appliance serve`)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from appliance import app as app_module
from appliance.cli import main
from appliance.printer import snmp

_original_start = app_module.Appliance.start
_original_probe = snmp.probe
_probes = 0


async def _counted_probe(*args: object, **kwargs: object) -> snmp.SnmpProbe:
    global _probes
    _probes += 1
    return await _original_probe(*args, **kwargs)  # type: ignore[arg-type]


async def _start_with_counters(self: app_module.Appliance) -> None:
    await _original_start(self)
    target = os.environ.get("BENCH_COUNTERS")
    if not target:
        return

    def dump() -> None:
        path = Path(target)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"transactions": self.db.transactions, "snmp_probes": _probes}))
        tmp.replace(path)

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)


app_module.Appliance.start = _start_with_counters  # type: ignore[method-assign]
snmp.probe = _counted_probe  # type: ignore[assignment]
if os.environ.get("BENCH_VALIDATOR", "rpc/schema.py") != "rpc/schema.py":  # bench/validators.py: another validator
    from bench.validators import patch_dispatcher

    patch_dispatcher(os.environ["BENCH_VALIDATOR"])

if __name__ == "__main__":
    sys.exit(main())
