"""SQL for the api_tokens table: only a hash of each token is stored, never the token.

Tokens are `la_` + 256 random bits (so logs.py redacts them), which makes a plain
SHA-256 enough: there is nothing to brute-force that a slow hash would protect.
The CLI writes with the standard `sqlite3` module (its own process, WAL + busy
timeout, so it works while the server runs); the server reads through aiosqlite.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..clock import now_text
from .db import Database

PREFIX = "la_"
SCOPES = ("read", "admin")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TokenError(ValueError):
    """A token operation the caller got wrong (duplicate or unknown name, bad scope)."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    scope: str
    created_at: str
    last_used_at: str | None


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def connect(db_path: Path) -> sqlite3.Connection:
    """A short-lived connection for the CLI: autocommit, WAL, and wait for the server's writer."""
    conn = sqlite3.connect(db_path, timeout=5.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def create(conn: sqlite3.Connection, name: str, scope: str = "admin") -> str:
    """Store a new token's hash under `name`; returns the token (shown once, never stored)."""
    if not NAME_PATTERN.match(name):
        raise TokenError(f"bad token name {name!r}: use 1-64 letters, digits, '.', '-' or '_'")
    if scope not in SCOPES:
        raise TokenError(f"bad scope {scope!r}: use read or admin")
    token = new_token()
    try:
        conn.execute("INSERT INTO api_tokens (name, scope, token_hash, created_at) VALUES (?, ?, ?, ?)",
                     (name, scope, hash_token(token), now_text()))
    except sqlite3.IntegrityError:
        raise TokenError(f"a token named {name!r} already exists (revoke it first)") from None
    return token


def listing(conn: sqlite3.Connection) -> list[TokenInfo]:
    rows = conn.execute("SELECT name, scope, created_at, last_used_at FROM api_tokens ORDER BY name").fetchall()
    return [TokenInfo(*row) for row in rows]


def revoke(conn: sqlite3.Connection, name: str) -> None:
    if conn.execute("DELETE FROM api_tokens WHERE name = ?", (name,)).rowcount == 0:
        raise TokenError(f"no token named {name!r}")


# --- the server side (aiosqlite) -----------------------------------------------------------------


async def lookup(db: Database, token_hash: str) -> tuple[str, str, str] | None:
    """(name, scope, stored hash) for a token hash, or None."""
    row = await db.fetchone("SELECT name, scope, token_hash FROM api_tokens WHERE token_hash = ?", (token_hash,))
    return (row["name"], row["scope"], row["token_hash"]) if row is not None else None


async def touch(db: Database, name: str) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE name = ?", (now_text(), name))
