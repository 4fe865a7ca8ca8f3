"""What the fault tests look at to tell that nothing was lost and nothing half-written was kept: every row of
every table, SQLite's own integrity check, the transparency log audited as an outsider audits it, and a
subject's signed records verified against the node's trust list."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from silkway.services import Services
from silkway.signing.audit import AuditState, audit
from silkway.signing.encoding import from_b64u
from silkway.signing.records import SignedRecord
from silkway.signing.trustlist import TrustList, load_trust_list
from silkway.signing.verify import verify_records
from silkway.storage.tables import metadata


def contents(database: str | Engine) -> dict[str, list[str]]:
    """Every row of every table, to compare before and after a failure (rows as text, in a stable order)."""
    engine = create_engine(database) if isinstance(database, str) else database
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(repr(tuple(row)) for row in conn.execute(table.select()))
                for table in metadata.sorted_tables
            }
    finally:
        if isinstance(database, str):
            engine.dispose()


def integrity(url: str) -> str:
    """SQLite's own check of the whole file: "ok" when it is sound."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())
    finally:
        engine.dispose()


def signed_in(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def trust_of(services: Services) -> TrustList:
    return load_trust_list(services.notary.trust_list(services.clock.now()))


def genuine(client: TestClient, trust: TrustList, path: str, who: dict[str, str], subject: str) -> int:
    """How many signed records the subject at `path` has, once they all verify and chain."""
    view = client.get(path, headers=who)
    assert view.status_code == 200, view.text
    records = [
        SignedRecord(canonical=e["record"]["canonical"].encode(), signature=from_b64u(e["record"]["signature"]))
        for e in view.json()["events"]
    ]
    assert verify_records(records, trust, subject=subject) == []
    return len(records)


class Log:
    """An outside auditor of the node's transparency log, keeping the heads it saw (`signing.audit`)."""

    def __init__(self, client: TestClient, trust: TrustList) -> None:
        self._client = client
        self._trust = trust
        self._state = AuditState()

    def _fetch(self, path: str) -> Any:
        response = self._client.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def size(self) -> int:
        """The log's size now, once its head is signed, extends every head seen before, and its entries
        rebuild its root."""
        report = audit(self._fetch, self._trust, self._state, entries=True)
        assert report.ok, report.problems
        assert report.head is not None
        return report.head.tree_size
