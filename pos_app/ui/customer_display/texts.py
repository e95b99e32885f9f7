"""What the customer reads, Japanese first, English switchable: the customer's words, not
the cashier's (``pos_app.ui.i18n``). English here, Japanese in the gettext catalogue."""

from __future__ import annotations

from pos_app.core.i18n import N_, Messages
from pos_app.terminal.checkout.types import PaymentPhase

LANGUAGES = ("ja", "en")  # the order the display offers them: Japanese first

MESSAGES = Messages(
    N_("title", "Customer display"),
    N_("switch", "日本語"),
    N_("welcome.title", "Welcome"),
    N_("welcome.body", "Your items appear here as they are scanned."),
    N_("basket.title", "Your items"),
    N_("basket.body", "Please wait while we scan your items."),
    N_("col.item", "Item"),
    N_("col.qty", "Qty"),
    N_("col.amount", "Amount"),
    N_("total", "Total"),
    N_("items", "{count} items"),
    N_("tax", "Items at {rate}%: {gross} (tax {tax})"),
    N_("age.title", "Age check"),
    N_("age.question", "Your purchase includes alcohol or tobacco.\nAre you 20 or older?"),
    N_("age.yes", "I am 20 or older"),
    N_("age.no", "No"),
    N_("age.staff", "The staff will check your age."),
    N_("waiting_for_code.title", "Show your payment code"),
    N_(
        "waiting_for_code.body",
        "Open the payment code in your wallet app and hold it up to the scanner.\n{amount}",
    ),
    N_("verifying.title", "Checking…"),
    N_("verifying.body", "One moment, please."),
    N_("customer_approval.title", "Approve on your phone"),
    N_(
        "customer_approval.body",
        "Your wallet app asks you to approve this payment:\n{store} · {amount}\n{seconds} seconds "
        "left",
    ),
    N_("manager_approval.title", "One moment, please"),
    N_("manager_approval.body", "A manager is checking this payment."),
    N_("approved.title", "Paid. Thank you!"),
    N_("approved.body", "{amount} paid. Thank you very much."),
    N_("offline_accepted.title", "Paid. Thank you!"),
    N_("offline_accepted.body", "{amount} accepted. Thank you very much."),
    N_("declined.title", "Payment not accepted"),
    N_("declined.body", "{what}"),
    N_("declined.new_code", "Please open a new payment code in your app and show it again."),
    N_(
        "declined.funds",
        "The balance is not enough. Please top up your wallet or use another payment method.",
    ),
    N_("declined.other", "Please use another payment method, or ask the staff."),
    N_("cancelled.title", "Payment cancelled"),
    N_("cancelled.body", "No money was taken."),
    N_("age_refused.title", "We cannot sell these items"),
    N_(
        "age_refused.body",
        "Alcohol and tobacco are sold only to customers aged 20 or older. They were taken out of "
        "your purchase.",
    ),
    N_("voided.title", "Payment refunded"),
    N_("voided.body", "{amount} goes back to your wallet."),
)

# Reasons where a fresh code from the same wallet is the answer.
_NEW_CODE = frozenset({"expired", "replayed", "not_yet_valid", "step_up_expired"})
_FUNDS = frozenset({"insufficient_funds", "limit_exceeded"})


class CustomerTexts:
    def __init__(self, lang: str = "ja") -> None:
        self.lang = lang if lang in LANGUAGES else "ja"

    def t(self, key: str, **values: object) -> str:
        return MESSAGES.text(key, self.lang, **values)

    def declined_help(self, reason: str | None) -> str:
        """What the customer can do next, never the cashier's technical reason."""
        if reason in _NEW_CODE:
            return self.t("declined.new_code")
        if reason in _FUNDS:
            return self.t("declined.funds")
        return self.t("declined.other")

    @staticmethod
    def phase_key(phase: PaymentPhase) -> str:
        return phase.value


def all_keys() -> tuple[str, ...]:
    return tuple(MESSAGES)
