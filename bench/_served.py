"""`appliance serve` for the bench, plus one thing: SIGUSR1 writes the server's counters to $BENCH_COUNTERS.

The counters (db.transactions: committed write transactions) live in the server process; this is
how the bench reads them from outside. Nothing on the request path changes.

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

_original_start = app_module.Appliance.start


async def _start_with_counters(self: app_module.Appliance) -> None:
    await _original_start(self)
    target = os.environ.get("BENCH_COUNTERS")
    if not target:
        return

    def dump() -> None:
        path = Path(target)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"transactions": self.db.transactions}))
        tmp.replace(path)

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)


app_module.Appliance.start = _start_with_counters  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
