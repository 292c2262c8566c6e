"""The reader's choice of a PACEInfo: whatever EF.CardAccess offers, the entry chosen (if any)
is one PACE can run — its algorithm fits its domain parameters (ICAO 9303-11 §9.5.1,
Table 4) — and it is the best of the consistent ones."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from idcard.errors import DecodeError, EncodeError
from idcard.lds.security_infos import CardAccess, PACEInfo, SecurityInfos
from idcard.protocols.pace import PACE_ALGORITHMS, PACEPassword, PACEProtocol
from idcard.reader.document import _best_pace

_OIDS = sorted(PACE_ALGORITHMS)


def _runs(info: PACEInfo) -> bool:
    if info.parameter_id is None or info.protocol not in PACE_ALGORITHMS:
        return False
    try:
        PACEProtocol(PACEPassword.can("123456"), info.protocol, info.parameter_id)
    except (EncodeError, DecodeError):
        return False
    return True


_infos = st.lists(
    st.builds(
        PACEInfo,
        st.sampled_from(_OIDS),
        st.just(2),
        st.one_of(st.none(), st.integers(min_value=0, max_value=31)),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(_infos)
def test_chosen_pace_info_always_runs(infos: list[PACEInfo]) -> None:
    access = CardAccess(SecurityInfos(tuple(infos))).security_infos.encode()
    chosen = _best_pace(access)
    if chosen is None:
        assert not any(_runs(i) for i in infos)
    else:
        assert chosen in infos and _runs(chosen)


def test_dh_gm_aes256_with_an_ec_curve_is_not_chosen() -> None:
    bad = PACEInfo("0.4.0.127.0.7.2.2.4.1.4", 2, 13)  # id-PACE-DH-GM-AES-256, P-256
    good = PACEInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)  # id-PACE-ECDH-GM-AES-128, P-256
    access = CardAccess(SecurityInfos((bad, good))).security_infos.encode()
    assert _best_pace(access) == good
    assert _best_pace(CardAccess(SecurityInfos((bad,))).security_infos.encode()) is None
