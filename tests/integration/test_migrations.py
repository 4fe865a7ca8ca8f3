"""Migrations match the tables exactly (`alembic check`), and go down and up again, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from databases import empty_database
from silkway import bootstrap
from silkway.bootstrap import MIGRATIONS
from silkway.demo import load_demo
from silkway.settings import Settings
from silkway.storage.tables import metadata


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def test_the_migrated_schema_matches_the_tables(database_url: str) -> None:
    command.check(config(database_url))  # raises if autogenerate would find any difference


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    empty_database(database_url)  # signed records cannot be dropped while the log refers to them
    cfg = config(database_url)
    command.downgrade(cfg, "base")
    engine = create_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "head")
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_visa_migration_refuses_to_drop_signed_visa_records(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'visas.db'}"
    cfg = config(url)
    command.upgrade(cfg, "head")
    services = bootstrap.build(Settings(env="test", database_url=url))
    try:
        load_demo(services)  # the demo alerts are signed visa records, in the log
    finally:
        services.close()
    with pytest.raises(RuntimeError, match="2 signed visa records"):
        command.downgrade(cfg, "0002")
    engine = create_engine(url)
    try:
        assert "visa_records" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_signing_migration_refuses_events_recorded_before_signing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = config(url)
    command.upgrade(cfg, "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO transits (mrn, status, holder, departure_office, destination_office, plate, "
                "guarantee_reference, guarantee_amount, version, submitted_at, updated_at) VALUES "
                "('26KZ0000000000001A', 'submitted', 'carrier-kz', 'KZ-A', 'TJ-B', NULL, 'G', 1, 1, "
                "'2026-11-21 08:00:00', '2026-11-21 08:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transit_events (mrn, seq, type, office, actor, at, body) VALUES "
                "('26KZ0000000000001A', 1, 'submitted', 'KZ-A', 'carrier-kz', '2026-11-21 08:00:00', '{}')"
            )
        )
    with pytest.raises(RuntimeError, match="1 transit events recorded before signing"):
        command.upgrade(cfg, "head")
    with engine.connect() as conn:  # nothing was changed: the events are still there, unsigned
        assert conn.execute(text("SELECT count(*) FROM transit_events")).scalar_one() == 1
        assert "trust_keys" not in inspect(engine).get_table_names()
    engine.dispose()


def test_upgrading_a_sqlite_database_keeps_every_row_of_a_rebuilt_table(tmp_path: Path) -> None:
    # 0005 rebuilds `transits` on SQLite (a stored generated column); the rows that refer to it must survive
    url = f"sqlite:///{tmp_path / 'pilot.db'}"
    cfg = config(url)
    command.upgrade(cfg, "0004")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO transits (mrn, status, holder, departure_office, destination_office, plate, "
                "guarantee_reference, guarantee_amount, version, submitted_at, updated_at) "
                "VALUES ('26KZ0000000000001A', 'released', 'carrier-kz', 'KZ-ALA-ZHETYSU', 'UZ-TAS-CUSTOMS', "
                "'123 ABC-02', 'GRN-KZ-0001', 10, 2, "
                "'2026-11-01 08:00:00', '2026-11-01 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transit_offices (mrn, position, office, country) "
                "VALUES ('26KZ0000000000001A', 0, 'KZ-ALA-ZHETYSU', 'KZ')"
            )
        )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM transit_offices")).scalar() == 1
        assert conn.execute(text("SELECT plate_key FROM transits")).scalar() == "123ABC02"
    engine.dispose()
