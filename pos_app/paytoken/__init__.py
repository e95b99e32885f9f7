"""PT1 payment tokens (PT1-TOKEN.md): issue, verify offline, trust lists, single use.

Public API, by submodule (import the submodule you need; this file stays thin):

- ``keys``: ``generate_keypair()``, ``kid_of(key) -> bytes``, ``kid_hex(key)``,
  ``write_private_key(path, key)``, ``write_public_key(path, pub)``,
  ``load_private_key(path)``, ``load_public_key(path)``, ``public_raw``,
  ``public_from_raw``, ``b64url_encode``, ``b64url_decode``.
- ``claims``: ``Claims`` (frozen), ``currency_numeric``, ``currency_alpha``,
  ``FLAG_*`` bits, ``KNOWN_FLAGS``, ``unknown_flags``.
- ``issuer``: ``Issuer(private_key).mint(claims) -> str``, ``mint_token(...)``, ``new_cti()``.
- ``trust_list``: ``sign_trust_list``, ``parse_trust_list``, ``read_trust_list``,
  ``TrustList``, ``TrustedKey``, ``key_entry``, ``replace_if_newer``, ``ReplaceDecision``,
  ``TrustListHolder``.
- ``verifier``: ``Verifier(trust_list, *, audience, currency, skew=30).verify(text, *, now)``
  returning ``VerifyResult(ok, reason, claims, key)``; never raises.
- ``seen_store``: ``SeenTokenStore`` protocol, ``SQLiteSeenStore``, ``ConnectionSeenStore``,
  ``MemorySeenStore``, ``SCHEMA_SQL``, ``ensure_schema``, ``seen_on``, ``record_on``, ``purge_on``.
- ``acceptance``: ``accept(...)`` (steps 18-21, records), ``check_acceptance(...)`` (no record).
- ``reasons``: reason-code constants, ``ALL_REASONS``, ``ALL_CODES``, ``cashier_text(code, lang)``.
- ``errors``: exceptions under ``pos_app.core.errors.TokenError``.
- ``base45``, ``dcbor``, ``cose``: the codecs (strict base45, deterministic CBOR, COSE_Sign1).
- ``cli``: ``register(subparsers)`` for ``pos-app token ...`` (handlers in ``cli_commands``,
  imported lazily).

Design notes: docs/PT1-VERIFY.md.
"""
