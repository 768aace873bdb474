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


def primary_code(exc: BaseException) -> int | None:
    """SQLite's primary result code of an error (Python gives the extended one: SQLITE_CORRUPT_INDEX is 779)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_damaged(exc: BaseException) -> bool:
    """An SQLite error that means the file itself is damaged (not a lock, not a full disk)."""
    return primary_code(exc) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


# To callers and in /readiness (neither may show paths or exception text); the journal has both.
DAMAGED_AT_WORK = ("the appliance's database file is damaged (a page SQLite cannot read); an administrator must "
                   "restore a backup made with `appliance backup` (the steps are under Restore in "
                   "docs/install-pi.md §7)")


def damaged_message(path: Path, why: BaseException | str) -> str:
    return (f"{path} cannot be read ({why}): the file is damaged; restore a backup made with `appliance backup` "
            "(the steps are under Restore in docs/install-pi.md §7), or move it aside with its -wal and -shm "
            "files to start afresh")


# The whole file is checked up to this size: ≈2.5 ms here at 4 MiB with its pages cached, ≈45 ms read cold
# as after a power cut (a Pi: 6-10× that). A file of 10 000 jobs (140 MB) would take 62 ms cached, 1.8 s cold.
FULL_CHECK_MAX_BYTES = 4 << 20
HISTORY_TABLES = frozenset({"jobs", "job_events", "job_artifacts"})  # grow with every job, up to keep_jobs


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """What `PRAGMA quick_check` finds wrong in the file (empty: nothing), bounded in time.

    A file up to FULL_CHECK_MAX_BYTES is checked whole. A larger one has its tables outside the job
    history checked (the schema, yoyo's migration log and lock, printers, tokens and their indexes,
    a constant few pages) but not the history, whose cost grows with every job kept: a damaged
    history page is found when it is read. Raises sqlite3.DatabaseError when SQLite cannot even
    read the schema.
    """
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    if pages * page_size <= FULL_CHECK_MAX_BYTES:
        statements = ["PRAGMA quick_check(5)"]
    else:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
        statements = [f"PRAGMA quick_check({_quoted(name)})" for name in tables if name not in HISTORY_TABLES]
    problems: list[str] = []
    for statement in statements:
        problems += [line for row in conn.execute(statement) for line in str(row[0]).splitlines()
                     if line not in ("ok", "*** in database main ***")]
    return problems


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
            except sqlite3.DatabaseError as exc:  # said when it was met (appliance.database_damaged); closed below
                if not is_damaged(exc):
                    raise
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
