"""Alembic environment of the point's tree (station.db.migrate drives it)."""

from alembic import context

from station.db.database import Role
from station.db.migrate import run_env

context.config.attributes.setdefault("role", Role.POINT)
run_env(context.config)
