"""`appliance migrate [status|up|down]` on the state directory's database."""

from __future__ import annotations

import argparse

from ..config import ConfigError
from .common import add_config_args, fail, load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("migrate", help="show or change the database schema version",
                            description="status: applied and pending migrations; up: apply pending; "
                            "down: roll back the newest one (or --steps N).")
    parser.add_argument("action", nargs="?", choices=("status", "up", "down"), default="status")
    parser.add_argument("--steps", type=_positive, default=1, help="how many to roll back with down (default 1)")
    add_config_args(parser)
    parser.set_defaults(run=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more steps, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args)
    except ConfigError as exc:
        return fail(str(exc))
    from ..state_lock import StateDirInUse, StateLock
    from ..store import migrate

    db = settings.db_path
    if args.action == "status" and not db.exists():  # a status never creates anything (a mistyped path)
        return fail(f"no database at {db}: `appliance serve` or `appliance migrate up` creates it "
                    "(is --state-dir right?)", 1)
    lock = StateLock(settings.state_dir)
    try:
        if args.action in ("up", "down"):  # never under a running server: down drops its tables
            settings.state_dir.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        if args.action == "up":
            done = migrate.up(db)
            print("applied: " + (", ".join(done) if done else "nothing (already at head)"))
        elif args.action == "down":
            applied = migrate.status(db).applied
            if args.steps >= len(applied) and applied:  # the initial schema: every table, every job and token
                return fail(f"rolling back {applied[0]} would delete every table (jobs, printers, tokens); not done. "
                            f"Roll back at most {len(applied) - 1} step(s), or move {db.name} aside to start "
                            "afresh", 1)
            done = migrate.down(db, args.steps)
            print("rolled back: " + (", ".join(done) if done else "nothing"))
        state = migrate.status(db)
    except migrate.MigrationError as exc:
        return fail(str(exc), 1)
    except StateDirInUse as exc:
        return fail(f"{exc}; migrations change the tables it is using", 1)
    except OSError as exc:  # a read-only or full state directory, also as SQLite met it (store.migrate.unwritable)
        from .serve import cannot_start

        return fail(cannot_start(exc, settings.state_dir, doing="migrate"), 1)
    finally:
        lock.release()
    print(f"database: {db}")
    for mid in state.applied:
        print(f"  applied  {mid}")
    for mid in state.pending:
        print(f"  pending  {mid}")
    for mid in state.unknown:
        print(f"  unknown  {mid}  (applied by a newer version of the appliance)")
    print("at head" if state.at_head and not state.unknown else
          f"{len(state.pending)} pending" if not state.unknown else "newer than this version")
    return 0
