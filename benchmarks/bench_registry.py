"""PINFL lookups on a registry of a million synthetic persons in PostgreSQL.

Run: ``.venv/bin/python -m benchmarks.bench_registry [PERSONS] [LOOKUPS]`` (defaults 1,000,000
and 20,000). A private PostgreSQL cluster (``tests/postgres.py``: initdb in a temporary folder,
Unix socket only) gets the Center's schema by its Alembic migrations, one point, and PERSONS
persons with valid PINFLs and demographic keys of the Center's form (COPY; birth dates
1930-2025, both sexes, 14 place codes, parents' PINFLs). EXPLAIN shows
the plan of the lookup (the unique index ``uq_persons_pinfl``). Then LOOKUPS random PINFLs
(nine in ten registered) are looked up three ways, in alternating rounds, best round kept:

- **bare SQL**, the baseline: one psycopg connection, the server-side prepared statement
  ``SELECT <the person's columns> FROM persons WHERE pinfl = $1``, rows as tuples: the least a
  lookup can cost through the same driver and database;
- **service**: :func:`station.center.service.person_by_pinfl` (a read transaction from the pool,
  the ORM row, the domain :class:`~station.domain.person.Person` with its checks);
- **API**: ``GET /v1/persons/{pinfl}`` through :class:`station.client.CenterClient` in process
  (the JSON the points receive, without the network).

Reported: lookups per second of each, and each one's time per lookup over the bare SQL's.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import sys
import time
from collections.abc import Callable, Sequence

from tests.postgres import PostgresCluster

from station.db import Role, open_database
from station.domain.pinfl import compose_pinfl

PLACES = ("261", "262", "263", "264", "265", "266", "267", "268", "269", "270", "271", "272",
          "273", "274")  # fmt: skip
SURNAMES = ("Gulomov", "Karimov", "Rashidov", "Yusupov", "Tursunov", "Saidov", "Aliyev")
GIVEN = ("Otkir", "Jasur", "Bobur", "Dilshod", "Sardor", "Aziz", "Nodir", "Rustam")
COLUMNS = ("pinfl, demographic_key, surname_lat, given_name_lat, patronymic_lat, surname_cyr, "
           "given_name_cyr, patronymic_cyr, birth_date, sex, place_of_birth, nationality, "
           "citizenship, address, pinfl_generated, created_at, created_by_point")  # fmt: skip
SELECT = (
    "SELECT pinfl, surname_lat, given_name_lat, patronymic_lat, surname_cyr, given_name_cyr,"
    " patronymic_cyr, birth_date, sex, place_of_birth, nationality, citizenship, address,"
    " foreign_document, father_pinfl, mother_pinfl FROM persons WHERE pinfl = %s"
)


def _letters(i: int) -> str:
    out = ""
    while True:
        out, i = "abcdefghijklmnopqrstuvwxyz"[i % 26] + out, i // 26
        if i == 0:
            return out


def synthetic_rows(n: int, *, seed: int = 1) -> tuple[io.StringIO, list[str]]:
    """``n`` persons as COPY text (tab-separated) and their PINFLs."""
    rng = random.Random(seed)
    start, days = dt.date(1930, 1, 1), (dt.date(2025, 12, 31) - dt.date(1930, 1, 1)).days
    serials: dict[str, int] = {}
    buf, pinfls = io.StringIO(), []
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC).isoformat()
    while len(pinfls) < n:
        sex = "MF"[rng.getrandbits(1)]
        birth = start + dt.timedelta(days=rng.randrange(days))
        place = rng.choice(PLACES)
        prefix = f"{sex}{birth.isoformat()}{place}"
        serial = serials.get(prefix, 0) + 1
        if serial > 999:
            continue
        serials[prefix] = serial
        pinfl = compose_pinfl(sex=sex, birth_date=birth, place_code=place, serial=serial)
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN) + _letters(len(pinfls))
        patronymic = rng.choice(GIVEN) + (" o'g'li" if sex == "M" else " qizi")
        father, mother = f"{rng.randrange(10**13, 10**14)}", f"{rng.randrange(10**13, 10**14)}"
        key = "|".join((surname.casefold(), given.casefold(), patronymic.casefold(),
                        birth.isoformat(), "toshkent shahri", f"f={father}", f"m={mother}"))
        buf.write("\t".join((
            pinfl, key, surname, given, patronymic, "", "", "", birth.isoformat(), sex,
            "Toshkent shahri", "o'zbek", "UZB", "Toshkent shahri, Yunusobod tumani", "f", now,
            "P1",
        )) + "\n")  # fmt: skip
        pinfls.append(pinfl)
    buf.seek(0)
    return buf, pinfls


def _time(fn: Callable[[str], object], keys: Sequence[str]) -> float:
    t0 = time.perf_counter()
    for k in keys:
        fn(k)
    return time.perf_counter() - t0


def main(persons: int = 1_000_000, lookups: int = 20_000, rounds: int = 3) -> dict[str, float]:
    import psycopg

    from station.api import create_app
    from station.center.errors import NotFound
    from station.center.service import person_by_pinfl, register_point
    from station.client import CenterClient
    from station.domain.application import PointKind

    cluster = PostgresCluster()
    cluster.start()
    try:
        created = cluster.create_database("registry")
        url, dbname = created.url, created.name
        db = open_database(url, Role.CENTER)
        register_point(db, code="P1", name="Bench point", kind=PointKind.INTERNAL_AFFAIRS,
                       place_code="261", now=dt.datetime.now(dt.UTC))  # fmt: skip
        t0 = time.perf_counter()
        rows, pinfls = synthetic_rows(persons)
        with psycopg.connect(**cluster.connect_args(dbname)) as conn:
            with conn.cursor().copy(f"COPY persons ({COLUMNS}) FROM STDIN") as copy:
                while chunk := rows.read(1 << 20):
                    copy.write(chunk)
            conn.execute("ANALYZE persons")
            conn.commit()
            load = time.perf_counter() - t0
            plan = [r[0] for r in conn.execute("EXPLAIN " + SELECT, (pinfls[0],), prepare=False)]
            size = conn.execute("SELECT pg_total_relation_size('persons'), "
                                "pg_indexes_size('persons')").fetchone()  # fmt: skip
        rng = random.Random(2)
        keys = [rng.choice(pinfls) if rng.random() < 0.9 else "3" + "0" * 13
                for _ in range(lookups)]  # fmt: skip

        bare_conn = psycopg.connect(**cluster.connect_args(dbname),
                                    autocommit=True)  # fmt: skip

        def bare(pinfl: str) -> object:
            return bare_conn.execute(SELECT, (pinfl,), prepare=True).fetchone()

        def service(pinfl: str) -> object:
            try:
                return person_by_pinfl(db, pinfl)
            except NotFound:
                return None

        client = CenterClient.in_process(create_app(db))

        def api(pinfl: str) -> object:
            try:
                return client.person_by_pinfl(pinfl)
            except NotFound:
                return None

        best = {"bare": float("inf"), "service": float("inf"), "api": float("inf")}
        api_keys = keys[: lookups // 5]  # the in-process HTTP round trip is slower: a fifth
        for _ in range(rounds):
            best["bare"] = min(best["bare"], _time(bare, keys) / len(keys))
            best["service"] = min(best["service"], _time(service, keys) / len(keys))
            best["api"] = min(best["api"], _time(api, api_keys) / len(api_keys))
        client.close()
        bare_conn.close()
        db.engine.dispose()
    finally:
        cluster.stop()
    print(f"registry: {persons:,} persons loaded by COPY in {load:.1f} s")
    print(f"persons: {size[0] / 2**20:,.0f} MiB with indexes ({size[1] / 2**20:,.0f} MiB of "
          f"indexes), {size[0] / persons:,.0f} bytes per person")
    print("plan:", " / ".join(line.strip() for line in plan))
    assert any("Index" in line and "uq_persons_pinfl" in line for line in plan), plan
    for name in ("bare", "service", "api"):
        per = best[name]
        print(f"{name:8s} {1 / per:10,.0f} lookups/s  {per * 1e6:8.1f} µs/lookup  "
              f"{per / best['bare']:6.2f}× bare SQL")  # fmt: skip
    return best


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
