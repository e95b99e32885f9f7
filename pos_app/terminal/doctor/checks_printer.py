"""Doctor checks of receipts: the printer answers and has paper, the invoice settings are valid."""

from __future__ import annotations

from pos_app.core.errors import ConfigError
from pos_app.core.invoice import parse_registration_number
from pos_app.terminal.doctor.env import DoctorEnv
from pos_app.terminal.doctor.runner import Finding, fail, ok, warn
from pos_app.terminal.printing.fonts import japanese_font
from pos_app.terminal.printing.printers import FaultKind, PrinterFault, open_printer

_FIXES = {
    FaultKind.UNREACHABLE: "check the printer's power and cable, and [printer] url",
    FaultKind.COVER_OPEN: "close the printer's cover",
    FaultKind.PAPER_OUT: "load a paper roll",
    FaultKind.NO_ANSWER: "switch the printer off and on; check it is an ESC/POS printer",
}


def check_printer(env: DoctorEnv) -> Finding:
    name = "printer"
    url = env.effective.printer.url
    if not url:
        return ok(name, "no receipt printer set ([printer] url); receipts can be saved as PDF")
    try:
        status = (env.printer or open_printer)(url).status()
    except ConfigError as exc:
        return fail(name, exc.message, "fix [printer] url in /etc/pos-app/config.d/")
    except PrinterFault as fault:
        return fail(name, fault.message, _FIXES[fault.kind])
    if status.paper_low:
        return warn(name, f"{url} ready, paper low", "put a new roll in soon")
    return ok(name, f"{url} ready")


def check_receipt(env: DoctorEnv) -> Finding:
    """A qualified invoice needs the issuer's registration number; every rendering a font."""
    name = "receipt"
    receipt = env.effective.receipt
    try:
        font = japanese_font()
    except ConfigError as exc:
        return fail(name, exc.message, "apt-get install fonts-noto-cjk")
    if not receipt.registration_number:
        return warn(
            name,
            "no invoice registration number: receipts are not qualified invoices",
            "set [receipt] issuer_name and registration_number ('T' + 13 digits)",
        )
    try:
        number = parse_registration_number(receipt.registration_number)
    except ConfigError as exc:
        return fail(name, exc.message, "correct [receipt] registration_number")
    return ok(name, f"issuer {receipt.issuer_name or '?'} {number}; font {font.path.name}")
