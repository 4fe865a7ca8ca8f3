"""The transit accompanying document (a one-page PDF with a signed QR code) and the offline check of a seal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from silkway.documents.model import OfficeLine
from silkway.documents.pdf import render_transit_document
from silkway.documents.reading import UnreadableDocument, read_payloads
from silkway.documents.transit import check_seal, document_of, issue_seal, summary_of
from silkway.i18n import UnsupportedLanguage, negotiate
from silkway.services import Services
from silkway.shared.errors import InvalidInput
from silkway.shared.mrn import Mrn
from silkway.signing import seal
from silkway.storage.trust import LoggedRecord
from silkway.transit import handlers
from silkway.transit.errors import TransitNotFound
from silkway.transit.lifecycle import Transit
from silkway.web.deps import ActorDep, ServicesDep

router = APIRouter(tags=["documents"])

MAX_UPLOAD = 8 * 1024 * 1024


@router.get(
    "/transits/{mrn}/document",
    summary="The transit accompanying document: one printable page with a signed QR code",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def transit_document(
    mrn: str,
    services: ServicesDep,
    actor: ActorDep,
    lang: Annotated[str | None, Query(description="kk, ru or en; else Accept-Language")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    try:
        language = negotiate(lang, accept_language)
    except UnsupportedLanguage as exc:
        raise InvalidInput(str(exc), fields={"lang": "must be kk, ru or en"}) from exc
    number = Mrn(mrn)
    found = services.queries.transit_with_records(number)
    if found is None or not handlers.can_see(actor, found[0], services.places):
        raise TransitNotFound(f"no transit {number}")
    return Response(
        transit_document_pdf(services, *found, language=language),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{number}.pdf"',
            "Content-Language": language,
        },
    )


def transit_document_pdf(
    services: Services, transit: Transit, records: Sequence[LoggedRecord], *, language: str
) -> bytes:
    """The accompanying document of `transit` in `language`, sealed now by the office of its newest record.

    The API and the carrier's page serve it alike; the caller checks who may see the transit.
    """
    head = records[-1].record
    issuer = str(head.fields["office"])
    key = services.notary.office_key(issuer)
    now = services.clock.now()
    payload = issue_seal(summary_of(transit, head, issuer=issuer, at=now), key)

    def office_line(code: str) -> OfficeLine:
        office = services.reference.offices.get(code)
        return OfficeLine(code=code, name=code if office is None else office.name, country=code[:2])

    document = document_of(transit, payload=payload, key_id=key.key_id, issuer=issuer, at=now, office_line=office_line)
    return render_transit_document(document, language)


@router.post(
    "/verify",
    summary="Check a document's seal against this node's trust list: a payload (JSON) or a photo or PDF (upload)",
    # the body is read by hand (either kind), so FastAPI cannot describe it: the document says what is accepted
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["payload"],
                        "properties": {"payload": {"type": "string", "maxLength": seal.MAX_LENGTH}},
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def verify(request: Request, services: ServicesDep) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=1) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("upload the photo, PNG or PDF as the form field 'file'", fields={"file": "missing"})
            data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InvalidInput("the upload is too large", fields={"file": f"at most {MAX_UPLOAD // 1_000_000} MB"})
        try:
            payloads = read_payloads(data)
        except UnreadableDocument as exc:
            raise InvalidInput(str(exc), fields={"file": "no readable Silkway QR code"}) from exc
    elif content_type.startswith("application/json"):
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON or not UTF-8 (both ValueErrors), or nested past the parser
            body = None
        payload = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(payload, str) or not payload.strip():
            raise InvalidInput('send {"payload": "SW1:..."}', fields={"payload": "a seal string is required"})
        if len(payload) > seal.MAX_LENGTH:
            raise InvalidInput(
                f"a seal is at most {seal.MAX_LENGTH} characters", fields={"payload": "longer than any seal"}
            )
        payloads = [payload]
    else:
        raise InvalidInput(
            "send JSON {\"payload\": ...} or a multipart upload named 'file'",
            fields={"content-type": "application/json or multipart/form-data"},
        )
    trust = services.notary.verified_trust_list(services.clock.now())
    verdicts = [check_seal(p, trust).to_json() for p in payloads]
    first = verdicts[0]
    return {**first, "codes_found": len(verdicts)}
