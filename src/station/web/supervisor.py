"""Pages of the supervisors (overdue applications, free replacements approved, the blank stock),
the auditors
(read-only: every application, the audit log) and the administrators (the accounts)."""

from __future__ import annotations

from starlette.responses import Response

from station import accounts, auditlog
from station.db import Database
from station.domain.calendar import local_day
from station.domain.jobs import ORDER, JobStatus
from station.point import jobs, queries, service, stock
from station.web.app import Ctx, Role, page, render

__all__ = ["approvals", "audit", "blank_stock", "overdue", "personalization", "users"]

PAGE = 100


@page(Role.SUPERVISOR, Role.AUDITOR, point=True)
async def overdue(ctx: Ctx) -> Response:
    """Open applications past their due date (stage 4, line 162; stage 6, lines 207-208)."""
    db = ctx.station.point_db
    assert db is not None
    today = local_day(ctx.now)
    late = await ctx.call(service.overdue, db, today=today)
    return render(ctx, "overdue.html", apps=late, today=today)


@page(Role.SUPERVISOR, Role.AUDITOR, point=True)
async def approvals(ctx: Ctx) -> Response:
    """Free replacements (scheme, line 217) and who approved each."""
    db, point = ctx.station.point_db, ctx.station.point
    assert db is not None and point is not None
    apps = await ctx.call(queries.applications, db, point_code=point.code, open_only=False)
    waived = [a for a in apps if a.fee_waived]
    return render(ctx, "approvals.html", apps=waived, today=local_day(ctx.now))


@page(Role.SUPERVISOR, Role.AUDITOR, point=True)
async def blank_stock(ctx: Ctx) -> Response:
    """The point's card blanks (issue 11): today's movement (opening, received, issued, spoiled,
    closing, and whether they balance) and every spoiled blank with its reason."""
    db = ctx.station.point_db
    assert db is not None
    today = local_day(ctx.now)
    report = await ctx.call(stock.daily_report, db, today)
    spoiled = await ctx.call(stock.list_blanks, db, status=stock.BlankStatus.SPOILED)
    in_stock = await ctx.call(stock.list_blanks, db, status=stock.BlankStatus.IN_STOCK)
    return render(ctx, "stock.html", report=report, spoiled=spoiled, in_stock=len(in_stock),
                  today=today)  # fmt: skip


@page(Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR, point=True)
async def personalization(ctx: Ctx) -> Response:
    """The point's personalization jobs (issue 11, run by ``idkarta point personalize``): each
    job's step of the seven, blanks used and outcome; the page reloads itself (a meta refresh,
    no script) while a job runs."""
    db = ctx.station.point_db
    assert db is not None
    found = await ctx.call(jobs.list_jobs, db)
    running = any(j.status is JobStatus.RUNNING for j in found)
    rows = [(j, ORDER.index(j.step) + 1 if j.step is not None else len(ORDER)) for j in found]
    return render(ctx, "jobs.html", rows=rows, steps=len(ORDER), running=running,
                  today=local_day(ctx.now))  # fmt: skip


@page(Role.AUDITOR, point=True)
async def all_applications(ctx: Ctx) -> Response:
    """Every application of the point, open or closed (read-only)."""
    db, point = ctx.station.point_db, ctx.station.point
    assert db is not None and point is not None
    apps = await ctx.call(queries.applications, db, point_code=point.code, open_only=False)
    return render(ctx, "queue.html", apps=apps, today=local_day(ctx.now), everything=True)


@page(Role.AUDITOR, Role.ADMINISTRATOR)
async def audit(ctx: Ctx) -> Response:
    """An audit log (the Center's; ``?chain=point``: the station's point's), 100 entries from
    ``?after=SEQ``, and whether its hash chain is intact (checkpoint signatures are checked
    with the audit key by ``idkarta audit verify``, not here)."""
    point = ctx.station.point
    on_point = ctx.request.query_params.get("chain") == "point" and point is not None
    db = ctx.station.point_db if on_point else ctx.station.center_db
    assert db is not None and (point is not None or not on_point)
    chain = f"point:{point.code}" if on_point and point is not None else "center"
    after = ctx.request.query_params.get("after", "0")
    start = int(after) if after.isdigit() and len(after) < 12 else 0
    found = await ctx.call(_entries, db, start)
    report = await ctx.call(auditlog.verify, db, chain=chain)
    return render(ctx, "audit.html", entries=found, report=report, after=start, chain=chain,
                  has_point=point is not None and ctx.station.point_db is not None)  # fmt: skip


def _entries(db: Database, after: int) -> list[auditlog.Entry]:
    with db.session(write=False) as session:
        return auditlog.entries(session, after_seq=after, limit=PAGE)


@page(Role.ADMINISTRATOR)
async def users(ctx: Ctx) -> Response:
    """The accounts (added and disabled with ``idkarta center user``)."""
    found = await ctx.call(accounts.list_users, ctx.station.center_db)
    return render(ctx, "users.html", users=found)
