"""Start-up of the ``idkarta`` command: whole processes, side by side.

Two ratios of wall time per process (each run a fresh interpreter, the rounds interleaved; best
and median of N):

* ``idkarta --help`` against ``python -c "import cryptography.x509"`` (target <= 2);
* ``idkarta verify DUMP --csca … --master-list … --crl …`` against a minimal script that imports
  only :mod:`idcard.verify` and verifies the same dump with the same trust inputs
  (target <= 1.3).

``idkarta`` runs as its console script does (``from station.cli import main; sys.exit(main())``)
with the sources this benchmark imports (``PYTHONPATH=/other/src`` measures others), their byte
code written on a first run (``PYTHONDONTWRITEBYTECODE`` is dropped for the children). The dump
and its PKI are made once by ``idkarta demo`` in a temporary folder, or taken from
``--demo DIR`` (an earlier ``idkarta demo --out DIR``).
Run: ``.venv/bin/python -m benchmarks.bench_startup [--rounds N] [--demo DIR]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

IDKARTA = "import sys; from station.cli import main; sys.exit(main())"
"""What the ``idkarta`` console script runs."""

MINIMAL = """\
import sys
from pathlib import Path
from idcard.verify import TrustStore, verify_dump_folder
dump, csca, master_list, crl = map(Path, sys.argv[1:])
trust = TrustStore.from_paths(csca, master_lists=[master_list], crls=[crl])
report = verify_dump_folder(dump, trust)
print("PASS" if report.ok else "FAIL")
sys.exit(0 if report.ok else 1)
"""
"""The least a script needs to verify a dump: import :mod:`idcard.verify`, verify, print."""


def _sources() -> str:
    """The folder holding the ``station`` package this benchmark would import."""
    spec = importlib.util.find_spec("station")
    if spec is None or spec.origin is None:
        sys.exit("station is not importable: run with PYTHONPATH=src")
    return str(Path(spec.origin).parents[1])


def _env() -> dict[str, str]:
    """The children's environment: these sources first, and byte code written (the warm-up run
    compiles every module once, as an installed package comes compiled)."""
    path = os.pathsep.join(p for p in (_sources(), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(argv: Sequence[str], env: dict[str, str]) -> float:
    """Wall time of one whole process; it must exit 0."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])} … exited {proc.returncode}: {proc.stderr.decode()}")
    return elapsed


def make_demo(out: Path, env: dict[str, str]) -> None:
    """``idkarta demo --out OUT`` (issues, reads back and verifies a sample card)."""
    subprocess.run([sys.executable, "-c", IDKARTA, "demo", "--out", str(out)], env=env,
                   check=True, capture_output=True)  # fmt: skip


def measure(demo: Path, rounds: int) -> dict[str, list[float]]:
    env = _env()
    trust = [demo / "read", demo / "pki" / "certs" / "csca-1.pem", demo / "pki" / "masterlist.der",
             demo / "pki" / "crl" / "csca-1-1.crl"]  # fmt: skip
    dump, csca, master_list, crl = map(str, trust)
    python = sys.executable
    runs = {
        "import cryptography.x509": [python, "-c", "import cryptography.x509"],
        "idkarta --help": [python, "-c", IDKARTA, "--help"],
        "minimal script (idcard.verify)": [python, "-c", MINIMAL, dump, csca, master_list, crl],
        "idkarta verify DUMP": [python, "-c", IDKARTA, "verify", dump, "--csca", csca,
                                "--master-list", master_list, "--crl", crl],
    }  # fmt: skip
    for argv in runs.values():  # warm the file cache and the .pyc files
        run_once(argv, env)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):  # interleaved: the machine is shared
        for name, argv in runs.items():
            times[name].append(run_once(argv, env))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--demo", type=Path, help="an existing `idkarta demo --out` folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = args.demo
        if demo is None:
            demo = Path(tmp) / "demo"
            make_demo(demo, _env())
        times = measure(demo, args.rounds)
    print(f"sources: {_sources()}; {args.rounds} rounds, whole processes, wall time")
    for name, values in times.items():
        print(f"  {name:<32} best {min(values) * 1000:6.1f} ms   "
              f"median {statistics.median(values) * 1000:6.1f} ms")  # fmt: skip
    goals = [("idkarta --help", "import cryptography.x509", 2.0),
             ("idkarta verify DUMP", "minimal script (idcard.verify)", 1.3)]  # fmt: skip
    for what, base, target in goals:
        best = min(times[what]) / min(times[base])
        median = statistics.median(times[what]) / statistics.median(times[base])
        print(f"{what} / {base}: {best:.2f} (best), {median:.2f} (median); target <= {target}")


if __name__ == "__main__":
    main()
