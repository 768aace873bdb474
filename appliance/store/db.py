"""The one aiosqlite connection the server uses: WAL, foreign keys, busy timeout.

Writes go through `transaction()`, which serialises them (one writer) and counts
them, so the benchmark can report transactions per job (an SD card wears with each).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite


def is_damaged(exc: BaseException) -> bool:
    """An SQLite error that means the file itself is damaged (not a lock, not a full disk)."""
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


def damaged_message(path: Path, exc: BaseException) -> str:
    return (f"{path} cannot be read ({exc}): the file is damaged; restore a backup (docs/install-pi.md §7), "
            "or move it aside to start afresh")


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.transactions = 0

    async def open(self) -> None:
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: every commit is on the disk before it returns. With NORMAL a commit in WAL mode can
        # roll back at a power cut: a job its caller was told was queued, or the "processing" written
        # before its raster goes out, so after the cut the label would be sent again and print twice.
        # One fsync of the WAL per commit; a job makes three (bench/).
        await self._conn.execute("PRAGMA synchronous=FULL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.execute("PRAGMA optimize")
            finally:
                await conn.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    # Each aiosqlite call is a round trip to its thread (a queue put, a wake-up of the loop); on a
    # busy Pi those add up, so a query and its rows come back in one (execute_fetchall), not three.

    async def fetchall(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        """The first row of a query that returns at most a few (a key lookup, an aggregate)."""
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchone_committed(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        """`fetchone`, never in the middle of another task's transaction.

        There is one connection: a read between two statements of an open transaction sees
        its rows before they are committed (a job inserted, its raster not yet). Whoever acts
        on what it reads (the worker, about to print) reads between transactions instead.
        """
        async with self._write_lock:
            return await self.fetchone(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error; one writer at a time."""
        async with self._write_lock:
            conn = self.conn
            begin = asyncio.ensure_future(conn.execute("BEGIN IMMEDIATE"))
            try:
                await asyncio.shield(begin)
            except asyncio.CancelledError:  # the BEGIN runs on in aiosqlite's thread: end what it opens
                with contextlib.suppress(Exception):
                    await begin
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")
                raise
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # SQLite ends it itself on some errors (SQLITE_FULL): keep that error
                    await conn.execute("ROLLBACK")
                raise
            else:
                try:
                    await conn.execute("COMMIT")
                except Exception:  # a COMMIT that fails (a full disk) must not leave the writer stuck in it
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")
                    raise
                self.transactions += 1
