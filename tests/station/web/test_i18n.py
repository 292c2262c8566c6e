"""The web application's catalogues: current (every message of the sources, compiled), Uzbek
and Russian complete, every code the pages translate listed for extraction."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from tests.conftest import ROOT

from station.accounts import Role
from station.domain.application import ApplicantRole
from station.domain.documents import DocumentKind
from station.domain.grounds import Ground
from station.domain.refusals import RefusalReason
from station.point.models import ApplicationStatus
from station.web import i18n
from station.web.codes import CODES


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_catalogues", ROOT / "tools" /
                                                  "web_catalogues.py")  # fmt: skip
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("web_catalogues", module)
    spec.loader.exec_module(module)
    return module


def test_catalogues_are_current() -> None:
    """The .po files hold exactly the sources' messages and each .mo is its .po compiled
    (else: python tools/web_catalogues.py update)."""
    assert _tool().stale() == []


@pytest.mark.parametrize("lang", ["uz", "ru"])
def test_uzbek_and_russian_are_complete(lang: str) -> None:
    assert _tool().untranslated(lang) == []


def test_every_code_shown_is_listed_for_extraction() -> None:
    codes = {c.value for e in (Ground, DocumentKind, ApplicationStatus, ApplicantRole, Role,
                               RefusalReason) for c in e}  # fmt: skip
    codes.add("fee-waived")  # a step of an application's history
    assert codes == set(CODES)


def test_every_step_and_outcome_of_a_job_is_listed() -> None:
    from station.domain.jobs import JobStatus, Step
    from station.web.codes import JOB_CODES

    shown = {s.value for s in Step} | {f"job-{s.value}" for s in JobStatus}
    assert shown == set(JOB_CODES)
    assert i18n.gettext_for("en")("read-back-gate") == "Read back and verified"


def test_uzbek_is_the_default_and_the_catalogues_are_read() -> None:
    assert i18n.language(None) == i18n.language("fr") == "uz"
    assert i18n.gettext_for("uz")("Today's queue") == "Bugungi navbat"
    assert i18n.gettext_for("ru")("Today's queue") == "Очередь на сегодня"
    assert i18n.gettext_for("en")("Today's queue") == "Today's queue"
    assert i18n.gettext_for("en")("parents-wish").startswith("At the parents'")


def test_every_reason_of_the_face_gate_is_listed() -> None:
    import re

    from station.web.codes import FACE_REASONS

    source = (ROOT / "src" / "station" / "capture" / "face.py").read_text(encoding="utf-8")
    found = set(re.findall(r'CaptureRefused\(\s*"([a-z_0-9]+)"', source))
    # and the measures it reports together (CaptureRefused.problems)
    found |= set(re.findall(r'problems\.append\(\(\s*"([a-z_0-9]+)"', source))
    assert found == set(FACE_REASONS)
