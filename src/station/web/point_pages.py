"""The collection point's pages: the day's queue, a new application, its steps to the handover,
a refusal with its notice, a replacement, and the capture check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace as changed

from starlette.responses import RedirectResponse, Response

from station import accounts
from station.center.errors import CenterError, CenterUnavailable
from station.db import Database
from station.domain.application import ApplicantRole
from station.domain.calendar import local_day
from station.domain.documents import DocumentKind
from station.domain.errors import DomainError, MissingDocuments, TransitionError
from station.domain.grounds import GROUND_RULES, Ground
from station.domain.refusals import RefusalReason
from station.point import queries, service
from station.point.config import OperatorRole
from station.point.errors import NotFound, PointError
from station.point.models import Application, ApplicationStatus
from station.web import pdfs
from station.web.app import Ctx, Role, by_field, page, problems_of, refuse, render
from station.web.forms import Step1, parse_step1, parse_step2

__all__ = [
    "application",
    "handover",
    "mark",
    "new_application",
    "queue",
    "refusal",
    "submit",
]

_WORKERS = (Role.OPERATOR, Role.SUPERVISOR)
_READERS = (Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR)
_REFUSED = (PointError, DomainError, TransitionError, CenterError, CenterUnavailable)


def _db(ctx: Ctx) -> Database:
    db = ctx.station.point_db
    assert db is not None
    return db


@page(*_READERS, point=True)
async def queue(ctx: Ctx) -> Response:
    """The day's queue: open applications, the earliest due first, overdue ones marked."""
    point = ctx.station.point
    assert point is not None
    apps = await ctx.call(queries.applications, _db(ctx), point_code=point.code)
    today = local_day(ctx.now)
    return render(ctx, "queue.html", apps=apps, today=today)


@page(*_WORKERS, point=True)
async def new_application(ctx: Ctx) -> Response:
    """Step 1 (the ground and what decides the documents), then step 2 (the checklist, the
    person, who applies) once step 1 parses."""
    params = ctx.request.query_params
    step: Step1 | None = None
    problems: list[tuple[str, str]] = []
    if "ground" in params:
        step, problems = parse_step1(lambda k: (params.get(k) or "").strip())
    if step is None:
        return render(ctx, "apply_step1.html", grounds=list(GROUND_RULES), roles=ApplicantRole,
                      values=params, problems=by_field(problems),
                      status=422 if problems else 200)  # fmt: skip
    return _step2(ctx, step, values={}, problems=[])


def _step2(ctx: Ctx, step: Step1, *, values: object,
           problems: list[tuple[str, str]], status: int = 200,
           missing: list[str] | None = None) -> Response:  # fmt: skip
    return render(ctx, "apply_step2.html", step=step, checklist=step.documents(local_day(ctx.now)),
                  roles=ApplicantRole, values=values, problems=by_field(problems),
                  all_problems=problems, missing=missing or [], status=status,
                  holder=step.applicant_role is ApplicantRole.HOLDER,
                  rule=GROUND_RULES[step.ground])  # fmt: skip


@page(*_WORKERS, point=True)
async def create_application(ctx: Ctx) -> Response:
    """Accept the application (the point's use case ``apply``): its page, or the form again
    with every problem beside its field."""
    assert ctx.form is not None
    step, problems = parse_step1(ctx.field)
    if step is None:
        return render(ctx, "apply_step1.html", grounds=list(GROUND_RULES), roles=ApplicantRole,
                      values=ctx.form, problems=by_field(problems), status=422)  # fmt: skip
    documents = [d for d in ctx.form.getlist("documents") if isinstance(d, str)]
    try:
        form = parse_step2(step, ctx.field, documents)
        app = await ctx.call(service.apply, _db(ctx), form, point=ctx.point(),
                             operator=ctx.user.login, now=ctx.now)  # fmt: skip
    except MissingDocuments as exc:
        return _step2(ctx, step, values=ctx.form, problems=problems_of(exc), status=422,
                      missing=list(exc.missing))  # fmt: skip
    except _REFUSED as exc:
        return _step2(ctx, step, values=ctx.form, problems=problems_of(exc), status=422)
    return RedirectResponse(f"/applications/{app.id}", status_code=303)


async def _application(ctx: Ctx) -> Application | Response:
    app_id = ctx.request.path_params["app_id"]
    point = ctx.station.point
    assert point is not None
    try:
        app = await ctx.call(service.status, _db(ctx), app_id)
    except NotFound:
        return refuse(ctx, 404, ctx._("No such application at this point."))
    if app.point_code != point.code:  # an operator sees only their point's applications
        return refuse(ctx, 404, ctx._("No such application at this point."))
    return app


@page(*_READERS, point=True)
async def application(ctx: Ctx) -> Response:
    found = await _application(ctx)
    if isinstance(found, Response):
        return found
    return await _show(ctx, found)


async def _show(ctx: Ctx, app: Application, *, problems: list[tuple[str, str]] | None = None,
                status: int = 200, done: str | None = None) -> Response:  # fmt: skip
    events = await ctx.call(queries.events, _db(ctx), app.id)
    today = local_day(ctx.now)
    return render(ctx, "application.html", app=app, events=events, today=today,
                  statuses=ApplicationStatus, reasons=RefusalReason, roles=ApplicantRole,
                  problems=problems or [], done=done, status=status,
                  documents=[k for k in DocumentKind if k in app.form.documents])  # fmt: skip


async def _step(ctx: Ctx, run: Callable[[Application], object], done: str) -> Response:
    found = await _application(ctx)
    if isinstance(found, Response):
        return found
    if ctx.user.role not in _WORKERS:
        return refuse(ctx, 403, ctx._("Your role may not open this page."))
    try:
        await ctx.call(run, found)
    except _REFUSED as exc:
        return await _show(ctx, found, problems=problems_of(exc), status=409)
    app = await ctx.call(service.status, _db(ctx), found.id)
    return await _show(ctx, app, done=done)


@page(*_WORKERS, point=True)
async def submit(ctx: Ctx) -> Response:
    """Send the request to the Center (stage 3): the PINFL and the card number come back."""
    center = ctx.station.center
    assert center is not None
    return await _step(ctx, lambda app: service.submit(
        _db(ctx), app.id, center=center, now=ctx.now, by=ctx.user.actor),
        ctx._("Sent to the Center."))  # fmt: skip


@page(*_WORKERS, point=True)
async def mark(ctx: Ctx) -> Response:
    """Record the personalization job's outcome (a placeholder until issue 11's jobs report
    their progress here): personalized, then read back and verified."""
    center = ctx.station.center
    assert center is not None
    try:
        new = ApplicationStatus(ctx.field("status"))
    except ValueError:
        new = ApplicationStatus.CANCELLED  # refused by the use case, naming the field
    return await _step(ctx, lambda app: service.mark(
        _db(ctx), app.id, new, center=center, operator=ctx.user.login, point=ctx.point(),
        now=ctx.now), ctx._("Recorded."))  # fmt: skip


@page(*_WORKERS, point=True)
async def handover(ctx: Ctx) -> Response:
    """Hand the card over: who receives it, their identity document, confirmed."""
    center = ctx.station.center
    assert center is not None
    if ctx.field("confirm") != "yes":
        found = await _application(ctx)
        if isinstance(found, Response):
            return found
        return await _show(ctx, found, problems=[("confirm", ctx._(
            "Confirm that the receiver signed for the card."))], status=422)  # fmt: skip
    try:
        role = ApplicantRole(ctx.field("receiver_role"))
    except ValueError:
        found = await _application(ctx)
        if isinstance(found, Response):
            return found
        return await _show(ctx, found, problems=[("receiver_role", ctx._(
            "Choose who receives the card."))], status=422)  # fmt: skip
    return await _step(ctx, lambda app: service.handover(
        _db(ctx), app.id, receiver_role=role, receiver_name=ctx.field("receiver_name"),
        receiver_document=ctx.field("receiver_document"), operator=ctx.user.login,
        point=ctx.point(), center=center, now=ctx.now), ctx._("Handed over."))  # fmt: skip


@page(*_WORKERS, point=True)
async def refusal(ctx: Ctx) -> Response:
    """Refuse to issue the card (scheme, line 216); the notice is printed from the page."""
    try:
        reason = RefusalReason(ctx.field("reason"))
    except ValueError:
        found = await _application(ctx)
        if isinstance(found, Response):
            return found
        return await _show(ctx, found, problems=[("reason", ctx._("Choose the reason."))],
                           status=422)  # fmt: skip
    return await _step(ctx, lambda app: service.refuse(
        _db(ctx), reason=reason, operator=ctx.user.login, now=ctx.now, point=ctx.point(),
        app_id=app.id), ctx._("Refused. Print the notice for the applicant."))  # fmt: skip


@page(*_READERS, point=True)
async def refusal_notice(ctx: Ctx) -> Response:
    """The refusal notice (PDF), byte-identical to the one recorded."""
    found = await _application(ctx)
    if isinstance(found, Response):
        return found
    point = ctx.station.point
    assert point is not None
    try:
        name, pdf = await ctx.call(queries.refusal_notice, _db(ctx), found.id, point=point)
    except NotFound:
        return refuse(ctx, 404, ctx._("This application was not refused."))
    return pdfs.response(pdf, name)


@page(*_READERS, point=True)
async def printout(ctx: Ctx) -> Response:
    """The application form for the applicant's signature, or the acknowledgement."""
    found = await _application(ctx)
    if isinstance(found, Response):
        return found
    point = ctx.station.point
    assert point is not None
    kind = ctx.request.path_params["kind"]
    if kind not in ("form", "acknowledgement"):
        return refuse(ctx, 404, ctx._("No such document."))
    if kind == "form":
        return pdfs.response(pdfs.application_form(found, point), f"{found.id}-form.pdf")
    return pdfs.response(pdfs.acknowledgement(found, point), f"{found.id}-acknowledgement.pdf")


@page(*_WORKERS, point=True)
async def replacement_form(ctx: Ctx) -> Response:
    return render(ctx, "replace.html", values={}, problems={}, grounds=_replacement_grounds(),
                  documents=list(DocumentKind))  # fmt: skip


def _replacement_grounds() -> list[Ground]:
    return [g for g, r in GROUND_RULES.items() if r.replaces_card]


@page(*_WORKERS, point=True)
async def create_replacement(ctx: Ctx) -> Response:
    """Restore or replace a card (stages 5-6). A free replacement (a defect the point caused)
    needs a supervisor of the point, not the operator, to approve it with their own password
    here (a second person)."""
    assert ctx.form is not None
    center = ctx.station.center
    assert center is not None
    problems: list[tuple[str, str]] = []
    try:
        ground = Ground(ctx.field("ground"))
    except ValueError:
        ground = None
        problems.append(("ground", ctx._("Choose the ground.")))
    codes = {k.value for k in DocumentKind}
    documents = frozenset(DocumentKind(d) for d in ctx.form.getlist("documents")
                          if isinstance(d, str) and d in codes)  # fmt: skip
    point_fault = ctx.field("point_fault") == "yes"
    point = ctx.point()
    approver = None
    if point_fault and ground is not None:
        approver, problem = await _approver(ctx)
        if problem:
            problems.append(problem)
        elif approver is not None:
            point = changed(point, operators={**point.operators,
                                              approver.login: OperatorRole.SUPERVISOR})
    if problems or ground is None:
        return render(ctx, "replace.html", status=422, values=ctx.form, problems=by_field(problems),
                      grounds=_replacement_grounds(), documents=list(DocumentKind))  # fmt: skip
    try:
        app = await ctx.call(
            service.replace, _db(ctx), previous_card=ctx.field("previous_card").upper(),
            ground=ground, documents=documents,
            applicant_document=ctx.field("applicant_document") or None, point=point,
            operator=ctx.user.login, center=center, now=ctx.now,
            fee_paid_electronically=ctx.field("fee_paid_electronically") == "yes",
            payment_reference=ctx.field("payment_reference") or None, point_fault=point_fault,
            approved_by=approver.login if approver else None,
            waiver_reason=(ctx.field("waiver_reason") or None) if point_fault else None,
        )  # fmt: skip
    except _REFUSED as exc:
        return render(ctx, "replace.html", status=422, values=ctx.form,
                      problems=by_field(problems_of(exc)), grounds=_replacement_grounds(),
                      documents=list(DocumentKind))  # fmt: skip
    return RedirectResponse(f"/applications/{app.id}", status_code=303)


async def _approver(ctx: Ctx) -> tuple[accounts.User | None, tuple[str, str] | None]:
    """The supervisor who approves a free replacement: their login and password checked by
    accounts (lockout counts here too), a supervisor of this point, not the operator."""
    login, password = ctx.field("approver_login"), ctx.field("approver_password")
    if not login or not password:
        return None, ("approved_by", ctx._("A free replacement needs a supervisor's approval: "
                                           "their login and password."))  # fmt: skip
    if login == ctx.user.login:
        return None, ("approved_by", ctx._("The supervisor approving must not be the operator."))
    try:
        user = await ctx.call(accounts.authenticate, ctx.station.center_db, login, password,
                              now=ctx.now, policy=ctx.station.policy)  # fmt: skip
    except accounts.AuthenticationFailed:
        return None, ("approved_by", ctx._("Wrong login or password."))
    point = ctx.station.point
    assert point is not None
    if user.role is not Role.SUPERVISOR or user.point != point.code:
        return None, ("approved_by", ctx._("Only a supervisor of this point may approve."))
    return user, None


@page(*_WORKERS, point=True)
async def capture_form(ctx: Ctx) -> Response:
    found = await _application(ctx)
    if isinstance(found, Response):
        return found
    return render(ctx, "capture.html", app=found, result=None, refused=None, image=None)


@page(*_WORKERS, point=True)
async def capture(ctx: Ctx) -> Response:
    """Check an uploaded portrait with the face gate (station.capture): the token-frame image
    and its measures, or the gate's reason beside the image. Showing the image is a view of
    the person's biometric data: an audit entry ``biometrics.view`` in the point's log. The
    image is not kept (issue 11's pipeline stores captures)."""
    import base64

    from station.auditlog import record_view
    from station.capture import CaptureRefused, check_face

    found = await _application(ctx)
    if isinstance(found, Response):
        return found
    assert ctx.form is not None
    upload = ctx.form.get("portrait")
    data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    if not data:
        return render(ctx, "capture.html", status=422, app=found, result=None, image=None,
                      refused=("no_image", ctx._("Choose the portrait's image file.")))
    result, refused = None, None
    try:
        result = await ctx.call(check_face, data)
        shown = result.image
    except CaptureRefused as exc:
        refused, shown = (exc.reason, exc.message), data

    # no entry, no view: recorded before the page that shows the image is made
    await ctx.call(record_view, _db(ctx), ctx.user.actor, f"application/{found.id}/face",
                   now=ctx.now)  # fmt: skip
    kind = "jpeg" if shown[:3] == b"\xff\xd8\xff" else "png"
    image = f"data:image/{kind};base64,{base64.b64encode(shown).decode()}"
    return render(ctx, "capture.html", status=200 if result else 422, app=found, result=result,
                  refused=refused, image=image)  # fmt: skip
