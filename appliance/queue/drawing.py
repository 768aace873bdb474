"""One thread that draws labels, so that rendering and encoding never hold the event loop.

Why: a long QL label takes about 10 ms to render and encode on the bench VM (a Pi is 6–10×
slower). On the loop, every other caller waited meanwhile: a batch of 1000 previews held
``/healthz``, the TUI and the printers' workers for 1.3 s. Pillow releases the GIL in its heavy C
passes, so the loop runs while a label is drawn. One thread, not a pool: labels are drawn one at
a time, in the order asked, as they were on the loop, so one label's bitmaps are in memory at a
time and no FreeType face is ever used by two threads at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from rpc.errors import NotAllowed

P = ParamSpec("P")
T = TypeVar("T")


class LabelDrawer:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="label-drawing")
        self._closed = False

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on the drawing thread (with the caller's context, for the logs)."""
        if self._closed:
            raise NotAllowed("the appliance is shutting down; try again in a moment",
                             {"field": "server", "reason": "shutting down"})
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def close(self) -> None:
        """Take no more work; what was asked before is still drawn and answered (the server closes
        this after its listeners, which wait for the calls in flight)."""
        self._closed = True
        self._pool.shutdown(wait=False)
