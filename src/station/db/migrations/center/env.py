"""Alembic environment of the center's tree (station.db.migrate drives it)."""

from alembic import context

from station.db.database import Role
from station.db.migrate import run_env

context.config.attributes.setdefault("role", Role.CENTER)
run_env(context.config)
