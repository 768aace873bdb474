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

P = ParamSpec("P")
T = TypeVar("T")


class LabelDrawer:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="label-drawing")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on the drawing thread (with the caller's context, for the logs)."""
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        """Stop taking work; a label being drawn finishes on its own, nobody waits for it."""
        self._pool.shutdown(wait=False, cancel_futures=True)
