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
