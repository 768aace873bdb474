"""In-process pub/sub with bounded subscriber queues.

Publishing never waits: a subscriber whose queue is full is marked `overflowed`
(its consumer tells the client to resync) and its queue is cleared, so a slow
client can never slow the server or other clients.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    topic: str
    name: str
    payload: dict[str, Any]
    seq: int


@dataclass(eq=False)
class Subscription:
    topics: frozenset[str]
    queue: asyncio.Queue[Event]
    overflowed: bool = False
    dropped: int = 0
    label: str = ""
    _bus: EventBus | None = field(default=None, repr=False)

    async def get(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        if self._bus is not None:
            self._bus.unsubscribe(self)
            self._bus = None


class SubscriberLimit(RuntimeError):
    pass


class EventBus:
    def __init__(self, max_subscribers: int = 64, default_buffer: int = 256) -> None:
        self.max_subscribers = max_subscribers
        self.default_buffer = default_buffer
        self._subs: set[Subscription] = set()
        self._seq = itertools.count(1)
        self.published = 0
        self.overflows = 0
        self._taps: list[Callable[[Event], None]] = []

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    def subscribe(self, topics: Iterable[str], *, buffer: int | None = None, label: str = "") -> Subscription:
        if len(self._subs) >= self.max_subscribers:
            raise SubscriberLimit(f"subscriber limit of {self.max_subscribers} reached")
        sub = Subscription(frozenset(topics), asyncio.Queue(buffer or self.default_buffer), label=label, _bus=self)
        self._subs.add(sub)
        return sub

    def add_tap(self, tap: Callable[[Event], None]) -> None:
        """Call `tap(event)` for every event as it is published (metrics): it must be quick and not raise."""
        self._taps.append(tap)

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def publish(self, topic: str, name: str, payload: dict[str, Any]) -> Event:
        event = Event(topic, name, payload, next(self._seq))
        self.published += 1
        for tap in self._taps:
            tap(event)
        for sub in self._subs:
            if topic not in sub.topics:
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.overflowed = True
                sub.dropped += sub.queue.qsize() + 1
                self.overflows += 1
                while not sub.queue.empty():
                    sub.queue.get_nowait()
        return event
