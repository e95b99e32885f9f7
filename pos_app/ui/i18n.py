"""Every user-visible string of the cashier UI: English here, Japanese in the gettext
catalogue (``pos_app/locale/ja/LC_MESSAGES/pos_app.po``, see :mod:`pos_app.core.i18n`).

``Texts.t(key, **values)`` formats with ``str.format``; a missing key shows the
key itself rather than crashing, a missing translation shows the English.
"""

from __future__ import annotations

from pos_app.core.i18n import LANGUAGES, N_, Messages
from pos_app.core.money import Money
from pos_app.core.reasons import ReasonCode
from pos_app.paytoken.reasons import cashier_text
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate

MESSAGES = Messages(
    N_("app.title", "pos-app checkout"),
    # kiosk: the till cannot start (a settings or start-up error, shown full screen)
    N_("fatal.title", "This till cannot start / このレジは起動できません"),
    N_(
        "fatal.next",
        "Cashiers: use another till and call store IT. Store IT: fix what the line above says, "
        "then restart the till (systemctl --user restart pos-app-kiosk).",
    ),
    # sign-in
    N_("signin.title", "Sign in"),
    N_("signin.user", "Cashier ID"),
    N_("signin.pin", "PIN"),
    N_("signin.button", "Sign in  [Enter]"),
    N_("signin.checking", "Checking the PIN…"),
    N_("signin.wrong", "Wrong PIN. {left} tries left before sign-in locks."),
    N_(
        "signin.locked",
        "Too many wrong PINs. Sign-in is locked for {seconds} s; ask a manager if you forgot your "
        "PIN.",
    ),
    N_(
        "signin.no_accounts",
        "No cashier accounts on this till yet: ask store IT to run 'pos-app cashier add ID NAME'.",
    ),
    N_("signin.empty", "Enter your cashier ID and PIN."),
    # header and basket
    N_("header.cashier", "Cashier: {name}"),
    N_("header.signout", "Sign out"),
    N_("header.manager", "Manager  [Ctrl+M]"),
    N_("header.language", "日本語  [F9]"),
    N_("header.contrast", "High contrast"),
    N_("col.name", "Item"),
    N_("col.qty", "Qty"),
    N_("col.price", "Price"),
    N_("col.total", "Line total"),
    N_(
        "basket.empty",
        "Scan a product with the scanner or the camera, or type its JAN code below.",
    ),
    N_("entry.placeholder", "JAN code, or quantity + F5  [F4]"),
    N_("entry.add", "Add"),
    N_("total.label", "Total"),
    N_("total.items", "Items: {count}"),
    N_("tax.line", "incl. {rate}% tax {tax}"),
    N_("btn.plus", "Qty +1  [F2]"),
    N_("btn.minus", "Qty −1  [F3]"),
    N_("btn.qty", "Set qty  [F5]"),
    N_("btn.remove", "Remove line  [Del]"),
    N_("btn.cancel", "Cancel  [Esc]"),
    N_("btn.pay", "Pay  [F12]"),
    N_("btn.next", "Next customer  [Enter]"),
    N_("btn.back", "Back to the basket  [Enter]"),
    N_("qty.prompt", "Quantity for {name}:"),
    N_("scan.added", "Added {name}"),
    N_("scan.busy", "A payment is in progress: finish or cancel it before scanning products."),
    N_(
        "scan.payment_not_now",
        "That is a payment code. Press Pay (F12) first, then show the code again.",
    ),
    N_(
        "scan.payment_busy",
        "A payment code was scanned, but this payment is past that step: finish or cancel it "
        "first.",
    ),
    N_("scan.sign_in_first", "A code was scanned before sign-in: sign in first, then scan again."),
    N_("scan.other", "That code is not a product or payment code; scan the product's barcode."),
    # a scanned or typed product code the till cannot take (by the core error's code)
    N_(
        "scan.error.unknown_product",
        "No product with barcode {code}: key the price in manually or set the item aside.",
    ),
    N_(
        "scan.error.bad_barcode",
        "{code} is not a valid product barcode: scan it again or type it carefully.",
    ),
    N_("scan.error.basket_error", "The basket cannot take this item: {detail}"),
    N_("demo.switches", "Demo switches"),
    N_("demo.network_down", "Till network down (offline acceptance)"),
    N_("demo.camera_off", "Till camera off (use the barcode scanner)"),
    N_(
        "basket.clear_ask",
        "Clear the whole basket ({lines} lines, {total})?  Enter: clear  ·  Esc: keep it",
    ),
    N_("basket.cleared", "Basket cleared."),
    N_("basket.kept", "The basket was kept."),
    N_("basket.pickup", "Pick up later"),
    N_("basket.need_items", "The basket is empty: scan products before taking payment."),
    N_("basket.select", "Select a line first."),
    # payment states
    N_("pay.waiting.title", "Show the payment code"),
    N_(
        "pay.waiting.body",
        "Ask the customer to hold their wallet QR code up to the camera or scanner. Amount: "
        "{amount}",
    ),
    N_("pay.verifying.title", "Verifying…"),
    N_("pay.verifying.body", "Checking the code and the basket. Keep the goods at the counter."),
    N_(
        "pay.verifying.lost",
        "Checking the payment with the server… do not hand over the goods yet.",
    ),
    N_("pay.approved.title", "Approved"),
    N_(
        "pay.approved.body",
        "{amount} paid.\nWallet {wallet}\nAuthorization {auth}\nHand over the goods.",
    ),
    N_("pay.declined.title", "Declined"),
    N_("pay.declined.body", "{text}\nDo not hand over the goods."),
    N_("pay.customer.title", "Customer approval needed"),
    N_(
        "pay.customer.body",
        "Ask the customer to approve on their phone:\n{store} · {amount}\n{seconds} s left",
    ),
    N_("pay.reasons.more", "• and {n} more"),
    N_("pay.manager.title", "Manager approval needed"),
    N_("pay.manager.body", "Call a manager. Rules that fired:"),
    N_(
        "pay.manager.no_override",
        "The account itself looks taken over: only the owner's approval or another payment method "
        "can complete this sale.",
    ),
    N_("pay.manager.pin", "Manager passphrase"),
    N_("pay.manager.reason", "Reason (required)"),
    N_("pay.manager.approve", "Approve as manager"),
    N_("pay.manager.need_reason", "Type the reason for the approval, then enter the manager PIN."),
    N_(
        "pay.manager.wrong",
        "Manager passphrase not accepted ({left} tries left). Ask the manager to enter it again.",
    ),
    N_("pay.offline.title", "Accepted offline"),
    N_(
        "pay.offline.body",
        "{amount} accepted while the backend is unreachable. The sale is queued and will be sent "
        "automatically. Hand over the goods.",
    ),
    N_("pay.cancelled.title", "Payment cancelled"),
    N_(
        "pay.cancelled.body",
        "No money was taken. The basket is still here: take payment again or cancel it.",
    ),
    N_("pay.voided.title", "Sale voided"),
    N_("pay.voided.body", "{amount} goes back to the customer's wallet. Take the goods back."),
    N_("pay.void", "Void sale"),
    N_("pay.void.confirm", "Void as manager"),
    N_("pay.age.title", "Age check (20+)"),
    N_(
        "pay.age.display",
        "Tobacco or alcohol: the customer confirms on the customer display that they are 20 or "
        "older. Amount: {amount}",
    ),
    N_(
        "pay.age.cashier",
        "Tobacco or alcohol, and no customer display: check that the customer is 20 or older (ask "
        "for ID if in doubt), then press F7. Under 20: F8 takes those items out.",
    ),
    N_(
        "pay.age.blocked",
        "Tobacco and alcohol need the customer display at this store, and it is not connected. "
        "Reconnect it, or take those items out (F8).",
    ),
    N_("pay.age.yes", "Checked: 20 or older  [F7]"),
    N_("pay.age.no", "Under 20: take out  [F8]"),
    N_(
        "pay.age.refused",
        "Not confirmed 20 or older. No money was taken; the tobacco and alcohol are out of the "
        "basket.",
    ),
    N_("age.removed", "Taken out (age check): {names}. Press Pay (F12) for the rest."),
    N_("age.removed_all", "Taken out (age check): {names}. Nothing is left to pay."),
    N_("display.lost", "Customer display disconnected. The till goes on without it."),
    N_("display.back", "Customer display connected."),
    N_("pay.idle.title", "Ready"),
    N_("pay.idle.body", "Scan products, then press Pay (F12)."),
    N_("pay.cancel", "Cancel payment  [Esc]"),
    # status bar
    N_("status.online", "Backend online"),
    N_("status.checking", "Backend: checking…"),
    N_("status.trust_checking", "Trust list: checking…"),
    N_("status.offline", "Backend OFFLINE"),
    N_("status.outbox", "Queued: {n}"),
    N_("status.receipts_waiting", "Receipts printing: {n}"),
    N_("status.receipts_fault", "Receipts waiting: {n} ({problem})"),
    N_("printer.paper_out", "printer out of paper: load a roll"),
    N_("printer.cover_open", "printer cover open: close it"),
    N_("printer.unreachable", "printer not reachable: check power and cable"),
    N_("printer.no_answer", "printer does not answer"),
    N_("receipt.reprinted", "Receipt queued for printing again"),
    N_("receipt.nothing_to_reprint", "No sale to reprint yet"),
    N_("receipt.no_printer", "No receipt printer is set up ([printer] url)"),
    N_("status.trust", "Trust list: {age} old"),
    N_("status.trust_none", "Trust list: none"),
    N_("status.trust_stale", "Trust list STALE: {age} old"),
    N_("status.skew", "Clock {skew}"),
    N_("status.skew_unknown", "Clock ?"),
    N_("status.camera", "Camera: {state}"),
    N_("status.cashier", "Cashier: {name}"),
    N_(
        "notice.approved",
        "Earlier sale {amount} ({wallet}) went through after all: the customer has paid",
    ),
    N_(
        "notice.loss",
        "Offline sale {amount} ({wallet}) was not charged ({code}): tell your manager",
    ),
    N_("notice.not_paid", "Earlier sale {amount} ({wallet}) was not paid: {reason}"),
    N_(
        "notice.void_refused",
        "The void of sale {amount} ({wallet}) was refused by the backend: the sale stays paid, "
        "the customer was not refunded. Tell your manager",
    ),
    N_(
        "notice.voided",
        "Earlier sale {amount} ({wallet}) was voided: the customer got the money back",
    ),
    N_("camera.running", "on"),
    N_("camera.unavailable", "LOST"),
    N_("camera.off", "off"),
    N_("camera.starting", "starting"),
    N_(
        "camera.lost_help",
        "Camera not available: {detail} Check its cable; the scanner still works.",
    ),
    N_("camera.none", "No camera. Use the scanner."),
    N_(
        "error.generic",
        "Something went wrong ({what}). Try again; if it happens again, call a manager.",
    ),
    N_(
        "error.backend",
        "The backend cannot be reached: {detail} Try again or take another payment method.",
    ),
    N_("manager.none", "The manager screen is not installed."),
)


class Texts:
    """The current language; ``t`` looks a key up and formats it."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang if lang in LANGUAGES else "en"

    def t(self, key: str, **values: object) -> str:
        return MESSAGES.text(key, self.lang, **values)

    def scan_error(self, error_code: str, code: str, detail: str) -> str:
        """A product code the till cannot take, in the cashier's language. In English,
        and for an error without a translation, the core's own sentence (it says
        exactly what is wrong, e.g. the check digit)."""
        key = f"scan.error.{error_code}"
        if self.lang == "en" or key not in MESSAGES:
            return detail
        return self.t(key, code=code, detail=detail)

    def reason(self, code: str) -> str:
        return cashier_text(code, self.lang)

    @staticmethod
    def money(amount: int, currency: str) -> str:
        return Money(amount, currency).format()


def notice_text(texts: Texts, update: PaymentUpdate) -> str:
    """One line for a sale settled while nobody watched it (``CheckoutPort.notices``)."""
    values = {
        "amount": texts.money(update.total, update.currency),
        "wallet": update.wallet_masked or "—",
    }
    if update.phase is PaymentPhase.VOIDED:
        return texts.t("notice.voided", **values)
    if update.phase in (PaymentPhase.APPROVED, PaymentPhase.OFFLINE_ACCEPTED):
        if update.reason == ReasonCode.VOID_REFUSED:
            return texts.t("notice.void_refused", **values)
        if update.reason:  # an offline sale the backend would not charge
            return texts.t("notice.loss", code=update.reason, **values)
        return texts.t("notice.approved", **values)
    reason = texts.reason(update.reason or "declined").rstrip("。.")
    return texts.t("notice.not_paid", reason=reason, **values)


def all_keys() -> tuple[str, ...]:
    return tuple(MESSAGES)
