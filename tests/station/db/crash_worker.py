"""A writer to be killed: ``python -m tests.station.db.crash_worker URL``.

Writes batches forever (after those already there), one transaction each: batch n inserts
ROWS ``pinfl_blocks`` rows ``nnnn`` + 6 digits and moves the ``card_series`` counter by ROWS.
After the first half of a batch is flushed it prints ``writing n`` and writes the rest
slowly; after the commit, ``committed n``. On SQLite the page cache is tiny, so the uncommitted
pages already sit in the WAL file when the kill comes (test_crash.py).
"""

from __future__ import annotations

import sys
import time

from sqlalchemy import func, select, text, update

from station.db import Role, open_database
from station.db.center_tables import CardSeries, PINFLBlock

ROWS = 400


def main(url: str) -> None:
    db = open_database(url, Role.CENTER, migrate=False)
    with db.session(write=False) as session:  # go on after the batches already there
        last = session.scalar(select(func.max(PINFLBlock.next_serial)))
    batch = 0 if last is None else last + 1
    while True:
        with db.session() as session:
            if db.dialect == "sqlite":
                session.execute(text("PRAGMA cache_size = 2"))  # spill early into the WAL
            for i in range(ROWS):
                session.add(PINFLBlock(prefix=f"{batch:04d}{i:06d}", next_serial=batch))
                if i == ROWS // 2:
                    session.flush()
                    print(f"writing {batch}", flush=True)
                if i > ROWS // 2 and i % 50 == 0:
                    session.flush()
                    time.sleep(0.01)
            session.execute(
                update(CardSeries).values(next_number=CardSeries.next_number + ROWS)
            )
        print(f"committed {batch}", flush=True)
        batch += 1


if __name__ == "__main__":
    main(sys.argv[1])
