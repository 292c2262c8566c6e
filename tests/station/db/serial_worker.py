"""A separate process taking serials: ``python -m tests.station.db.serial_worker URL PREFIX N``
prints one serial a line, each from its own transaction (test_concurrency.py runs several)."""

from __future__ import annotations

import sys

from sqlalchemy import update

from station.db import Role, open_database
from station.db.center_tables import PINFLBlock


def take_serial(session: object, prefix: str) -> int:
    """``UPDATE pinfl_blocks SET next_serial = next_serial + 1 … RETURNING``: the serial taken."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    statement = (
        update(PINFLBlock)
        .where(PINFLBlock.prefix == prefix)
        .values(next_serial=PINFLBlock.next_serial + 1)
        .returning(PINFLBlock.next_serial)
    )
    return int(session.execute(statement).scalar_one()) - 1


def main(url: str, prefix: str, count: int) -> None:
    db = open_database(url, Role.CENTER, migrate=False)
    try:
        for _ in range(count):
            with db.session() as session:
                print(take_serial(session, prefix), flush=True)
    finally:
        db.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
