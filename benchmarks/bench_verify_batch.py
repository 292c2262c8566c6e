"""`idkarta verify` on a folder of dump folders: dumps per second against bare `cryptography`.

Run: ``.venv/bin/python -m benchmarks.bench_verify_batch [N] [--jobs J]``. N distinct dumps of
the sample applicant (each with its own CA and AA keys, EF.SOD by a P-256 DS) are written as
dump folders with an evidence.json as a read records it (the AA signature over a random
challenge); :func:`station.audit.batch.run_batch` verifies them all (every
check of ``idkarta verify``: passive authentication, evidence, AA re-verified, CA, DG11, PINFL,
validity period) in 1 and in J worker processes. The baseline is the bare work per dump in one
process: read the files, the SHA-256 of each data group and of the eContent, the ECDSA
verifications of the SOD signature, of the DS certificate's signature and of AA's signature,
with preloaded keys. Ratio = bare time / our time in one process.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, make_card
from tests.idcard.verify.pa_pki import pem

from idcard.lds.dg14 import DG14
from idcard.lds.security_infos import ChipAuthenticationPublicKeyInfo
from idcard.lds.sod import SODParts
from idcard.protocols.aa import sign_challenge
from idcard.reader.document import read_document
from idcard.reader.evidence import EVIDENCE_FILE, ActiveAuthEvidence, Evidence
from station.audit.batch import BatchSettings, run_batch
from station.card_data import ECDSA_PLAIN_SHA256, CardKeys


def _bare(folders: list[Path], aa_keys: list[ec.EllipticCurvePublicKey]) -> float:
    pki = ds_pki()
    pub, ca_pub = pki.ds_key.public_key(), pki.csca_key.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    assert isinstance(ca_pub, ec.EllipticCurvePublicKey)
    ds_tbs, ds_sig = pki.ds.tbs_certificate_bytes, pki.ds.signature
    t0 = time.perf_counter()
    for folder, aa_key in zip(folders, aa_keys, strict=True):
        files = {p.name: p.read_bytes() for p in folder.iterdir()}
        signed = SODParts.decode(files["EF.SOD"]).signed
        assert signed.signed_attrs_der is not None
        for name, raw in files.items():
            if name.startswith("DG"):
                hashlib.sha256(raw).digest()
        hashlib.sha256(signed.e_content).digest()
        pub.verify(signed.signature, signed.signed_attrs_der, ec.ECDSA(hashes.SHA256()))
        ca_pub.verify(ds_sig, ds_tbs, ec.ECDSA(hashes.SHA256()))
        aa = json.loads(files["evidence.json"])["active_authentication"]
        sig = bytes.fromhex(aa["signature"])
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        aa_key.verify(der, bytes.fromhex(aa["challenge"]), ec.ECDSA(hashes.SHA256()))
    return time.perf_counter() - t0


def _write_dumps(root: Path, n: int) -> list[ec.EllipticCurvePublicKey]:
    """N distinct dumps (own CA and AA keys, so DG14, DG15 and EF.SOD differ) with evidence as
    a read records it; one read of a virtual chip gives the evidence's shape."""
    dump, keys = build_dump()
    template = read_document(make_card(dump, keys).transport(), can=CAN).evidence
    assert template is not None and template.chip_authentication is not None
    aa_keys = []
    for i in range(n):
        keys = CardKeys(ec.generate_private_key(ec.BrainpoolP256R1()),
                        ec.generate_private_key(ec.SECP256R1()))  # fmt: skip
        dump, _ = build_dump(keys=keys)
        spki = DG14.decode(dump.files["DG14"]).security_infos.of_type(
            ChipAuthenticationPublicKeyInfo)[0].public_key_info  # fmt: skip
        challenge = os.urandom(8)
        evidence = dataclasses.replace(
            template, files=Evidence.hashes(dump.files),
            chip_authentication=dataclasses.replace(
                template.chip_authentication, chip_key_sha256=hashlib.sha256(spki).digest()),
            active_authentication=ActiveAuthEvidence(
                "pass", challenge, sign_challenge(keys.active_authentication, challenge,
                                                  hash_alg=ECDSA_PLAIN_SHA256),
                ECDSA_PLAIN_SHA256),
        )  # fmt: skip
        folder = root / f"d{i:05d}"
        dump.write(folder)
        (folder / EVIDENCE_FILE).write_bytes(evidence.to_bytes())
        aa_keys.append(keys.active_authentication.public_key())
    return aa_keys


def main(n: int = 1000, jobs: int = os.cpu_count() or 1) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        aa_keys = _write_dumps(root / "dumps", n)
        (root / "csca.pem").write_bytes(pem(ds_pki().csca))
        folders = sorted((root / "dumps").iterdir())
        settings = BatchSettings(root / "csca.pem")
        bare = _bare(folders, aa_keys)
        t0 = time.perf_counter()
        rows, _ = run_batch(folders, settings, jobs=1)
        one = time.perf_counter() - t0
        assert all(r["ok"] for r in rows), rows[0]
        t0 = time.perf_counter()
        rows, _ = run_batch(folders, settings, jobs=jobs)
        many = time.perf_counter() - t0
        assert all(r["ok"] for r in rows)
    result = {"dumps": float(n), "bare_per_s": n / bare, "one_per_s": n / one,
              "jobs": float(jobs), "jobs_per_s": n / many, "ratio": bare / one}  # fmt: skip
    print(f"{n} dumps: every check, 1 process {result['one_per_s']:.0f}/s, {jobs} processes "
          f"{result['jobs_per_s']:.0f}/s; bare hashes + 3 ECDSA verify "
          f"{result['bare_per_s']:.0f}/s; ratio (1 process) {result['ratio']:.2f}")  # fmt: skip
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    main(args.n, args.jobs)
