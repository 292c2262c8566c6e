"""Passive authentication with the full German master list as trust store, against one anchor.

Run: ``.venv/bin/python -m benchmarks.bench_passive_masterlist [N]``. Our own DS (explicit
brainpool parameters, CSCA on brainpoolP224r1) signs N dumps. Store "one" holds only that CSCA;
store "full" holds the German root and our root as anchors plus the German master list (588
CSCAs) and a master list of ours carrying the CSCA. Both verify every dump (the chain is built
once per DS and cached); the two are timed in alternating rounds, best round kept.
Ratio = one-anchor time / full-store time (target ≥ 0.8: 588 anchors cost nothing per document).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping

from asn1crypto import x509
from tests.conftest import REAL_WORLD
from tests.idcard.verify.explicit_pki import ExplicitPKI
from tests.idcard.verify.pa_pki import PKI, VERIFY_AT, asn1, master_list, sample_files

from idcard import tlv
from idcard.verify import TrustStore, verify_passive
from idcard.verify.masterlist import MasterList

ML = REAL_WORLD / "master-lists"  # the shared vectors beside the checkout


def _round(dumps: list[Mapping[str, bytes]], trust: TrustStore) -> float:
    t0 = time.perf_counter()
    for d in dumps:
        report = verify_passive(d, trust, at=VERIFY_AT)
        assert report.ok, report.failed
    return time.perf_counter() - t0


def main(n: int = 300, rounds: int = 3) -> dict[str, float]:
    pki = ExplicitPKI(slot=90)
    root = PKI(country="UZ", slot=91)
    base = sample_files()
    dumps: list[Mapping[str, bytes]] = []
    for i in range(n):
        files = dict(base)
        files["DG14"] = tlv.encode(0x6E, i.to_bytes(4, "big"))
        dumps.append(pki.sign_files(files))
    one = TrustStore([x509.Certificate.load(pki.csca_der)])
    t0 = time.perf_counter()
    full = TrustStore(
        [x509.Certificate.load((ML / "DE_ROOT_CA_CSCA07.cer").read_bytes()), asn1(root.csca)],
        master_lists=[
            MasterList.decode((ML / "DE_ML_2026-05-28-08-28-45.ml").read_bytes()),
            MasterList.decode(master_list(root, [pki.csca])),
        ],
    )
    load = time.perf_counter() - t0
    anchors = len(full.trusted)
    best_one = best_full = float("inf")
    for _ in range(rounds):
        best_one = min(best_one, _round(dumps, one))
        best_full = min(best_full, _round(dumps, full))
    result = {
        "dumps": float(n),
        "anchors": float(anchors),
        "store_load_s": load,
        "one_per_s": n / best_one,
        "full_per_s": n / best_full,
        "ratio": best_one / best_full,
    }
    print(
        f"passive authentication with {anchors} trusted CSCAs: {result['full_per_s']:.0f}/s; "
        f"with one: {result['one_per_s']:.0f}/s; ratio {result['ratio']:.2f} (target >= 0.8); "
        f"loading the store: {load:.2f} s"
    )
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
