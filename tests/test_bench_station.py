"""The Center's benchmarks run as docs/performance.md prints them (small sizes here; the figures
themselves are measured by hand, never in a test): the load test's own checks (no duplicate
PINFL or card number, no gap, no lost application, one PINFL per doubly sent person) pass, and
the registry's lookup uses the PINFL's unique index."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, require_component
from tests.postgres import find_binary


def _run(*args: str) -> str:
    require_component(find_binary("initdb") is not None, "PostgreSQL (Debian package postgresql)")
    proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_load_benchmark_finds_no_duplicate_gap_or_loss() -> None:
    out = _run("benchmarks.bench_center_load", "120", "3", "40")
    assert ("checks: duplicate_pinfls 0, duplicate_cards 0, number_gaps 0, lost 0, "
            "requests_without_card 0, unanswered 0, pairs_split 0, cards 120") in out, out


def test_registry_benchmark_looks_up_by_the_unique_index() -> None:
    out = _run("benchmarks.bench_registry", "3000", "300")
    assert "Index Scan using uq_persons_pinfl on persons" in out, out
    assert "registry: 3,000 persons" in out
