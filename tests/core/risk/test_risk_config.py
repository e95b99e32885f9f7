"""Rule-file validation: every error names the file, the rule and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pos_app.core.errors import RiskConfigError
from pos_app.core.risk.config import RULE_KEYS, default_rules, load_rules, parse_rules
from pos_app.core.risk.rules import RULES

REPO = Path(__file__).resolve().parents[3]
RISK_TOML = REPO / "config" / "risk.toml"


def _text() -> str:
    return RISK_TOML.read_text(encoding="utf-8")


def _set(text: str, rule: str, key: str, value: str) -> str:
    """Replace ``key = ...`` inside ``[rules.<rule>]``."""
    head, _, tail = text.partition(f"[rules.{rule}]\n")
    assert tail, rule
    body, sep, rest = tail.partition("\n[")
    body, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", body)
    assert n == 1, (rule, key)
    return f"{head}[rules.{rule}]\n{body}{sep}{rest}"


def test_shipped_file_loads_and_covers_every_rule() -> None:
    rules = load_rules(RISK_TOML)
    assert {r.code for r in rules.rules} == set(RULE_KEYS) == set(RULES)
    assert rules.version.startswith("sha256:")


def test_packaged_default_is_the_repository_file() -> None:
    from pos_app.core.risk.default_rules import DEFAULT_RULES_TOML

    assert _text() == DEFAULT_RULES_TOML, "run: python bench/risk_sync_default.py"
    assert default_rules().version == load_rules(RISK_TOML).version


def test_error_names_rule_and_key_for_a_bad_number() -> None:
    text = _set(_text(), "takeover_token_flags", "min_cash_convertible", '"abc"')
    with pytest.raises(RiskConfigError) as err:
        parse_rules(text, source="config/risk.toml")
    assert err.value.message == (
        'config/risk.toml: rule "takeover_token_flags": key "min_cash_convertible" '
        'must be an integer between 0 and 100000000, got "abc"'
    )


def test_fraction_out_of_range_is_named() -> None:
    text = _set(_text(), "topup_then_spend", "min_share_of_topup", "1.5")
    with pytest.raises(RiskConfigError, match=r'rule "topup_then_spend": key "min_share_of_topup" '
                       r"must be a number between 0 and 1, got 1.5"):  # fmt: skip
        parse_rules(text)


@pytest.mark.parametrize(
    ("rule", "key", "value", "expected"),
    [
        ("bulk_cash_convertible", "force", '"maybe"', 'key "force" must be "none"'),
        ("bulk_cash_convertible", "enabled", "1", 'key "enabled" must be true or false'),
        ("takeover_token_flags", "flags", '["new_phone"]', 'key "flags" must be a non-empty list'),
        (
            "category_new_for_wallet",
            "categories",
            '["cigars"]',
            'key "categories" must be a non-empty list of categories from',
        ),
        ("category_new_for_wallet", "categories", "[]", 'key "categories" must be a non-empty'),
        ("old_token", "weight", "-5", 'key "weight" must be an integer between 0 and 1000'),
    ],
)
def test_bad_values_are_named(rule: str, key: str, value: str, expected: str) -> None:
    with pytest.raises(RiskConfigError, match=re.escape(f'rule "{rule}": {expected}')):
        parse_rules(_set(_text(), rule, key, value))


def test_unknown_and_missing_keys_and_rules() -> None:
    text = _text()
    with pytest.raises(RiskConfigError, match='rule "old_token": unknown key "max_age"'):
        parse_rules(text.replace("max_age_s = 120", "max_age = 120"))
    missing = re.sub(r"(?m)^max_age_s = 120\n", "", text)
    with pytest.raises(RiskConfigError, match='rule "old_token": missing key "max_age_s"'):
        parse_rules(missing)
    with pytest.raises(RiskConfigError, match='unknown rule "old_tokens"'):
        parse_rules(text.replace("[rules.old_token]", "[rules.old_tokens]"))


def test_policy_errors() -> None:
    text = _text()
    with pytest.raises(RiskConfigError, match=r'\[policy\]: key "decline_score" must be'):
        parse_rules(text.replace("decline_score = 10000", "decline_score = 40"))
    with pytest.raises(RiskConfigError, match=r'\[policy\]: key "cash_convertible" must be a list'):
        parse_rules(text.replace('"gift_card", "alcohol"', '"gift_cards", "alcohol"', 1))
    with pytest.raises(RiskConfigError, match=r'\[regions\]: key "kansai": region "JP-13"'):
        parse_rules(text.replace('kansai = ["JP-24",', 'kansai = ["JP-13", "JP-24",'))


def test_not_toml_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RiskConfigError, match="x.toml: not valid TOML"):
        parse_rules("[policy\n", source="x.toml")
    with pytest.raises(RiskConfigError, match="cannot read the risk rule file"):
        load_rules(tmp_path / "absent.toml")
    with pytest.raises(RiskConfigError, match=r"missing section \[rules\]"):
        parse_rules(_text().split("[rules.")[0])


def test_version_follows_content_not_comments() -> None:
    base = parse_rules(_text())
    assert parse_rules("# a comment\n" + _text()).version == base.version
    changed = parse_rules(_set(_text(), "old_token", "max_age_s", "90"))
    assert changed.version != base.version


def test_disabled_rule_is_reported_and_never_fires() -> None:
    rules = parse_rules(_set(_text(), "large_basket", "enabled", "false"))
    spec = rules.rule("large_basket")
    assert spec is not None and not spec.enabled
