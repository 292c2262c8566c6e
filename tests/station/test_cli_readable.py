"""Readable output: protocol and attribute names instead of bare OIDs, correct plurals (the ISO
dates of `dump show` and DG12's real personalization time are in test_cli_dump.py)."""

from __future__ import annotations

import re

import pytest
from asn1crypto import x509
from click.testing import CliRunner

from idcard.apdu import sw_meaning
from idcard.asn1 import oids, registration
from station.cli import main


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_demo_names_protocols_and_attributes(demo_output: str) -> None:
    assert re.search(r"OK\s+CA\s+id-CA-ECDH-AES-CBC-CMAC-128\n", demo_output)
    assert "E-signature PINFL: 31503902620452, Common Name: OTKIR GULOMOV" in demo_output
    assert not re.search(r"\b\d+\.\d+\.\d+\.\d+\.\d+", demo_output)  # no dotted OID anywhere


def test_demo_plurals(demo_output: str) -> None:
    assert re.search(r"DG2\s+\d+ bytes  1 face\n", demo_output)
    assert re.search(r"DG3\s+\d+ bytes  2 fingers\n", demo_output)
    assert re.search(r"DG7\s+\d+ bytes  1 image\n", demo_output)
    assert re.search(r"master_list .*; 1 certificate\n", demo_output)
    assert not re.search(r"\b1 \w+s\b", demo_output)


def test_tries_left() -> None:
    assert sw_meaning(0x63C1) == "verification failed, 1 try left"
    assert sw_meaning(0x63C0) == "verification failed, 0 tries left"
    assert sw_meaning(0x63C3) == "verification failed, 3 tries left"


@pytest.mark.parametrize(("n", "expected"), [(0, "0 entries"), (1, "1 entry"), (2, "2 entries")])
def test_count(n: int, expected: str) -> None:
    from idcard.text import count

    assert count(n, "entry", "entries") == expected
    assert count(n, "file") == f"{n} file{'' if n == 1 else 's'}"


def test_pinfl_attribute_has_a_name() -> None:
    assert registration.registered()
    assert oids.name(oids.ID_UZ_PINFL) == "PINFL"
    assert x509.NameType("1.2.860.3.16.1.2").human_friendly == "PINFL"
    atv = x509.NameTypeAndValue({"type": "1.2.860.3.16.1.2",
                                 "value": x509.DirectoryString("utf8_string", "31503902620452")})
    name = x509.Name("", x509.RDNSequence([x509.RelativeDistinguishedName([atv])]))
    reread = x509.Name.load(name.dump())
    assert reread.human_friendly == "PINFL: 31503902620452"
    assert reread.chosen[0][0]["type"].dotted == oids.ID_UZ_PINFL  # the encoding is unchanged

