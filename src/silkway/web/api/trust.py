"""The trust core on the wire: the trust list, the transparency log and its proofs. All public: they hold
keys and hashes, never the content of a record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from silkway.shared.errors import InvalidInput
from silkway.signing import merkle
from silkway.web.deps import ServicesDep

router = APIRouter(tags=["trust"])


@router.get(
    "/trust-list",
    summary="Every member state's root key and office keys, signed",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def trust_list(services: ServicesDep) -> Response:
    document = services.notary.trust_list(services.clock.now())
    return Response(document, media_type="application/json")


@router.get("/log/tree-head", summary="The log's size and root hash, signed by this node")
def tree_head(services: ServicesDep) -> dict[str, Any]:
    return services.notary.tree_head(services.clock.now()).to_json()


@router.get("/log/proofs/inclusion", summary="The audit path of one entry (RFC 9162 §2.1.3)")
def inclusion(
    services: ServicesDep,
    leaf_hash: Annotated[str, Query(description="SHA-256(0x00 ‖ canonical record), 64 hex digits")],
    tree_size: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    index, proof = services.notary.inclusion_proof(_hash(leaf_hash, "leaf_hash"), tree_size)
    return {"leaf_index": index, "tree_size": tree_size, "audit_path": [h.hex() for h in proof]}


@router.get("/log/proofs/consistency", summary="That one tree is a prefix of another (RFC 9162 §2.1.4)")
def consistency(
    services: ServicesDep,
    first: Annotated[int, Query(ge=1)],
    second: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    proof = services.notary.consistency_proof(first, second)
    return {"first": first, "second": second, "consistency_path": [h.hex() for h in proof]}


@router.get("/log/entries", summary="Leaf hashes of log entries [start, end)")
def entries(
    services: ServicesDep,
    start: Annotated[int, Query(ge=0)],
    end: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    found = services.notary.entries(start, end)
    return {
        "start": start,
        "entries": [{"index": e.index, "leaf_hash": e.leaf_hash.hex()} for e in found],
    }


def _hash(text: str, field: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != merkle.HASH_SIZE:
        raise InvalidInput("not a SHA-256 hash", fields={field: "must be 64 hexadecimal digits"})
    return value
