"""Known answers for manager keys and proofs, computed with the code before the refactor
(a3a26bf): a manager key derived by an older till, and a proof it signed, must still be
the same bytes, or every enrolled manager key and every queued void or decision breaks."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from pos_app.paytoken import manager_proof as mp

PASSPHRASE = "pässphrase é"  # not NFC-normalised as typed: derive_key normalises it


def _public_hex(n: int | None, store_id: str, manager_id: str) -> str:
    key = mp.derive_key(PASSPHRASE, store_id=store_id, manager_id=manager_id, n=n)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def test_the_default_cost_derives_the_key_older_tills_derived() -> None:
    assert _public_hex(None, "s1", "m1") == (
        "d39782052d9c0264a029ebf7831e325609d7d24313e7f2ba85645261c21cc239"
    )


def test_proofs_of_every_kind_are_the_bytes_and_signatures_older_tills_made() -> None:
    key = mp.derive_key(PASSPHRASE, store_id="S001", manager_id="M01", n=2**10)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert public.hex() == "fcd0473346281ba499d5fed95c462dbde799b455360f8f4d472038cd7808f9d0"
    sale = mp.SaleApproval(
        manager_id="M01",
        reason="regular customer",
        sale_id="srv-1",
        store_id="S001",
        terminal_id="T01",
        total=12345,
        currency="JPY",
        token_sha256=mp.token_digest("PT1:ABC"),
        approved_at=1_800_000_000,
    )
    void = mp.Void(
        manager_id="M01",
        reason="wrong item",
        sale_id="srv-1",
        store_id="S001",
        total=12345,
        currency="JPY",
        approved_at=1_800_000_100,
    )
    decision = mp.ReviewDecision(
        reviewer_id="M01",
        sale_id="srv-1",
        store_id="S001",
        decision="confirmed_fraud",
        note="stolen phone",
        decided_at=1_800_000_200,
    )
    expected = [
        (
            '{"approved_at":1800000000,"currency":"JPY","kind":"pos-manager-sale-approval-v1",'
            '"manager_id":"M01","reason":"regular customer","sale_id":"srv-1","store_id":"S001",'
            '"terminal_id":"T01","token_sha256":'
            '"b1422f898417cbece817338077623e048f25ab363b11245e1fde0e0489f59e85","total":12345}',
            "g8h7vppE5L4kN49q2mXBbk9CiqIaja-uNfGAwcqQxCtyPGIMAoKyCOjs-oha8iIotQI-LswKnxrdgUUJ5zqeBA",
        ),
        (
            '{"approved_at":1800000100,"currency":"JPY","kind":"pos-manager-void-v1",'
            '"manager_id":"M01","reason":"wrong item","sale_id":"srv-1","store_id":"S001",'
            '"total":12345}',
            "_rcTAfgVWWF07shIQGNet6Axnx8V3tJu84-glRV-willABAHQQyxQYMueRiFNMUmsnPMU7IkNWh6RHGF7YtHAQ",
        ),
        (
            '{"decided_at":1800000200,"decision":"confirmed_fraud",'
            '"kind":"pos-manager-review-decision-v1","note":"stolen phone","reviewer_id":"M01",'
            '"sale_id":"srv-1","store_id":"S001"}',
            "Mc10HCQjokzwLCGn9ax_Iexu1lMrW2XeT_n5hXTA9mjeDDI54ITDCHzfDuGMM-vf10P3mMk-XAhihk8Z7JZHCQ",
        ),
    ]
    proofs: tuple[mp.Proof, ...] = (sale, void, decision)
    for proof, (message, signature) in zip(proofs, expected, strict=True):
        assert proof.message().decode() == message
        assert mp.sign(key, proof) == signature
        assert mp.verify(public, proof, signature)
