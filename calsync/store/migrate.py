"""Developer entry point for the packaged Alembic migrations (there is no alembic.ini).

    python -m calsync.store.migrate upgrade            # what open_store() does anyway
    python -m calsync.store.migrate current
    python -m calsync.store.migrate revision -m "add x" [--autogenerate]

The database is the one :func:`calsync.store.open_store` would use (``--url`` overrides).
New revisions are numbered 0002, 0003 ... after the current head.
"""

from __future__ import annotations

import argparse
import sys

from calsync.errors import StoreError
from calsync.store import db


def _next_rev_id() -> str:
    head = db.head_revision()
    return f"{int(head) + 1:04d}" if head and head.isdigit() else "0001"


def main(argv: list[str] | None = None) -> int:
    from alembic import command

    parser = argparse.ArgumentParser(prog="python -m calsync.store.migrate")
    parser.add_argument("--url", help="database URL (default: like open_store)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("upgrade", help="migrate to the newest schema")
    sub.add_parser("current", help="show the database's revision")
    rev = sub.add_parser("revision", help="write a new migration file")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true", help="diff models.py against the db")
    args = parser.parse_args(argv)

    try:
        url = db.resolve_url(args.url)
        engine = db.create_db_engine(url)
        try:
            if args.cmd != "current":
                db.upgrade(engine)  # autogenerate must diff against the newest schema
            with engine.connect() as conn:
                cfg = db.alembic_config(conn)
                if args.cmd == "current":
                    command.current(cfg, verbose=True)
                elif args.cmd == "revision":
                    command.revision(
                        cfg,
                        message=args.message,
                        autogenerate=args.autogenerate,
                        rev_id=_next_rev_id(),
                    )
                conn.commit()
        finally:
            engine.dispose()
    except StoreError as exc:
        print(f"calsync: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
