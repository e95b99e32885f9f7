from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.paytoken.trust_list import TrustList
from pos_app.paytoken.verifier import Verifier
from tests.paytoken.pt1_forge import AUDIENCE, entry, make_trust_list


@pytest.fixture(scope="session")
def root_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def issuer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def trust_list(root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey) -> TrustList:
    return make_trust_list(root_key, [entry(issuer_key)])


@pytest.fixture(scope="session")
def verifier(trust_list: TrustList) -> Verifier:
    return Verifier(trust_list, audience=AUDIENCE, currency="JPY")
