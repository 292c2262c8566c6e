"""Passive-authentication throughput on 1,000 dumps against the bare cryptographic cost.

Run: ``.venv/bin/python -m benchmarks.bench_passive [N]``. One P-256 CSCA and DS sign N dumps
(DG1 varies per dump); one :class:`~idcard.verify.TrustStore` verifies them all (the CSCA chain
is built once and cached per DS). The baseline, measured in the same run, is the bare cost per
dump: the SHA-256 hashes of the data groups and of the eContent plus one ECDSA verification
with a preloaded key. Ratio = our rate / bare rate (target ≥ 0.5).
"""

from __future__ import annotations

import hashlib
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from tests.idcard.verify.pa_pki import PKI, VERIFY_AT, asn1, sample_files, sign_files

from idcard import tlv
from idcard.lds.sod import SODParts
from idcard.verify import TrustStore, verify_passive


def main(n: int = 1000) -> dict[str, float]:
    pki = PKI(slot=90)
    base = sample_files()
    dumps = []
    for i in range(n):
        files = dict(base)
        files["DG1"] = tlv.encode(0x61, tlv.encode(0x5F1F, f"I<UZB{i:085d}".encode()))
        dumps.append(sign_files(files, pki))
    trust = TrustStore([asn1(pki.csca)])

    # bare cost: hashes of the DGs and of the eContent, one ECDSA verify (inputs pre-extracted)
    pub = pki.ds_key.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    prepared = []
    for d in dumps:
        v = SODParts.decode(d["EF.SOD"]).signed
        assert v.signed_attrs_der is not None
        dgs = [raw for name, raw in d.items() if name.startswith("DG")]
        prepared.append((dgs, v.e_content, v.signed_attrs_der, v.signature))
    t0 = time.perf_counter()
    for dgs, content, attrs, sig in prepared:
        for raw in dgs:
            hashlib.sha256(raw).digest()
        hashlib.sha256(content).digest()
        pub.verify(sig, attrs, ec.ECDSA(hashes.SHA256()))
    bare = time.perf_counter() - t0

    verify_passive(dumps[0], trust, at=VERIFY_AT)  # warm the chain cache
    t0 = time.perf_counter()
    for d in dumps:
        report = verify_passive(d, trust, at=VERIFY_AT)
        assert report.ok, report.failed
    ours = time.perf_counter() - t0

    result = {
        "dumps": float(n),
        "verify_per_s": n / ours,
        "bare_per_s": n / bare,
        "ratio": bare / ours,
    }
    print(
        f"passive authentication: {result['verify_per_s']:.0f}/s; bare hashes + ECDSA verify: "
        f"{result['bare_per_s']:.0f}/s; ratio {result['ratio']:.2f} (target >= 0.5)"
    )
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
