"""Signing an EF.SOD reads its own output back with the fast reader, not a full asn1crypto
parse (issue 15 item 6: EF.SOD was parsed several times per issued card)."""

from __future__ import annotations

import pytest
from tests.idcard.verify.pa_pki import PKI, SIGNED_AT, der, sample_files

from idcard.lds.sod import SOD, SODParts
from pki.sod import SODBuilder


def test_signing_parses_the_sod_once_with_the_fast_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    pki = PKI(slot=530)
    full, fast = [], []
    real_init, real_decode = SOD.__post_init__, SODParts.decode.__func__  # type: ignore[attr-defined]

    def counting_init(self: SOD) -> None:
        full.append(1)
        real_init(self)

    def counting_decode(cls: type[SODParts], data: bytes) -> SODParts:
        fast.append(1)
        return real_decode(cls, data)  # type: ignore[no-any-return]

    monkeypatch.setattr(SOD, "__post_init__", counting_init)
    monkeypatch.setattr(SODParts, "decode", classmethod(counting_decode))
    builder = SODBuilder().signing_time(SIGNED_AT)
    for name, raw in sample_files().items():
        if name.startswith("DG"):
            builder = builder.data_group(int(name[2:]), raw)
    sod = builder.sign(pki.signer(), der(pki.ds))
    assert (len(full), len(fast)) == (0, 1)
    assert SOD.decode(sod).encode() == sod  # still a well-formed EF.SOD
