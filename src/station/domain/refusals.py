"""Why a collection point refuses to issue a card (scheme, line 216).

"Agar fuqaro qo‘l barmoq izlari olinishidan bosh tortsa yoxud ko‘zoynakda yoki bosh kiyimda
suratga tushish istagidan qaytmasa, ma’lumotlarni yig‘ish punkti fuqaroga ID-karta
rasmiylashtirishni rad etadi." (If the citizen refuses to give fingerprints, or does not give up
wanting to be photographed in glasses or headwear, the point refuses to issue the card.)
"""

from __future__ import annotations

import enum

from station.domain.errors import DomainError

__all__ = ["CLAUSE", "RefusalReason", "refusal_reason"]

CLAUSE = (
    'scheme, line 216: "Agar fuqaro qo‘l barmoq izlari olinishidan bosh tortsa yoxud ko‘zoynakda '
    'yoki bosh kiyimda suratga tushish istagidan qaytmasa, ma’lumotlarni yig‘ish punkti fuqaroga '
    'ID-karta rasmiylashtirishni rad etadi."'
)


class RefusalReason(enum.StrEnum):
    FINGERPRINTS = "fingerprints-refused"  # "qo‘l barmoq izlari olinishidan bosh tortsa"
    HEADWEAR = "glasses-or-headwear"  # "ko‘zoynakda yoki bosh kiyimda suratga tushish istagidan"

    @property
    def clause(self) -> str:
        """The scheme's clause the refusal rests on (the same for both reasons)."""
        return CLAUSE

    @property
    def words(self) -> str:
        """The scheme's own words for this reason."""
        return _WORDS[self]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_WORDS = {
    RefusalReason.FINGERPRINTS: "qo‘l barmoq izlari olinishidan bosh tortsa",
    RefusalReason.HEADWEAR: "ko‘zoynakda yoki bosh kiyimda suratga tushish istagidan qaytmasa",
}
_DESCRIPTIONS = {
    RefusalReason.FINGERPRINTS: "the applicant refuses to give fingerprints",
    RefusalReason.HEADWEAR: "the applicant insists on a photograph in glasses or headwear",
}


def refusal_reason(value: RefusalReason | str) -> RefusalReason:
    """``value`` as a :class:`RefusalReason`; :class:`DomainError` naming ``reason`` otherwise."""
    try:
        return RefusalReason(value)
    except ValueError:
        known = ", ".join(r.value for r in RefusalReason)
        raise DomainError("reason", f"{value!r} is not a reason to refuse (one of {known}); "
                          f"{CLAUSE}") from None
