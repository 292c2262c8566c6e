"""Machine readable zone (ICAO Doc 9303 Parts 3, 4, 5, 6): TD1, TD2, TD3."""

from idcard.mrz.check import check_digit

__all__ = ["check_digit"]
