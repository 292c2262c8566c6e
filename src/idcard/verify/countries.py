"""ICAO 9303-3 §5 nationality / issuing-state codes to ISO 3166-1 alpha-2 (certificate ``C``).

The MRZ carries the three-letter code of Doc 9303-3 (ISO 3166-1 alpha-3, with ICAO's own codes
such as ``D`` for Germany and ``GBD``/``GBN``/… for British categories); CSCA and DS certificates
carry the two-letter ISO 3166-1 code in the subject's countryName (9303-12 §7.1.1). ``UTO``
(Utopia, the specimen state of Doc 9303) and the United Nations codes have no ISO code.
"""

from __future__ import annotations

__all__ = ["ICAO_TO_ALPHA2", "NO_ALPHA2", "alpha2_of"]

ICAO_TO_ALPHA2: dict[str, str] = {
    # ICAO-specific codes (Doc 9303-3 §5, Appendix to Part 3)
    "D": "DE",
    "GBD": "GB", "GBN": "GB", "GBO": "GB", "GBP": "GB", "GBS": "GB",
    "RKS": "XK",  # Kosovo: ICAO RKS, user-assigned alpha-2 XK in certificates
    "EUE": "EU",
    # Uzbekistan and neighbours
    "UZB": "UZ", "KAZ": "KZ", "KGZ": "KG", "TJK": "TJ", "TKM": "TM", "AFG": "AF",
    "RUS": "RU", "UKR": "UA", "BLR": "BY", "AZE": "AZ", "ARM": "AM", "GEO": "GE",
    "MDA": "MD", "MNG": "MN", "CHN": "CN", "IND": "IN", "PAK": "PK", "IRN": "IR",
    "TUR": "TR",
    # Europe
    "AUT": "AT", "BEL": "BE", "BGR": "BG", "CHE": "CH", "CYP": "CY", "CZE": "CZ",
    "DNK": "DK", "ESP": "ES", "EST": "EE", "FIN": "FI", "FRA": "FR", "GBR": "GB",
    "GRC": "GR", "HRV": "HR", "HUN": "HU", "IRL": "IE", "ISL": "IS", "ITA": "IT",
    "LIE": "LI", "LTU": "LT", "LUX": "LU", "LVA": "LV", "MLT": "MT", "NLD": "NL",
    "NOR": "NO", "POL": "PL", "PRT": "PT", "ROU": "RO", "SRB": "RS", "SVK": "SK",
    "SVN": "SI", "SWE": "SE", "ALB": "AL", "BIH": "BA", "MKD": "MK", "MNE": "ME",
    "MCO": "MC", "AND": "AD", "SMR": "SM",
    # Elsewhere
    "USA": "US", "CAN": "CA", "MEX": "MX", "BRA": "BR", "ARG": "AR", "CHL": "CL",
    "COL": "CO", "PER": "PE", "AUS": "AU", "NZL": "NZ", "JPN": "JP", "KOR": "KR",
    "PRK": "KP", "SGP": "SG", "MYS": "MY", "IDN": "ID", "THA": "TH", "VNM": "VN",
    "PHL": "PH", "BGD": "BD", "LKA": "LK", "NPL": "NP", "ISR": "IL", "SAU": "SA",
    "ARE": "AE", "QAT": "QA", "KWT": "KW", "OMN": "OM", "BHR": "BH", "JOR": "JO",
    "LBN": "LB", "IRQ": "IQ", "SYR": "SY", "EGY": "EG", "MAR": "MA", "DZA": "DZ",
    "TUN": "TN", "NGA": "NG", "KEN": "KE", "ZAF": "ZA", "ETH": "ET", "GHA": "GH",
}
"""MRZ issuing-state code (fillers ``<`` removed) to ISO 3166-1 alpha-2."""

NO_ALPHA2: dict[str, str] = {
    "UTO": "Utopia, the specimen state of ICAO Doc 9303",
    "UNO": "United Nations Organization",
    "UNA": "United Nations specialized agency",
    "UNK": "United Nations Interim Administration Mission in Kosovo",
    "XXA": "stateless person",
    "XXB": "refugee (1951 Convention)",
    "XXC": "refugee (other)",
    "XXX": "unspecified nationality",
}
"""Codes of Doc 9303-3 with no ISO 3166-1 alpha-2 counterpart, with what they stand for."""


def alpha2_of(icao_code: str) -> str | None:
    """The ISO alpha-2 code of an MRZ issuing-state code, or None when there is none or unknown."""
    return ICAO_TO_ALPHA2.get(icao_code.replace("<", "").upper())
