"""Issuing: writing a card's dump folder durably, and signing its EF.SOD.

Run: ``.venv/bin/python -m benchmarks.bench_issue [N]``. The files are the sample applicant's
(``station.card_data.build_card_data``, 10 files and a manifest). Figures, best of N:

* :meth:`idcard.lds.dump.Dump.write` into a fresh folder (atomic and durable), its ``os.fsync``
  calls, against the same files written with ``Path.write_bytes`` into a folder and renamed,
  with no durability at all (the floor; ratio = floor / ours);
* :meth:`pki.sod.SODBuilder.sign` over the data groups (software P-256 DS) against the bare
  work: the data-group hashes and one ECDSA signature (ratio = bare / ours).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from tests.idcard.verify.pa_pki import PKI, SIGNED_AT, der

from pki.sod import SODBuilder
from station.applicant import sample_applicant
from station.card_data import CardKeys, build_card_data


def _best(n: int, run: object) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        run()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def main(n: int = 20) -> dict[str, float]:
    dump = build_card_data(sample_applicant(), CardKeys.generate())
    files = {**dump.files, "manifest.json": dump.manifest_bytes()}
    calls: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    with tempfile.TemporaryDirectory(prefix="bench-issue-", dir=Path.cwd()) as folder:
        root = Path(folder)
        count = iter(range(10**6))

        def ours() -> None:
            dump.write(root / f"d{next(count)}")

        def floor() -> None:
            tmp = root / f".f{next(count)}"
            tmp.mkdir()
            for name, data in files.items():
                (tmp / name).write_bytes(data)
            tmp.rename(root / f"f{next(count)}")

        os.fsync = fsync
        try:
            dump.write(root / "counted")
        finally:
            os.fsync = real_fsync
        write_ours, write_floor = _best(n, ours), _best(n, floor)

    pki = PKI(slot=95)
    groups = {int(k[2:]): v for k, v in dump.files.items() if k.startswith("DG")}
    builder = SODBuilder().data_groups(groups).signing_time(SIGNED_AT)
    signer, cert = pki.signer(), der(pki.ds)
    key = pki.ds_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)

    def sign() -> None:
        builder.sign(signer, cert)

    def bare() -> None:
        for raw in groups.values():
            hashlib.sha256(raw).digest()
        key.sign(b"signed attributes" * 10, ec.ECDSA(hashes.SHA256()))

    sign_ours, sign_bare = _best(n, sign), _best(n, bare)
    result = {"fsyncs": float(len(calls)), "write_ms": write_ours * 1000,
              "floor_ms": write_floor * 1000, "sign_ms": sign_ours * 1000,
              "bare_sign_ms": sign_bare * 1000}  # fmt: skip
    print(f"Dump.write ({len(files)} files, durable): {write_ours * 1000:.2f} ms, "
          f"{len(calls)} fsync call(s); plain writes + rename: {write_floor * 1000:.2f} ms; "
          f"ratio {write_floor / write_ours:.2f}")
    print(f"SODBuilder.sign: {sign_ours * 1000:.2f} ms; bare hashes + ECDSA sign: "
          f"{sign_bare * 1000:.2f} ms; ratio {sign_bare / sign_ours:.2f}")
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
