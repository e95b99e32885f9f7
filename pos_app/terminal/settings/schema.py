"""Every setting, declared once, as typed frozen dataclasses.

Each field carries its documentation and limits in its metadata. The loader
validates against these declarations, ``config/default.toml`` is rendered from
them (a test keeps the file equal to the rendering), and ``pos-app config
show`` lists them.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any


def opt(
    default: Any,
    doc: str,
    *,
    choices: tuple[Any, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    secret: bool = False,
    it_owned: bool | None = None,
) -> Any:
    meta = {"doc": doc, "choices": choices, "min": minimum, "max": maximum, "secret": secret}
    if it_owned is not None:
        meta["it_owned"] = it_owned
    return field(default=default, metadata=meta)


# Sections that decide where money goes or how the till is secured: on a till that store
# IT manages (a system configuration exists) they come only from the system files and
# the service's own environment, never from a user's file or shell (loader.py).
IT_OWNED_SECTIONS = frozenset({"terminal", "payment", "risk", "security", "paths"})
# Keys of other sections that are IT's too; opt(it_owned=False) opts a key out.
IT_OWNED_KEYS = frozenset({"backend.url", "backend.trust_root_key"})


@dataclass(frozen=True, slots=True)
class TerminalSettings:
    store_id: str = opt("", "Store this terminal sells for; written by enrollment.")
    terminal_id: str = opt("", "This terminal's id within its store; written by enrollment.")
    audience: str = opt("pos.jp", "PT1 acceptance network; tokens for another are refused.")
    currency: str = opt("JPY", "Currency of every sale (ISO 4217).", choices=("JPY", "USD", "EUR"))
    catalog_dir: str = opt("", "Folder of catalog CSV files; empty means the bundled catalog.")


@dataclass(frozen=True, slots=True)
class BackendSettings:
    url: str = opt("", "Backend base URL; https:// required, http:// only for loopback.")
    connect_timeout_s: float = opt(
        3.0, "Seconds to wait for a connection.", minimum=0.1, maximum=60
    )
    read_timeout_s: float = opt(10.0, "Seconds to wait for a response.", minimum=0.5, maximum=120)
    retries: int = opt(3, "Retries of idempotent requests, with backoff.", minimum=0, maximum=10)
    poll_interval_s: float = opt(2.0, "Step-up status polling interval.", minimum=0.5, maximum=10)
    trust_list_refresh_s: int = opt(
        3600, "Background trust-list refresh period in seconds.", minimum=60, maximum=86400
    )
    heartbeat_s: int = opt(
        30,
        "An idle till sends a signed heartbeat this often (seconds) so the backend knows it"
        " was reachable: offline claims dated inside such contact are refused. Keep it under"
        " half the backend's contact_slack (90 s).",
        minimum=5,
        maximum=45,
    )
    trust_root_key: str = opt(
        "",
        "Pinned trust-list root public key: a PEM file path, or base64url of the raw 32 bytes.",
    )


@dataclass(frozen=True, slots=True)
class PaymentSettings:
    trust_list_stale_grace_s: int = opt(
        86400,
        "Seconds after the trust list's next_update before it is stale (offline payments stop).",
        minimum=0,
        maximum=7 * 86400,
    )
    allow_offline: bool = opt(True, "Accept payments offline when the rules allow it.")
    offline_after_s: int = opt(
        90,
        "Seconds after the last answer from the backend before offline acceptance starts. The"
        " backend refuses offline claims made while it was hearing from the till (its"
        " contact_slack, 90 s by default): keep the two equal.",
        minimum=0,
        maximum=3600,
    )


@dataclass(frozen=True, slots=True)
class ScannerSettings:
    camera: str = opt("auto", "'auto', 'none', a camera index such as '0', or a device path.")
    width: int = opt(1280, "Requested camera frame width.", minimum=160, maximum=3840)
    height: int = opt(720, "Requested camera frame height.", minimum=120, maximum=2160)
    fps: int = opt(30, "Requested camera frame rate.", minimum=1, maximum=120)
    mirror: bool = opt(True, "Mirror the preview so the customer's phone moves naturally.")
    exposure: str = opt(
        "auto",
        "Exposure: 'low' (8 ms) for phone screens, which glow and overexpose or smear under "
        "auto exposure; 'high' (33 ms) for a dim counter; applied if the camera allows (doctor).",
        choices=("auto", "low", "high"),
    )
    focus: int = opt(
        -1,
        "Fixed focus in the camera's units (UVC: 0 far to 255 near; about 120 for a phone "
        "30 cm away); -1 keeps autofocus; applied if the camera allows (doctor shows it).",
        minimum=-1,
        maximum=1023,
    )
    decoders: tuple[str, ...] = opt(
        ("zxing", "zxing-smooth", "pyzbar"),
        "Decoder cascade, tried in this order.",
        choices=("zxing", "zxing-smooth", "pyzbar"),
    )
    formats: tuple[str, ...] = opt(
        ("qr", "ean13", "ean8"),
        "Codes read: QR and JAN/EAN; add 'upca', 'upce' only for UPC-labelled goods.",
        choices=("qr", "ean13", "ean8", "upca", "upce"),
    )
    product_cooldown_s: float = opt(
        2.0,
        "A product code is not added again within this time unless it left view.",
        minimum=0.2,
        maximum=30,
    )
    wedge_max_gap_ms: int = opt(
        50,
        "Scanners type faster than this between characters; people do not.",
        minimum=5,
        maximum=200,
    )


@dataclass(frozen=True, slots=True)
class RiskSettings:
    rules_file: str = opt("", "Risk rule set (TOML); empty means the bundled rules.")


@dataclass(frozen=True, slots=True)
class UiSettings:
    language: str = opt("ja", "Cashier UI language.", choices=("en", "ja"))
    theme: str = opt("standard", "Colour theme.", choices=("standard", "high_contrast"))
    sound: bool = opt(True, "Play a sound on approval and on decline.")
    font_scale: float = opt(
        1.0, "Scale all text for arm's-length reading.", minimum=0.75, maximum=2.0
    )
    fullscreen: bool = opt(False, "Start full screen (kiosk mode).")


@dataclass(frozen=True, slots=True)
class CustomerDisplaySettings:
    mode: str = opt(
        "auto",
        "The customer's screen: 'auto' on a second monitor when one is attached, 'window' "
        "always (as in the demo), 'off'.",
        choices=("auto", "window", "off"),
    )
    language: str = opt(
        "ja",
        "Language the customer display starts in (the customer can switch).",
        choices=("ja", "en"),
    )
    cashier_age_check: bool = opt(
        True,
        "With no customer display attached, the cashier may confirm age 20+ for tobacco and "
        "alcohol after a visual check; false: such sales need the display.",
    )


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    pin_max_attempts: int = opt(5, "Wrong PINs before sign-in locks.", minimum=3, maximum=10)
    pin_lock_base_s: int = opt(
        30,
        "First lockout in seconds; it doubles with each further lockout.",
        minimum=5,
        maximum=3600,
    )
    manager_pin_hash: str = opt("", "scrypt hash of the manager PIN.", secret=True)


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = opt("INFO", "Log level.", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    max_bytes: int = opt(
        5_000_000,
        "Rotate the log file at this size in bytes.",
        minimum=100_000,
        maximum=1_000_000_000,
    )
    backups: int = opt(5, "Rotated log files kept.", minimum=1, maximum=100)


@dataclass(frozen=True, slots=True)
class PrinterSettings:
    url: str = opt(
        "",
        "Receipt printer: tcp://HOST:9100 (raw TCP) or usb://VID:PID (hex); empty: no printer.",
    )
    paper_mm: int = opt(80, "Paper width in millimetres.", choices=(58, 80))
    japanese: str = opt(
        "kanji",
        "How Japanese reaches the printer: 'kanji' (Shift_JIS text, printers with a Kanji ROM:"
        " Japanese models) or 'raster' (an image: any ESC/POS printer).",
        choices=("kanji", "raster"),
    )
    auto_print: bool = opt(True, "Print the receipt as soon as a sale is approved.")
    language: str = opt("ja", "Receipt language.", choices=("ja", "en"))


@dataclass(frozen=True, slots=True)
class ReceiptSettings:
    issuer_name: str = opt("", "Issuer's name printed on every invoice (the registered business).")
    registration_number: str = opt(
        "", "Qualified invoice issuer registration number: 'T' followed by 13 digits."
    )
    store_name: str = opt("", "Store name printed under the issuer's name.")


@dataclass(frozen=True, slots=True)
class PathSettings:
    data_dir: str = opt("", "Local database and credentials; empty means the platform default.")
    log_dir: str = opt("", "Log files; empty means the platform default.")
    owner: str = opt(
        "",
        "OS account that runs the till and alone owns its data (the kiosk account); "
        "'pos-app setup --owner' sets it. Empty: the data directory's owner.",
    )


@dataclass(frozen=True, slots=True)
class Settings:
    terminal: TerminalSettings = field(default_factory=TerminalSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)
    payment: PaymentSettings = field(default_factory=PaymentSettings)
    scanner: ScannerSettings = field(default_factory=ScannerSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    customer_display: CustomerDisplaySettings = field(default_factory=CustomerDisplaySettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    receipt: ReceiptSettings = field(default_factory=ReceiptSettings)
    paths: PathSettings = field(default_factory=PathSettings)


@dataclass(frozen=True, slots=True)
class Declared:
    """One declared setting, flattened for validation and display."""

    section: str
    key: str
    type: Any
    default: Any
    doc: str
    choices: tuple[Any, ...]
    minimum: float | None
    maximum: float | None
    secret: bool
    it_owned: bool = False

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def env_var(self) -> str:
        return f"POS_APP_{self.section.upper()}_{self.key.upper()}"

    def allowed(self) -> str:
        kinds = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
        kind = kinds.get(self.type, "a list of strings")
        if self.choices:
            prefix = "a list of " if self.type not in kinds else ""
            return prefix + "one of " + ", ".join(repr(c) for c in self.choices)
        if self.minimum is not None and self.maximum is not None:
            return f"{kind} from {self.minimum:g} to {self.maximum:g}"
        return kind


def declared() -> tuple[Declared, ...]:
    out: list[Declared] = []
    hints = typing.get_type_hints(Settings)
    for section in dataclasses.fields(Settings):
        cls = hints[section.name]
        field_types = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            m = f.metadata
            out.append(
                Declared(
                    section.name,
                    f.name,
                    field_types[f.name],
                    f.default,
                    m["doc"],
                    m["choices"],
                    m["min"],
                    m["max"],
                    m["secret"],
                    m.get(
                        "it_owned",
                        section.name in IT_OWNED_SECTIONS
                        or f"{section.name}.{f.name}" in IT_OWNED_KEYS,
                    ),
                )
            )
    return tuple(out)


SECTION_TYPES: dict[str, type] = {
    f.name: typing.get_type_hints(Settings)[f.name] for f in dataclasses.fields(Settings)
}
