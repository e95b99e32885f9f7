"""Known answers for till PIN hashes, computed with the code before the refactor (a3a26bf):
a PIN hash stored by an older till must still verify after an upgrade."""

from __future__ import annotations

from pos_app.terminal.auth import hash_pin, verify_pin

SALT = bytes(range(16))
PEPPER = b"p" * 32
STORED = "scrypt$16384$8$1$AAECAwQFBgcICQoLDA0ODw$leBZuzVEQK2mXvZC2BaW_3skE_VBdbvW5l0xJfGwLDo"
STORED_PEPPERED = (
    "scrypt-pep$16384$8$1$AAECAwQFBgcICQoLDA0ODw$aqGG0kPzHfBnwD5uae_kkZ8_CbeGCqms4o8nQ4FWv0k"
)


def test_the_same_pin_and_salt_hash_as_older_tills_stored() -> None:
    assert hash_pin("482915", salt=SALT) == STORED
    assert hash_pin("482915", salt=SALT, pepper=PEPPER) == STORED_PEPPERED


def test_hashes_stored_by_older_tills_still_verify() -> None:
    assert verify_pin("482915", STORED)
    assert not verify_pin("482916", STORED)
    assert verify_pin("482915", STORED_PEPPERED, pepper=PEPPER)
    assert not verify_pin("482915", STORED_PEPPERED)  # the pepper is required


def test_a_stored_cost_beyond_the_memory_cap_is_refused_not_computed() -> None:
    greedy = "scrypt$1048576$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43
    assert not verify_pin("482915", greedy)
