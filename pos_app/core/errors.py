"""The project's error tree, documented in one place.

Third-party exceptions are translated into these at the layer boundary, so the
UI and the CLI only ever need to know this tree. Every error carries a stable
``code`` (used in logs, the API and tests) and a human message that says what
to do next.

    PosError
    ├── ConfigError             settings file or value invalid
    ├── StoreError              local database unusable (corrupt, locked, newer schema)
    ├── DomainError             a rule of the domain was broken
    │   ├── MoneyError          mixed currencies, bad amounts
    │   ├── BarcodeError        not a valid GTIN
    │   ├── CatalogError        catalog file invalid, unknown product
    │   ├── BasketError         illegal basket change
    │   └── IllegalTransition   sale state machine refused a transition
    ├── TokenError              PT1 token or trust-list problem (carries a reason code)
    ├── ScanError               camera / decoder problems
    ├── BackendError            talking to the backend failed
    └── RiskConfigError         risk rule set invalid
"""

from __future__ import annotations


class PosError(Exception):
    """Base of every error this project raises on purpose."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class ConfigError(PosError):
    code = "config_invalid"


class StoreError(PosError):
    code = "store_error"


class DomainError(PosError):
    code = "domain_error"


class MoneyError(DomainError):
    code = "money_error"


class BarcodeError(DomainError):
    code = "bad_barcode"


class CatalogError(DomainError):
    code = "catalog_error"


class BasketError(DomainError):
    code = "basket_error"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class TokenError(PosError):
    code = "token_error"


class ScanError(PosError):
    code = "scan_error"


class BackendError(PosError):
    code = "backend_error"


class RiskConfigError(PosError):
    code = "risk_config_invalid"
