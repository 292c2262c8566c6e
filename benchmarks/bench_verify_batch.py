"""`idkarta verify` on a folder of dump folders: dumps per second against bare `cryptography`.

Run: ``.venv/bin/python -m benchmarks.bench_verify_batch [N] [--jobs J]``. N distinct dumps of
the sample applicant (each with its own CA and AA keys, EF.SOD by a P-256 DS) are written as
dump folders with an evidence.json as a read records it (the AA signature over a random
challenge); :func:`station.audit.batch.run_batch` verifies them all (every check of ``idkarta
verify``: passive authentication, evidence, AA re-verified, CA, DG11, PINFL, validity period)
in 1 and in J worker processes.

The baseline is the cryptographic work per dump done with bare calls, in one process, as
efficiently as we could write it: read the folder's files; read EF.SOD with
:class:`idcard.lds.sod.SODParts` (the fastest EF.SOD reader we have, no certificate objects);
the SHA-256 of each data group compared with the SOD's; the eContent's SHA-256 compared with
messageDigest; the ECDSA verification of the SOD signature (the DS key loaded once per DS
certificate) and of the DS certificate by the CSCA (once per DS certificate, as ``verify``
caches it too); evidence.json parsed and each recorded file hash compared; DG15's key loaded
and AA's signature over the recorded challenge verified. Not in the baseline: DG14's
SecurityInfos (CA's key hash), DG1/DG11/DG12 and the holder's checks, the folder fingerprint
for reruns. Ratio = bare time / our time in one process.
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

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
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

ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def _tlv_value(data: bytes) -> bytes:
    """The value of a BER-TLV with a one-byte tag (DG15's 6F)."""
    first = data[1]
    if first < 0x80:
        return data[2:2 + first]
    n = first & 0x7F
    return data[2 + n:2 + n + int.from_bytes(data[2:2 + n], "big")]


def _bare(folders: list[Path], csca: x509.Certificate) -> float:
    """The baseline (module docstring); asserts every dump verifies."""
    csca_key = csca.public_key()
    assert isinstance(csca_key, ec.EllipticCurvePublicKey)
    ds_keys: dict[bytes, ec.EllipticCurvePublicKey] = {}
    t0 = time.perf_counter()
    for folder in folders:
        files = {p.name: p.read_bytes() for p in folder.iterdir()}
        sod = SODParts.decode(files["EF.SOD"])
        signed = sod.signed
        digests = {n: hashlib.sha256(raw).digest() for n, raw in files.items()
                   if n != EVIDENCE_FILE}  # fmt: skip
        for number, expected in sod.data_group_hashes.items():
            assert digests[f"DG{number}"] == expected
        assert hashlib.sha256(signed.e_content).digest() == signed.message_digest
        ds_der = signed.signer_certificate_der
        assert ds_der is not None and signed.signed_attrs_der is not None
        ds_key = ds_keys.get(ds_der)
        if ds_key is None:
            ds = x509.load_der_x509_certificate(ds_der)
            csca_key.verify(ds.signature, ds.tbs_certificate_bytes, ECDSA_SHA256)
            key = ds.public_key()
            assert isinstance(key, ec.EllipticCurvePublicKey)
            ds_key = ds_keys[ds_der] = key
        ds_key.verify(signed.signature, signed.signed_attrs_der, ECDSA_SHA256)
        evidence = json.loads(files[EVIDENCE_FILE])
        for name, digest in evidence["files"].items():
            assert digests[name] == bytes.fromhex(digest)
        aa = evidence["active_authentication"]
        aa_key = serialization.load_der_public_key(_tlv_value(files["DG15"]))
        assert isinstance(aa_key, ec.EllipticCurvePublicKey)
        sig = bytes.fromhex(aa["signature"])
        half = len(sig) // 2
        der = encode_dss_signature(int.from_bytes(sig[:half], "big"),
                                   int.from_bytes(sig[half:], "big"))  # fmt: skip
        aa_key.verify(der, bytes.fromhex(aa["challenge"]), ECDSA_SHA256)
    return time.perf_counter() - t0


def _write_dumps(root: Path, n: int) -> None:
    """N distinct dumps (own CA and AA keys, so DG14, DG15 and EF.SOD differ) with evidence as
    a read records it; one read of a virtual chip gives the evidence's shape."""
    dump, keys = build_dump()
    template = read_document(make_card(dump, keys).transport(), can=CAN).evidence
    assert template is not None and template.chip_authentication is not None
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


def main(n: int = 1000, jobs: int = os.cpu_count() or 1) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        _write_dumps(root / "dumps", n)
        made = time.perf_counter() - t0
        (root / "csca.pem").write_bytes(pem(ds_pki().csca))
        folders = sorted((root / "dumps").iterdir())
        settings = BatchSettings(root / "csca.pem")
        bare = _bare(folders, ds_pki().csca)
        t0 = time.perf_counter()
        rows, _ = run_batch(folders, settings, jobs=1)
        one = time.perf_counter() - t0
        assert all(r["ok"] for r in rows), rows[0]
        t0 = time.perf_counter()
        rows, _ = run_batch(folders, settings, jobs=jobs)
        many = time.perf_counter() - t0
        assert all(r["ok"] for r in rows)
    load = os.getloadavg()
    result = {"dumps": float(n), "bare_per_s": n / bare, "one_per_s": n / one,
              "jobs": float(jobs), "jobs_per_s": n / many, "ratio": bare / one,
              "made_s": made, "load_1min": load[0], "load_5min": load[1]}  # fmt: skip
    print(f"{n} dumps: every check, 1 process {result['one_per_s']:.0f}/s, {jobs} processes "
          f"{result['jobs_per_s']:.0f}/s; bare baseline (hashes compared, SOD + AA ECDSA "
          f"verify, DS once) {result['bare_per_s']:.0f}/s; ratio (1 process) "
          f"{result['ratio']:.2f}; dumps made in {made:.0f} s; load average "
          f"{load[0]:.2f} (1 min) {load[1]:.2f} (5 min) at the end")  # fmt: skip
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    main(args.n, args.jobs)
