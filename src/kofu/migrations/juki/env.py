"""Alembic environment of the national directory (juki): run on the connection kofu hands it."""

from alembic import context

from kofu.core.db import run_migrations

run_migrations(context.config.attributes["connection"])
