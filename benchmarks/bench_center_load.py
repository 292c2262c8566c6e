"""Eight collection points against one Center over loopback HTTP, on PostgreSQL.

Run: ``.venv/bin/python -m benchmarks.bench_center_load [APPLICATIONS] [POINTS] [KNOWN]``
(defaults 5,000, 8 and 500 persons registered beforehand). A private PostgreSQL cluster
(``tests/postgres.py``) holds the Center's database; the Center runs as its own process
(uvicorn, one worker, the same ``station.api.create_app`` as ``idkarta center serve``); POINTS
processes send the applications through :class:`station.client.CenterClient` over HTTP, all at
once:

- 30 % known persons (registered beforehand, sent with their PINFL, ground ``expired``),
- 60 % new persons (no PINFL: the Center generates one; ground ``turned-16``),
- 10 % new persons sent by TWO points each (the same person, two request ids, concurrently:
  the demographic match must give both the same PINFL).

Checked afterwards in the database: 0 duplicate PINFLs, 0 duplicate card numbers and no gap in
them, 0 lost applications (every request id sent has its request row and its card), and each
doubly sent person one PINFL. Reported: applications per second, and CPU per application of
the Center's process and of PostgreSQL, against the baseline: the same rows (person, PINFL block,
card series, request, card, card event) written by bare SQL, one psycopg connection, one
transaction per application, no HTTP and no ORM.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.postgres import PostgresCluster

TICK = os.sysconf("SC_CLK_TCK")
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
SURNAMES = ("Gulomov", "Karimov", "Rashidov", "Yusupov", "Tursunov", "Saidov", "Aliyev")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """utime + stime of ``pid`` (and of its waited-for children) from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def person_json(i: int, *, pinfl: str | None = None, rng: random.Random) -> dict[str, Any]:
    """A synthetic adult citizen, unique by ``i`` (the given name spells i in letters)."""
    name, k = "", i
    while True:
        name, k = LETTERS[k % 26] + name, k // 26
        if k == 0:
            break
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(18000))
    return {
        "surname": {"latin": rng.choice(SURNAMES), "cyrillic": ""},
        "given_name": {"latin": "Bek" + name, "cyrillic": ""},
        "patronymic": {"latin": "", "cyrillic": ""},
        "birth_date": birth.isoformat(), "sex": "MF"[i % 2],
        "place_of_birth": "Toshkent shahri", "nationality": "o'zbek", "citizenship": "UZB",
        "address": "Toshkent shahri", "foreign_document": None, "father_pinfl": None,
        "mother_pinfl": None, "pinfl": pinfl,
    }  # fmt: skip


def serve(url: str, port: int) -> None:
    """The Center's process: uvicorn over ``create_app`` (as ``idkarta center serve``)."""
    import uvicorn

    from station.api import create_app
    from station.db import Role, open_database

    app = create_app(open_database(url, Role.CENTER, migrate=False))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def point_worker(url: str, point: str, jobs: list[dict[str, Any]], out: Any) -> None:
    """One collection point: send ``jobs`` in order; put (request id, answer JSON) pairs."""
    from station.center.models import CenterRequest
    from station.client import CenterClient

    answers = []
    with CenterClient.over_http(url, timeout=120) as client:
        for job in jobs:
            request = CenterRequest.from_json({**job, "point": point})
            answers.append((request.id, client.send_request(request).to_json()))
    out.put(answers)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(db: Any, known: int, rng: random.Random) -> list[dict[str, Any]]:
    """``known`` persons registered through the Center's service (their first card)."""
    from station.center.models import CenterRequest
    from station.center.service import open_series, receive_request, register_point
    from station.domain.application import PointKind

    for p in range(8):
        register_point(db, code=f"P{p}", name=f"Point {p}", kind=PointKind.INTERNAL_AFFAIRS,
                       place_code=f"{261 + p}", now=NOW)  # fmt: skip
    open_series(db, "AD")
    seeded = []
    for i in range(known):
        person = person_json(1_000_000 + i, rng=rng)
        answer = receive_request(db, CenterRequest.from_json({
            "id": str(uuid.uuid4()), "point": "P0", "operator": "seed", "scheme": "citizen",
            "ground": "turned-16", "person": person,
        }), now=NOW)  # fmt: skip
        seeded.append({**person, "pinfl": answer.pinfl})
    return seeded


def _jobs(n: int, points: int, seeded: list[dict[str, Any]], rng: random.Random
          ) -> tuple[list[list[dict[str, Any]]], list[tuple[str, str]]]:
    """Each point's requests, and the pairs of request ids sent for one person by two points."""
    per: list[list[dict[str, Any]]] = [[] for _ in range(points)]
    pairs: list[tuple[str, str]] = []
    i = 0
    while sum(map(len, per)) < n:
        kind = rng.random()
        p = rng.randrange(points)
        if kind < 0.3:
            person = rng.choice(seeded)
            per[p].append({"id": str(uuid.uuid4()), "operator": f"op{p}", "scheme": "citizen",
                           "ground": "expired", "person": person})  # fmt: skip
        elif kind < 0.9:
            per[p].append({"id": str(uuid.uuid4()), "operator": f"op{p}", "scheme": "citizen",
                           "ground": "turned-16", "person": person_json(i, rng=rng)})  # fmt: skip
        else:
            q = (p + 1 + rng.randrange(points - 1)) % points
            person = person_json(i, rng=rng)
            a, b = str(uuid.uuid4()), str(uuid.uuid4())
            for point, rid in ((p, a), (q, b)):
                per[point].append({"id": rid, "operator": f"op{point}", "scheme": "citizen",
                                   "ground": "turned-16", "person": person})  # fmt: skip
            pairs.append((a, b))
        i += 1
    return per, pairs


def _check(conn: Any, sent: set[str], answers: dict[str, dict[str, Any]],
           pairs: Sequence[tuple[str, str]], seeded: int) -> dict[str, int]:
    q = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    result = {
        "duplicate_pinfls": q("SELECT count(*) - count(DISTINCT pinfl) FROM persons"),
        "duplicate_cards": q("SELECT count(*) - count(DISTINCT (series, number)) FROM cards"),
        "number_gaps": q("SELECT max(number) - min(number) + 1 - count(*) FROM cards"),
        "lost": len(sent - {r[0] for r in conn.execute("SELECT id FROM requests")}),
        "requests_without_card": q(
            "SELECT count(*) FROM requests r LEFT JOIN cards c ON c.request_id = r.id "
            "WHERE c.id IS NULL"),
        "unanswered": len(sent - set(answers)),
        "pairs_split": sum(answers[a]["pinfl"] != answers[b]["pinfl"] for a, b in pairs),
        "cards": q("SELECT count(*) FROM cards") - seeded,
    }  # fmt: skip
    return result


def _bare_insert(cluster: PostgresCluster, dbname: str, answers: dict[str, dict[str, Any]],
                 jobs: dict[str, dict[str, Any]], seeded: Sequence[str]) -> tuple[float, float]:
    """The baseline: the same rows by bare SQL; (client CPU s, PostgreSQL CPU s)."""
    import psycopg

    now = NOW.isoformat()
    with psycopg.connect(**cluster.connect_args(dbname)) as conn:
        conn.execute("INSERT INTO points VALUES ('B', 'Bare', 'internal-affairs', '261', %s)",
                     (now,))  # fmt: skip
        conn.execute("INSERT INTO card_series VALUES ('BB', 1, false)")
        # The persons known before the load are known to the baseline too (not timed).
        known: dict[str, int] = {
            pinfl: conn.execute(
                "INSERT INTO persons (pinfl, demographic_key, surname_lat, given_name_lat, "
                "patronymic_lat, surname_cyr, given_name_cyr, patronymic_cyr, birth_date, sex, "
                "place_of_birth, nationality, citizenship, address, pinfl_generated, created_at,"
                " created_by_point) SELECT '9' || substr(pinfl, 2), 'bare|' || pinfl, "
                "surname_lat, given_name_lat, patronymic_lat, surname_cyr, given_name_cyr, "
                "patronymic_cyr, birth_date, sex, place_of_birth, nationality, citizenship, "
                "address, pinfl_generated, created_at, 'B' FROM persons WHERE pinfl = %s "
                "RETURNING id", (pinfl,)).fetchone()[0]
            for pinfl in seeded
        }  # fmt: skip
        conn.commit()
        pg0 = cpu_seconds(cluster.proc.pid, children=True)  # type: ignore[union-attr]
        cpu0 = time.process_time()
        for rid, answer in answers.items():
            job = jobs[rid]
            p = job["person"]
            pinfl = answer["pinfl"]
            with conn.transaction():
                if pinfl not in known:
                    key = f"bare|{pinfl}"
                    conn.execute(
                        "INSERT INTO pinfl_blocks VALUES (%s, 1) ON CONFLICT (prefix) DO UPDATE "
                        "SET next_serial = pinfl_blocks.next_serial + 1 RETURNING next_serial",
                        ("B" + pinfl[:9],), prepare=True)  # fmt: skip
                    known[pinfl] = conn.execute(
                        "INSERT INTO persons (pinfl, demographic_key, surname_lat, given_name_lat,"
                        " patronymic_lat, surname_cyr, given_name_cyr, patronymic_cyr, birth_date,"
                        " sex, place_of_birth, nationality, citizenship, address, pinfl_generated,"
                        " created_at, created_by_point) VALUES (%s, %s, %s, %s, %s, '', '', '', "
                        "%s, %s, %s, %s, %s, %s, true, %s, 'B') RETURNING id",
                        ("9" + pinfl[1:], key, p["surname"]["latin"], p["given_name"]["latin"],
                         "", p["birth_date"], p["sex"], p["place_of_birth"], p["nationality"],
                         p["citizenship"], p["address"], now), prepare=True).fetchone()[0]
                number = conn.execute(
                    "UPDATE card_series SET next_number = next_number + 1 WHERE series = 'BB' "
                    "RETURNING next_number", prepare=True).fetchone()[0] - 1  # fmt: skip
                bare_id = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO requests VALUES (%s, 'B', %s, 'citizen', %s, 'op', %s, %s)",
                    (bare_id, known[pinfl], job["ground"], now, json.dumps(answer)),
                    prepare=True)  # fmt: skip
                card = conn.execute(
                    "INSERT INTO cards (series, number, person_id, request_id, point_code, "
                    "issue_date, expiry_date, status) VALUES ('BB', %s, %s, %s, 'B', %s, %s, "
                    "'allocated') RETURNING id",
                    (number, known[pinfl], bare_id, answer["issue_date"], answer["expiry_date"]),
                    prepare=True).fetchone()[0]  # fmt: skip
                conn.execute(
                    "INSERT INTO card_events (card_id, status, at, by, reason) "
                    "VALUES (%s, 'allocated', %s, 'op', %s)", (card, now, bare_id), prepare=True)
    cpu = time.process_time() - cpu0
    time.sleep(0.5)  # the backend exits and the postmaster collects its CPU time
    pg = cpu_seconds(cluster.proc.pid, children=True) - pg0  # type: ignore[union-attr]
    return cpu, pg


def main(n: int = 5000, points: int = 8, known: int = 500) -> dict[str, float]:

    import psycopg

    from station.db import Role, open_database

    rng = random.Random(7)
    cluster = PostgresCluster()
    cluster.start()
    server: subprocess.Popen[bytes] | None = None
    try:
        created = cluster.create_database("load")
        url, dbname = created.url, created.name
        db = open_database(url, Role.CENTER)
        seeded = _seed(db, known, rng)
        db.close()
        per, pairs = _jobs(n, points, seeded, rng)
        jobs = {job["id"]: job for jobs in per for job in jobs}
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_center_load", "serve",
                                   url, str(port)])  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the Center did not start") from None
                time.sleep(0.1)
        pg0 = cpu_seconds(cluster.proc.pid, children=True)  # type: ignore[union-attr]
        center0 = cpu_seconds(server.pid)
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        t0 = time.perf_counter()
        procs = [ctx.Process(target=point_worker, args=(base, f"P{i}", per[i], out))
                 for i in range(points)]  # fmt: skip
        for proc in procs:
            proc.start()
        answers: dict[str, dict[str, Any]] = {}
        for _ in procs:
            answers.update(dict(out.get()))
        wall = time.perf_counter() - t0
        for proc in procs:
            proc.join()
        center_cpu = cpu_seconds(server.pid) - center0
        server.terminate()  # closes its connections: their backends' CPU reaches the postmaster
        server.wait(30)
        server = None
        time.sleep(0.5)
        pg_cpu = cpu_seconds(cluster.proc.pid, children=True) - pg0  # type: ignore[union-attr]
        with psycopg.connect(**cluster.connect_args(dbname)) as conn:
            checks = _check(conn, set(jobs), answers, pairs, known)
        bare_cpu, bare_pg = _bare_insert(cluster, dbname, answers, jobs,
                                         [p["pinfl"] for p in seeded])
    finally:
        if server is not None:
            server.kill()
        cluster.stop()
    sent = len(jobs)
    print(f"{points} points, {sent} applications ({len(pairs)} persons sent by two points), "
          f"{known} persons known beforehand")  # fmt: skip
    print("checks:", ", ".join(f"{k} {v}" for k, v in checks.items()))
    print(f"throughput: {sent / wall:,.0f} applications/s ({wall:.1f} s)")
    print(f"Center process CPU: {center_cpu / sent * 1e3:.2f} ms/application; bare SQL client "
          f"{bare_cpu / sent * 1e3:.2f} ms ({center_cpu / bare_cpu:.1f}×)")  # fmt: skip
    print(f"PostgreSQL CPU: {pg_cpu / sent * 1e3:.2f} ms/application; bare SQL "
          f"{bare_pg / sent * 1e3:.2f} ms ({pg_cpu / max(bare_pg, 1e-9):.1f}×)")  # fmt: skip
    bad = {k: v for k, v in checks.items() if k != "cards" and v}
    if bad or checks["cards"] != sent:
        raise SystemExit(f"FAILED: {bad}, cards {checks['cards']} of {sent}")
    return {"apps_per_s": sent / wall, "center_cpu_ratio": center_cpu / bare_cpu,
            "pg_cpu_ratio": pg_cpu / max(bare_pg, 1e-9)}  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main(*(int(a) for a in sys.argv[1:4]))
