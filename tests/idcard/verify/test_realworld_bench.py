"""Verifying against 588 anchors stays fast (issue 17), checked by what is done rather than by a
clock (the ratio itself is measured by ``benchmarks/bench_passive_masterlist.py``, never in a
test): with the German master list loaded as the trust store, the chain of a DS is built once,
and every further document of that DS does no anchor search and no chain signature check."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from asn1crypto import x509
from tests.conftest import require_real_world
from tests.idcard.verify.explicit_pki import ExplicitPKI
from tests.idcard.verify.pa_pki import PKI, VERIFY_AT, asn1, master_list, sample_files

from idcard import tlv
from idcard.verify import TrustStore, _signature, verify_passive
from idcard.verify.masterlist import MasterList

ML = require_real_world() / "master-lists"


def test_the_full_german_trust_store_costs_nothing_per_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pki, root = ExplicitPKI(slot=90), PKI(country="UZ", slot=91)
    base = sample_files()
    dumps: list[Mapping[str, bytes]] = []
    for i in range(5):
        files = dict(base)
        files["DG14"] = tlv.encode(0x6E, i.to_bytes(4, "big"))
        dumps.append(pki.sign_files(files))
    full = TrustStore(
        [x509.Certificate.load((ML / "DE_ROOT_CA_CSCA07.cer").read_bytes()), asn1(root.csca)],
        master_lists=[
            MasterList.decode((ML / "DE_ML_2026-05-28-08-28-45.ml").read_bytes()),
            MasterList.decode(master_list(root, [pki.csca])),
        ],
    )
    assert len(full.trusted) > 500
    first = verify_passive(dumps[0], full, at=VERIFY_AT)
    assert first.ok, first.failed
    chain_checks: list[object] = []
    signed_by = _signature.signed_by
    monkeypatch.setattr(_signature, "signed_by",
                        lambda *a: chain_checks.append(a) or signed_by(*a))  # fmt: skip
    for dump in dumps[1:]:
        report = verify_passive(dump, full, at=VERIFY_AT)
        assert report.ok, report.failed
    assert chain_checks == []  # no anchor was tried again: the chain came from the cache
    assert full.cache_sizes()["chains"] == 1
