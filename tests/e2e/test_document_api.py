"""The transit accompanying document: one printable page whose QR code proves itself offline."""

from __future__ import annotations

from typing import Any

import pytest
from apiwalk import ROUTE, Walk, auth
from fastapi.testclient import TestClient
from pypdf import PdfReader

from silkway.documents.reading import read_payloads
from silkway.documents.transit import check_seal
from silkway.signing.keys import SigningKey
from silkway.signing.seal import open_seal, seal
from silkway.signing.trustlist import load_trust_list

PROBLEM = "application/problem+json"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def document(client: TestClient, walk: Walk, query: str = "", **headers: str) -> bytes:
    response = client.get(f"/api/v1/transits/{walk.mrn}/document{query}", headers={**walk.carrier, **headers})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def released(client: TestClient) -> Walk:
    walk = Walk(client)
    walk.submit()
    walk.release()
    return walk


def test_the_document_of_a_released_transit_is_one_page_and_its_qr_code_proves_it(client: TestClient) -> None:
    walk = released(client)
    pdf = document(client, walk)
    reader = PdfReader(__import__("io").BytesIO(pdf))
    assert len(reader.pages) == 1
    assert walk.mrn in reader.pages[0].extract_text()

    trust = load_trust_list(client.get("/api/v1/trust-list").content)
    [payload] = read_payloads(pdf)
    assert len(payload) <= 1000
    verdict = check_seal(payload, trust)
    assert verdict.genuine, verdict.problems
    data = verdict.to_json()
    assert data["issued_by"] == ROUTE[0]
    assert data["transit"]["mrn"] == walk.mrn
    assert data["transit"]["status"] == "in_transit"
    assert data["transit"]["seals"] == ["KZ1234567", "KZ1234568"]
    assert data["transit"]["last_control"]["office"] == ROUTE[0]
    assert data["transit"]["last_control"]["kind"] == "physical"


def test_after_a_later_control_the_document_names_that_office(client: TestClient) -> None:
    walk = Walk(client)
    walk.journey()
    verdict = check_seal(
        read_payloads(document(client, walk))[0], load_trust_list(client.get("/api/v1/trust-list").content)
    )
    assert verdict.genuine
    assert verdict.to_json()["transit"]["last_control"]["office"] == "UZ-GISHTKUPRIK"
    assert verdict.issuer == ROUTE[-1]  # the newest record, the discharge, was made at Dushanbe


@pytest.mark.parametrize(
    ("query", "headers", "language_word"),
    [
        ("?lang=ru", {}, "Транзитный сопроводительный"),
        ("", {"Accept-Language": "kk-KZ, ru;q=0.5"}, "Транзиттік"),
        ("", {}, "Transit accompanying document"),
    ],
)
def test_the_document_speaks_the_asked_language(
    client: TestClient, query: str, headers: dict[str, str], language_word: str
) -> None:
    walk = released(client)
    response = client.get(f"/api/v1/transits/{walk.mrn}/document{query}", headers={**walk.carrier, **headers})
    text = PdfReader(__import__("io").BytesIO(response.content)).pages[0].extract_text()
    assert language_word.lower() in text.lower()


def test_bad_document_requests_get_a_clear_problem(client: TestClient) -> None:
    walk = released(client)
    problem(client.get(f"/api/v1/transits/{walk.mrn}/document?lang=fr", headers=walk.carrier), 422, "invalid_input")
    problem(client.get(f"/api/v1/transits/{walk.mrn}/document"), 401, "invalid_token")
    other = auth(client, "customs-kg")
    problem(client.get(f"/api/v1/transits/{walk.mrn}/document", headers=other), 404, "transit_not_found")
    problem(client.get("/api/v1/transits/26KZ0000000000001B/document", headers=walk.carrier), 422, "invalid_input")


def test_verify_accepts_a_payload_a_pdf_and_a_photo(client: TestClient) -> None:
    walk = released(client)
    pdf = document(client, walk)
    [payload] = read_payloads(pdf)

    by_payload = client.post("/api/v1/verify", json={"payload": payload})
    by_pdf = client.post("/api/v1/verify", files={"file": ("tad.pdf", pdf, "application/pdf")})
    assert by_payload.status_code == by_pdf.status_code == 200
    assert by_payload.json()["genuine"] is True
    assert by_pdf.json()["genuine"] is True
    assert by_pdf.json()["transit"]["mrn"] == walk.mrn

    from silkway.documents.qr import qr_png

    photo = client.post("/api/v1/verify", files={"file": ("qr.png", qr_png(payload), "image/png")})
    assert photo.json()["genuine"] is True


def test_an_edited_seal_or_a_seal_by_an_unknown_key_is_not_genuine(client: TestClient) -> None:
    walk = released(client)
    [payload] = read_payloads(document(client, walk))
    opened = open_seal(payload)

    forged_key = seal(dict(opened.summary), SigningKey.generate())
    unknown = client.post("/api/v1/verify", json={"payload": forged_key}).json()
    assert unknown["genuine"] is False
    assert [p["code"] for p in unknown["problems"]] == ["seal_unknown_key"]

    # the same signature over an edited summary: a carrier changing a seal number
    import zlib

    import base45
    import cbor2

    cose = cbor2.loads(zlib.decompress(base45.b45decode(payload[4:])))
    protected, unprotected, body, signature = cose.value
    summary = dict(cbor2.loads(body))
    summary["sl"] = ["XX0000001"]
    edited_cose = cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(summary, canonical=True), signature])
    edited = "SW1:" + base45.b45encode(zlib.compress(cbor2.dumps(edited_cose))).decode()
    answer = client.post("/api/v1/verify", json={"payload": edited}).json()
    assert answer["genuine"] is False
    assert [p["code"] for p in answer["problems"]] == ["seal_signature"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"json": {}}, "payload"),
        ({"json": {"payload": ""}}, "payload"),
        ({"json": {"payload": "SW1:" + "A" * 997}}, "payload"),
        ({"content": b"SW1:ABC", "headers": {"Content-Type": "text/plain"}}, "content-type"),
        ({"files": {"file": ("x.bin", b"\x00\x01garbage", "application/octet-stream")}}, "file"),
        ({"files": {"other": ("x.png", b"", "image/png")}}, "file"),
    ],
    ids=[
        "no payload",
        "empty payload",
        "longer than any seal",
        "wrong content type",
        "garbage upload",
        "wrong form field",
    ],
)
def test_bad_verify_requests_get_a_clear_problem(client: TestClient, kwargs: dict[str, Any], field: str) -> None:
    body = problem(client.post("/api/v1/verify", **kwargs), 422, "invalid_input")
    assert body["errors"][0]["field"] == field


def test_a_malformed_payload_is_answered_not_genuine(client: TestClient) -> None:
    answer = client.post("/api/v1/verify", json={"payload": "SW1:NOT-A-SEAL"}).json()
    assert answer["genuine"] is False
    assert [p["code"] for p in answer["problems"]] == ["seal_malformed"]
