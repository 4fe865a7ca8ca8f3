"""Migrations match the tables exactly (`alembic check`), and go down and up again, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from silkway.bootstrap import MIGRATIONS
from silkway.storage.tables import metadata


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def test_the_migrated_schema_matches_the_tables(database_url: str) -> None:
    command.check(config(database_url))  # raises if autogenerate would find any difference


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    cfg = config(database_url)
    command.downgrade(cfg, "base")
    engine = create_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "head")
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
