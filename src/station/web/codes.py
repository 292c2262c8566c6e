"""The codes the pages show translated (grounds, documents, statuses, roles, reasons, history
steps): the enums' values, listed here so that the catalogues' extraction finds them
(``tests/station/web/test_i18n.py`` checks every value of these enums is listed)."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


CODES = (
    # station.domain.grounds.Ground
    N_("parents-wish"), N_("turned-16"), N_("citizenship-acquired"), N_("expired"),
    N_("data-changed"), N_("data-error"), N_("unusable"), N_("seized"), N_("lost"),
    N_("resident-parents-wish"), N_("resident-turned-16"), N_("citizenship-ended"),
    N_("permit-expired"),
    # station.domain.documents.DocumentKind
    N_("application-form"), N_("previous-document"), N_("birth-certificate"),
    N_("authority-decision"), N_("national-passport"), N_("citizenship-end-document"),
    N_("fee-receipt"), N_("change-proof"), N_("guardian-proof"),
    # station.point.models.ApplicationStatus (and the history's steps)
    N_("accepted"), N_("returned"), N_("refused"), N_("personalized"), N_("verified"),
    N_("handed-over"), N_("cancelled"), N_("fee-waived"),
    # station.domain.application.ApplicantRole
    N_("holder"), N_("parent"), N_("guardian"),
    # station.accounts.Role
    N_("operator"), N_("supervisor"), N_("auditor"), N_("administrator"),
    # station.domain.refusals.RefusalReason
    N_("fingerprints-refused"), N_("glasses-or-headwear"),
)  # fmt: skip

FACE_REASONS = (
    # station.capture.face: the face gate's reason codes (CaptureRefused.reason)
    N_("unreadable"), N_("detector_missing"), N_("no_face"), N_("rotated"), N_("two_faces"),
    N_("eyes_not_found"), N_("eye_distance"), N_("head_off_centre"), N_("head_too_small"),
    N_("head_too_large"), N_("turned"), N_("too_dark"), N_("too_bright"), N_("blurred"),
    N_("background"),
    N_("too_large_for_dg2"),
)  # fmt: skip

JOB_CODES = (
    # station.domain.jobs.Step: a personalization job's steps, in their order
    N_("take-blank"), N_("build-lds"), N_("sign-sod"), N_("personalize"), N_("esign-enrol"),
    N_("read-back-gate"), N_("ready"),
    # station.domain.jobs.JobStatus, prefixed (a job's "ready" is its outcome, not the step)
    N_("job-running"), N_("job-ready"), N_("job-failed"),
)  # fmt: skip
