"""The floor: a bare ASGI app doing a border check's irreducible work, and nothing else.

``POST /check`` parses a JSON body with pydantic, verifies one Ed25519 signature over the presented
document, reads one row by primary key and inserts one row (committed), then answers with a small JSON.
It is what the machine can do per request with the same frameworks and drivers, so Silkway's figures are
stated as a share of it, measured in the same run.

Run under uvicorn like the app: ``uvicorn bench.floor:app --workers 2``, with ``FLOOR_DATABASE`` set to a
SQLite path or a ``postgresql://`` URL made by `create_schema`.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

SEED = bytes(range(32))  # the floor's document key: a fixed test key, the floor verifies nothing secret
PUBLIC = Ed25519PrivateKey.from_private_bytes(SEED).public_key()


class Check(BaseModel):
    subject: str = Field(max_length=40)
    office: str = Field(max_length=40)
    document: str = Field(max_length=4000)  # base64 of the signed bytes
    signature: str = Field(max_length=200)


class _Database:
    """One connection per worker process, as the app keeps a pool per process."""

    def __init__(self, target: str) -> None:
        self.postgres = target.startswith("postgresql")
        self.mark = "%s" if self.postgres else "?"
        if self.postgres:
            self.connection: Any = psycopg.connect(target)
        else:
            self.connection = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                self.connection.execute(f"PRAGMA {pragma}")

    def check(self, subject: str, office: str, document: bytes) -> str | None:
        m = self.mark
        if self.postgres:
            with self.connection.transaction():
                row = self.connection.execute(f"SELECT status FROM subjects WHERE id = {m}", (subject,)).fetchone()
                self.connection.execute(
                    f"INSERT INTO checks (subject, office, at, document) VALUES ({m}, {m}, {m}, {m})",
                    (subject, office, datetime.now(UTC).isoformat(), document),
                )
        else:
            self.connection.execute("BEGIN IMMEDIATE")
            row = self.connection.execute("SELECT status FROM subjects WHERE id = ?", (subject,)).fetchone()
            self.connection.execute(
                "INSERT INTO checks (subject, office, at, document) VALUES (?, ?, ?, ?)",
                (subject, office, datetime.now(UTC).isoformat(), document),
            )
            self.connection.execute("COMMIT")
        return None if row is None else str(row[0])


_database: _Database | None = None


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    global _database  # one connection per worker process
    _database = _Database(os.environ["FLOOR_DATABASE"])
    yield
    _database.connection.close()


app = FastAPI(lifespan=_lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/check")
async def check(body: Check) -> dict[str, Any]:
    document = base64.b64decode(body.document)
    try:
        PUBLIC.verify(base64.b64decode(body.signature), document)
    except InvalidSignature:
        raise HTTPException(422, "the document's signature does not verify") from None
    if _database is None:
        raise HTTPException(503, "not started")
    status = _database.check(body.subject, body.office, document)
    if status is None:
        raise HTTPException(404, "no such subject")
    return {"subject": body.subject, "status": status, "verified": True}


def create_schema(target: str, subjects: Iterator[str]) -> None:
    """Make the floor's two tables on a fresh SQLite file or PostgreSQL database, with `subjects` to read."""
    rows = [(subject, "released") for subject in subjects]
    if target.startswith("postgresql"):
        with psycopg.connect(target) as connection:
            connection.execute("CREATE TABLE subjects (id VARCHAR(40) PRIMARY KEY, status VARCHAR(20) NOT NULL)")
            connection.execute(
                "CREATE TABLE checks (id BIGSERIAL PRIMARY KEY, subject VARCHAR(40) NOT NULL, "
                "office VARCHAR(40) NOT NULL, at VARCHAR(40) NOT NULL, document BYTEA NOT NULL)"
            )
            with connection.cursor() as cursor:
                cursor.executemany("INSERT INTO subjects VALUES (%s, %s)", rows)
        return
    lite = sqlite3.connect(target)
    try:
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("CREATE TABLE subjects (id VARCHAR(40) PRIMARY KEY, status VARCHAR(20) NOT NULL)")
        lite.execute(
            "CREATE TABLE checks (id INTEGER PRIMARY KEY AUTOINCREMENT, subject VARCHAR(40) NOT NULL, "
            "office VARCHAR(40) NOT NULL, at VARCHAR(40) NOT NULL, document BLOB NOT NULL)"
        )
        lite.executemany("INSERT INTO subjects VALUES (?, ?)", rows)
        lite.commit()
    finally:
        lite.close()


def signed_document(subject: str, office: str) -> tuple[str, str]:
    """A signed document of a border check's size (about 640 bytes), as base64 text and signature."""
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    document = (f'{{"subject":"{subject}","office":"{office}","filler":"' + "x" * 560 + '"}').encode()
    return base64.b64encode(document).decode(), base64.b64encode(key.sign(document)).decode()
