"""The till's typed contract (pos_app.core.api_contract) against the backend's /openapi.json.

Each request the till sends and each answer it reads is compared, field by field, with
the schema the backend documents for that operation: the same keys, the same required
ones, the same JSON types, in both directions. Then the backend's real answers to a
sale's whole life are checked against its declared models and read by the till's types.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from starlette.testclient import TestClient

from pos_app.core import api_contract as c
from pos_app.paytoken import httpsig
from pos_app.server import admin, schemas
from pos_app.server.app import create_app
from pos_app.server.settings import ServerSettings
from tests.server.server_support import Signer, World

Op = tuple[str, str]
REQUESTS: dict[Any, list[Op]] = {
    c.FinalizeBody: [("/v1/sales", "post")],
    c.CancelBody: [("/v1/sales/{sale_id}/cancel", "post")],
    c.EnrollBody: [("/v1/terminals/enroll", "post")],
    c.DecisionBody: [("/v1/reviews/{sale_id}/decision", "post")],
    c.ClaimBody: [
        ("/v1/reviews/{sale_id}/claim", "post"),
        ("/v1/reviews/{sale_id}/release", "post"),
    ],
}
ANSWERS: dict[type, list[tuple[str, str, str]]] = {
    c.SaleAnswer: [
        ("/v1/sales", "post", "200"),
        ("/v1/sales/{sale_id}", "get", "200"),
        ("/v1/sales/{sale_id}/cancel", "post", "200"),
    ],
    c.EnrollAnswer: [("/v1/terminals/enroll", "post", "201")],
    c.HeartbeatAnswer: [("/v1/terminals/heartbeat", "get", "200")],
    c.ReceiptAnswer: [("/v1/sales/{sale_id}/receipt", "get", "200")],
    c.ReviewsAnswer: [("/v1/reviews", "get", "200")],
    c.DecisionAnswer: [("/v1/reviews/{sale_id}/decision", "post", "200")],
    c.ClaimAnswer: [
        ("/v1/reviews/{sale_id}/claim", "post", "200"),
        ("/v1/reviews/{sale_id}/release", "post", "200"),
    ],
    c.AuditHead: [("/v1/terminals/{terminal_id}/audit", "get", "200")],
    c.AuditAppended: [("/v1/terminals/{terminal_id}/audit", "post", "200")],
}
JSON_TYPES = {str: "string", int: "integer", bool: "boolean"}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("openapi")
    with TestClient(create_app(ServerSettings.for_data_dir(data_dir))) as client:
        doc: dict[str, Any] = client.get("/openapi.json").json()
    return doc


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _split_null(doc: dict[str, Any], schema: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    schema = _resolve(doc, schema)
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        assert len(rest) == 1, schema
        return True, _resolve(doc, rest[0])
    return False, schema


def _fields(tp: Any) -> tuple[dict[str, Any], set[str], dict[str, Any]]:
    """(name -> type, required names, name -> field metadata) of a dataclass or TypedDict."""
    hints = get_type_hints(tp, include_extras=False)
    if is_typeddict(tp):
        return hints, set(tp.__required_keys__), {}
    fields = dataclasses.fields(tp)
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return {f.name: hints[f.name] for f in fields}, required, {f.name: f.metadata for f in fields}


def _compare(
    doc: dict[str, Any], tp: Any, schema: dict[str, Any], where: str, *, answer: bool
) -> None:
    schema = _resolve(doc, schema)
    hints, required, meta = _fields(tp)
    properties = schema.get("properties", {})
    assert set(hints) == set(properties), f"{where}: keys {sorted(hints)} vs {sorted(properties)}"
    assert required == set(schema.get("required", [])), f"{where}: required keys differ"
    for name, hint in hints.items():
        _same(doc, hint, properties[name], f"{where}.{name}", answer=answer, meta=meta.get(name))


def _same(
    doc: dict[str, Any],
    tp: Any,
    schema: dict[str, Any],
    where: str,
    *,
    answer: bool,
    meta: Any = None,
) -> None:
    nullable, schema = _split_null(doc, schema)
    origin, args = get_origin(tp), get_args(tp)
    core_nullable = origin in (Union, types.UnionType) and type(None) in args
    if core_nullable:
        (tp,) = [a for a in args if a is not type(None)]
        origin, args = get_origin(tp), get_args(tp)
    # The till may read more leniently (None where the backend always sends a value);
    # what it sends, and what the backend may leave null, must match exactly.
    assert core_nullable == nullable or (answer and core_nullable), f"{where}: nullability"
    if tp is Any:
        return
    if meta and meta.get("json") == "object":
        assert schema.get("type") == "object", where
    elif origin is Literal:
        assert set(schema.get("enum", [])) == set(args), f"{where}: {args} vs {schema}"
    elif tp in JSON_TYPES:
        assert schema.get("type") == JSON_TYPES[tp], f"{where}: {tp} vs {schema}"
    elif origin in (list, tuple):
        assert schema.get("type") == "array", f"{where}: {schema}"
        _same(doc, args[0], schema.get("items", {}), f"{where}[]", answer=answer)
    elif origin is dict or tp is dict:
        assert schema.get("type") == "object" and "properties" not in schema, f"{where}: {schema}"
    elif dataclasses.is_dataclass(tp) or is_typeddict(tp):
        _compare(doc, tp, schema, where, answer=answer)
    else:
        raise AssertionError(f"{where}: no JSON mapping for {tp}")


@pytest.mark.parametrize("body", list(REQUESTS), ids=lambda t: t.__name__)
def test_what_the_till_sends_is_what_the_backend_documents(
    openapi: dict[str, Any], body: Any
) -> None:
    for path, method in REQUESTS[body]:
        content = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]
        _, schema = _split_null(openapi, content["schema"])
        _compare(openapi, body, schema, f"{body.__name__} {method} {path}", answer=False)


@pytest.mark.parametrize("answer", list(ANSWERS), ids=lambda t: t.__name__)
def test_what_the_till_reads_is_what_the_backend_documents(
    openapi: dict[str, Any], answer: type
) -> None:
    for path, method, status in ANSWERS[answer]:
        content = openapi["paths"][path][method]["responses"][status]["content"]
        schema = content["application/json"]["schema"]
        _compare(openapi, answer, schema, f"{answer.__name__} {method} {path}", answer=True)


def test_the_error_body_is_the_documented_one(openapi: dict[str, Any]) -> None:
    schema = openapi["components"]["schemas"]["Error"]
    _compare(openapi, c.ErrorAnswer, schema, "Error", answer=True)
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    ref = answer["content"]["application/json"]["schema"]
                    assert ref == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_every_documented_answer_has_a_core_type() -> None:
    documented = {(path, method) for path, method, _ in schemas.answered_operations()}
    read = {(path, method) for ops in ANSWERS.values() for path, method, _ in ops}
    assert documented == read


def _read(kind: type, data: Any) -> Any:
    """The backend's real answer has exactly the documented keys (none the till would
    skip unread) and reads as the till's type."""
    _same_keys(kind, data, kind.__name__)
    return c.parse(kind, data)


def _same_keys(kind: Any, data: Any, where: str) -> None:
    if not (dataclasses.is_dataclass(kind) and isinstance(data, dict)):
        return
    hints, required, _ = _fields(kind)
    assert required <= set(data) <= set(hints), f"{where}: {sorted(data)} vs {sorted(hints)}"
    for name, value in data.items():
        tp = hints[name]
        inner = [a for a in get_args(tp) if a is not type(None)] or [tp]
        item = get_args(inner[0])[0] if get_origin(inner[0]) is tuple else inner[0]
        for each in value if isinstance(value, list) else [value]:
            _same_keys(item, each, f"{where}.{name}")


def test_the_backends_real_answers_follow_the_contract(
    world: World, settings: ServerSettings, clock: Any
) -> None:
    wallet = world.new_wallet()
    token = world.token(wallet)
    body = world.sale_body(token)
    sold = world.sell(body)
    sale = _read(c.SaleAnswer, sold.json())
    assert sale.status == "approved" and sale.risk is not None
    again = world.api.get(f"/v1/sales/{sale.sale_id}", signer=world.terminal)
    assert _read(c.SaleAnswer, again.json()) == sale
    receipt = world.api.get(f"/v1/sales/{sale.sale_id}/receipt", signer=world.terminal)
    assert _read(c.ReceiptAnswer, receipt.json()).total == 280
    replay = world.sell(world.sale_body(token))  # the same token again: flagged for review
    declined = _read(c.SaleAnswer, replay.json())
    assert declined.reason == "token_already_used"
    path = f"/v1/reviews/{declined.sale_id}"
    claimed = world.api.post(f"{path}/claim", {"reviewer_id": "M1"}, signer=world.terminal)
    assert _read(c.ClaimAnswer, claimed.json()).claimed_by == "M1"
    released = world.api.post(f"{path}/release", {"reviewer_id": "M1"}, signer=world.terminal)
    assert _read(c.ClaimAnswer, released.json()).claimed_by is None
    listed = world.api.get("/v1/reviews?store_id=S001", signer=world.terminal)
    reviews = _read(c.ReviewsAnswer, listed.json()).reviews
    assert declined.sale_id in {r.sale_id for r in reviews}
    decided = world.decide(declined.sale_id, "reject", note="the same code twice")
    assert _read(c.DecisionAnswer, decided.json()).wallet_frozen is False
    proof = world.managers["M1"].void(body, at=world.api.clock.now(), reason="returned")
    voided = world.api.post(f"/v1/sales/{sale.sale_id}/cancel", proof, signer=world.terminal)
    assert _read(c.SaleAnswer, voided.json()).status == "cancelled"
    beat = world.api.get("/v1/terminals/heartbeat", signer=world.terminal)
    assert _read(c.HeartbeatAnswer, beat.json()).terminal_id == "T01"
    head = world.api.get("/v1/terminals/T01/audit", signer=world.terminal)
    assert _read(c.AuditHead, head.json()).synced_through == 0
    ticket = admin.create_terminal(
        settings.data_dir, settings.db_url, store_id="S001", terminal_id="T02", clock=clock
    )
    signer = Signer.new(httpsig.TAG_TERMINAL)
    body = {"enrollment_code": ticket["enrollment_code"], "public_key": signer.public_b64,
            "app_version": "0.1.0"}  # fmt: skip
    enrolled = world.api.post("/v1/terminals/enroll", body, signer=signer)
    assert _read(c.EnrollAnswer, enrolled.json()).terminal_id == "T02"
