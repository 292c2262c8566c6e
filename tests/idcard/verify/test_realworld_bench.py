"""Verifying against 588 anchors stays fast (issue 17): passive authentication with the German
master list loaded as the trust store runs at ≥ 0.8 × the rate with one anchor
(``benchmarks/bench_passive_masterlist.py``, a short run)."""

from __future__ import annotations

from benchmarks.bench_passive_masterlist import main


def test_the_full_german_trust_store_costs_nothing_per_document() -> None:
    result = main(n=60, rounds=3)
    assert result["anchors"] > 500
    assert result["ratio"] >= 0.8, result
