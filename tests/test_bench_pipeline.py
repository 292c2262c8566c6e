"""The pipeline benchmark runs as docs/performance.md prints it (two cards here; the figures are
measured by hand, never in a test): each mode makes every card ready and reports every step."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from station.domain.jobs import ORDER
from tests.conftest import ROOT, require_tool


def test_pipeline_benchmark_reports_each_mode_and_step() -> None:
    for tool in ("pcscd", "unshare", "nsenter"):
        require_tool(tool)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_pipeline", "2", "--pcsc"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    heads = re.findall(r"^(\S.*?): 2 cards, \d+ ms wall and \d+ ms CPU per card: [\d,]+ "
                       r"cards/hour/core$", proc.stdout, re.M)  # fmt: skip
    assert heads == ["durable (embedded default)", "in memory", "pcscd + vpcd"], proc.stdout
    steps = re.findall(r"^  (\S+)\s+[\d.]+ ms$", proc.stdout, re.M)
    assert steps == [s.value for s in ORDER] * 3
