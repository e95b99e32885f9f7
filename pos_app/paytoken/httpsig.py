"""HTTP message signatures (RFC 9421) as profiled by BACKEND-API.md.

Terminals and wallet devices sign every request with Ed25519. The covered
components are fixed by the profile: ``"@method" "@target-uri"``, then
``"content-digest"`` (RFC 9530, sha-256) when the request has a body and
``"idempotency-key"`` when that header is present. The parameters are
``created``, ``keyid``, ``nonce``, ``alg="ed25519"`` and ``tag``.

Only the subset of RFC 8941 structured fields that this profile produces is
parsed; anything else is a :class:`SignatureError`, never a crash, because the
input comes straight off the network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pos_app.core.errors import PosError

TAG_TERMINAL = "pos-v1"
TAG_WALLET = "wallet-v1"
ALG = "ed25519"
DEFAULT_LABEL = "sig1"
MAX_AGE_S = 60
MAX_FUTURE_S = 5
# Header values longer than this are refused before any parsing work.
_MAX_HEADER_LEN = 4096

_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN_RE = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*")
_INT_RE = re.compile(r"-?[0-9]{1,15}")
_BYTES_RE = re.compile(r":([A-Za-z0-9+/=]*):")
_PLAIN_STRING_RE = re.compile(r'([ !#-\[\]-~]*)"')  # after the opening quote


class SignatureError(PosError):
    """The request's signature is missing, malformed, stale, replayed or wrong."""

    code = "bad_signature"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        #: A short machine-readable cause, for logs and tests (not sent to clients).
        self.reason = reason


@dataclass(frozen=True)
class VerifiedSignature:
    """What a verified signature tells the server about the request."""

    label: str
    keyid: str
    created: int
    nonce: str
    tag: str
    covered: tuple[str, ...]


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` header value (sha-256) for *body*."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    return f"sha-256=:{digest}:"


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key: Ed25519PrivateKey,
    keyid: str,
    tag: str,
    created: int,
    nonce: str,
    label: str = DEFAULT_LABEL,
) -> dict[str, str]:
    """Return the headers to add: Content-Digest (with a body), Signature-Input, Signature.

    *url* must be the absolute URL exactly as the client sends it (with httpx,
    ``str(request.url)``); *headers* are the request's other headers, used only
    to find ``Idempotency-Key``.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    added: dict[str, str] = {}
    components = ["@method", "@target-uri"]
    values = {"@method": method.upper(), "@target-uri": url}
    if body:
        added["Content-Digest"] = content_digest(body)
        components.append("content-digest")
        values["content-digest"] = added["Content-Digest"]
    if "idempotency-key" in lowered:
        components.append("idempotency-key")
        values["idempotency-key"] = lowered["idempotency-key"].strip()
    params = _serialize_params(components, created=created, keyid=keyid, nonce=nonce, tag=tag)
    base = _signature_base(components, values, params)
    signature = base64.b64encode(key.sign(base)).decode("ascii")
    added["Signature-Input"] = f"{label}={params}"
    added["Signature"] = f"{label}=:{signature}:"
    return added


@dataclass(frozen=True)
class ParsedSignature:
    """A request's signature parameters, checked for form and age, not yet verified."""

    signed: VerifiedSignature  # what it tells once :func:`check_signature` accepts it
    base: bytes  # the signature base the key must have signed
    signature: bytes | None  # None: no Signature member for the label


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tag: str,
    resolve_key: Callable[[str], Ed25519PublicKey | None],
    now: int,
    max_age: int = MAX_AGE_S,
    max_future: int = MAX_FUTURE_S,
) -> VerifiedSignature:
    """Verify the signature carrying *tag*; return its parameters or raise :class:`SignatureError`.

    *resolve_key* maps a keyid to the registered public key (None when unknown
    or revoked). Nonce uniqueness is the caller's job: it needs a durable store.
    """
    parsed = parse_request(
        method, url, headers, body, tag=tag, now=now, max_age=max_age, max_future=max_future
    )
    return check_signature(parsed, resolve_key(parsed.signed.keyid))


def parse_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tag: str,
    now: int,
    max_age: int = MAX_AGE_S,
    max_future: int = MAX_FUTURE_S,
) -> ParsedSignature:
    """The first half of :func:`verify_request`: everything but the key (a server that
    prefetches the signer's row needs the keyid and nonce before it has the key)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    inputs = _parse_dictionary(_header(lowered, "signature-input"))
    signatures = _parse_dictionary(_header(lowered, "signature"))
    label, parsed = _select_by_tag(inputs, tag)
    covered, params = parsed
    _check_covered(covered, lowered, body)
    created, keyid, nonce = _check_params(params, now=now, max_age=max_age, max_future=max_future)
    values = _component_values(covered, method=method, url=url, headers=lowered, body=body)
    base = _signature_base(covered, values, _serialize_inner(covered, params))
    raw_signature = signatures.get(label)
    signature = raw_signature[0] if raw_signature is not None else None
    return ParsedSignature(
        VerifiedSignature(
            label=label, keyid=keyid, created=created, nonce=nonce, tag=tag, covered=tuple(covered)
        ),
        base,
        signature if isinstance(signature, bytes) else None,
    )


def check_signature(
    parsed: ParsedSignature, public_key: Ed25519PublicKey | None
) -> VerifiedSignature:
    """The second half of :func:`verify_request`, with the keyid's registered key (or None)."""
    if public_key is None:
        raise SignatureError("unknown or revoked keyid", reason="unknown_key")
    if parsed.signature is None:
        raise SignatureError("no Signature member for the selected label", reason="missing")
    try:
        public_key.verify(parsed.signature, parsed.base)
    except InvalidSignature:
        raise SignatureError("signature does not verify", reason="mismatch") from None
    return parsed.signed


# The argument order is the sorted key order of the signed object, fixed by the API contract.
def step_up_message(  # noqa: PLR0917
    challenge_id: str, currency: str, decision: str, sale_id: str, store_id: str, total: int
) -> bytes:
    """The bytes a wallet device signs to approve or deny a step-up challenge.

    Compact JSON with sorted keys: for strings and integers this is RFC 8785.
    """
    obj = {
        "challenge_id": challenge_id,
        "currency": currency,
        "decision": decision,
        "sale_id": sale_id,
        "store_id": store_id,
        "total": total,
    }
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- signature base -------------------------------------------------------------------------

_Params = dict[str, int | str | bool | bytes]
_Item = tuple[bytes | list[str], _Params]


def _signature_base(components: list[str], values: Mapping[str, str], params: str) -> bytes:
    lines = [f'"{name}": {values[name]}' for name in components]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode("utf-8")


def _serialize_params(
    components: list[str], *, created: int, keyid: str, nonce: str, tag: str
) -> str:
    params: _Params = {"created": created, "keyid": keyid, "nonce": nonce, "alg": ALG, "tag": tag}
    return _serialize_inner(components, params)


def _serialize_inner(components: list[str], params: _Params) -> str:
    inner = " ".join(f'"{name}"' for name in components)
    text = f"({inner})"
    for name, value in params.items():
        if value is True:
            text += f";{name}"
        elif isinstance(value, int):
            text += f";{name}={value}"
        elif isinstance(value, str):
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            text += f';{name}="{escaped}"'
        else:
            raise SignatureError("unsupported parameter type", reason="malformed")
    return text


def _component_values(
    covered: list[str], *, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in covered:
        if name == "@method":
            values[name] = method.upper()
        elif name == "@target-uri":
            values[name] = url
        elif name == "content-digest":
            expected = content_digest(body)
            got = _header(headers, "content-digest").strip()
            if not hmac.compare_digest(got.encode(), expected.encode()):
                raise SignatureError("Content-Digest does not match the body", reason="digest")
            values[name] = got
        else:
            values[name] = _header(headers, name).strip()
    return values


def _check_covered(covered: list[str], headers: Mapping[str, str], body: bytes) -> None:
    allowed = {"@method", "@target-uri", "content-digest", "idempotency-key"}
    if len(set(covered)) != len(covered) or not set(covered) <= allowed:
        raise SignatureError("unexpected covered components", reason="components")
    required = {"@method", "@target-uri"}
    if body or "content-digest" in headers:
        required.add("content-digest")
    if "idempotency-key" in headers:
        required.add("idempotency-key")
    if not required <= set(covered):
        raise SignatureError("a required component is not covered", reason="components")


def _check_params(
    params: _Params, *, now: int, max_age: int, max_future: int
) -> tuple[int, str, str]:
    created, keyid, nonce = params.get("created"), params.get("keyid"), params.get("nonce")
    if params.get("alg") != ALG:
        raise SignatureError("alg must be ed25519", reason="alg")
    if not isinstance(created, int) or isinstance(created, bool):
        raise SignatureError("created missing", reason="malformed")
    if not isinstance(keyid, str) or not keyid or not isinstance(nonce, str) or not nonce:
        raise SignatureError("keyid and nonce are required", reason="malformed")
    if len(nonce) > 128 or len(keyid) > 128:
        raise SignatureError("keyid or nonce too long", reason="malformed")
    if created < now - max_age:
        raise SignatureError("signature too old", reason="stale")
    if created > now + max_future:
        raise SignatureError("signature created in the future", reason="future")
    return created, keyid, nonce


def _select_by_tag(inputs: dict[str, _Item], tag: str) -> tuple[str, tuple[list[str], _Params]]:
    found = [
        (label, (item, params))
        for label, (item, params) in inputs.items()
        if isinstance(item, list) and params.get("tag") == tag
    ]
    if len(found) != 1:
        raise SignatureError(f"expected exactly one signature tagged {tag}", reason="missing")
    label, (item, params) = found[0]
    assert isinstance(item, list)  # filtered above; narrows the type for mypy
    return label, (item, params)


# --- minimal RFC 8941 dictionary parser -------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        raise SignatureError(f"missing {name} header", reason="missing")
    if len(value) > _MAX_HEADER_LEN:
        raise SignatureError(f"{name} header too long", reason="malformed")
    return value


def _parse_dictionary(text: str) -> dict[str, _Item]:
    parser = _Parser(text)
    result: dict[str, _Item] = {}
    parser.skip_spaces()
    while not parser.done():
        key = parser.take(_KEY_RE)
        parser.expect("=")
        result[key] = parser.member()
        parser.skip_spaces()
        if parser.done():
            break
        parser.expect(",")
        parser.skip_spaces()
        if parser.done():
            raise SignatureError("trailing comma", reason="malformed")
    return result


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def skip_spaces(self) -> None:
        while not self.done() and self.text[self.pos] in " \t":
            self.pos += 1

    def expect(self, char: str) -> None:
        if self.text[self.pos : self.pos + 1] != char:
            raise SignatureError(f"expected {char!r}", reason="malformed")
        self.pos += 1

    def take(self, pattern: re.Pattern[str]) -> str:
        match = pattern.match(self.text, self.pos)
        if match is None:
            raise SignatureError("malformed structured field", reason="malformed")
        self.pos = match.end()
        return match.group(0)

    def member(self) -> _Item:
        item: bytes | list[str]
        if self.text[self.pos : self.pos + 1] == "(":
            item = self.inner_list()
        else:
            match = _BYTES_RE.match(self.text, self.pos)
            if match is None:
                raise SignatureError("expected a byte sequence", reason="malformed")
            self.pos = match.end()
            try:
                item = base64.b64decode(match.group(1), validate=True)
            except (binascii.Error, ValueError):
                raise SignatureError("bad base64", reason="malformed") from None
        return item, self.params()

    def inner_list(self) -> list[str]:
        self.expect("(")
        names: list[str] = []
        while True:
            self.skip_spaces()
            if self.text[self.pos : self.pos + 1] == ")":
                self.pos += 1
                return names
            names.append(self.string())
            if self.text[self.pos : self.pos + 1] not in (" ", ")"):
                raise SignatureError("malformed inner list", reason="malformed")

    def params(self) -> _Params:
        params: _Params = {}
        while self.text[self.pos : self.pos + 1] == ";":
            self.pos += 1
            key = self.take(_KEY_RE)
            if key in params:
                raise SignatureError("duplicate parameter", reason="malformed")
            if self.text[self.pos : self.pos + 1] != "=":
                params[key] = True
                continue
            self.pos += 1
            params[key] = self.bare_item()
        return params

    def bare_item(self) -> int | str:
        if self.text[self.pos : self.pos + 1] == '"':
            return self.string()
        if _INT_RE.match(self.text, self.pos):
            return int(self.take(_INT_RE))
        return self.take(_TOKEN_RE)

    def string(self) -> str:
        self.expect('"')
        # The common case in one step: printable ASCII without escapes up to the quote.
        plain = _PLAIN_STRING_RE.match(self.text, self.pos)
        if plain is not None:
            self.pos = plain.end()
            return plain.group(1)
        chars: list[str] = []
        while not self.done():
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                if self.done() or self.text[self.pos] not in '"\\':
                    raise SignatureError("bad escape", reason="malformed")
                chars.append(self.text[self.pos])
                self.pos += 1
            elif char == '"':
                return "".join(chars)
            elif not " " <= char <= "~":
                raise SignatureError("non-ASCII in string", reason="malformed")
            else:
                chars.append(char)
        raise SignatureError("unterminated string", reason="malformed")
