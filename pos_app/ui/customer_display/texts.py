"""What the customer reads, in Japanese first and English: the customer's words, not the
cashier's (the cashier's strings are in ``pos_app.ui.i18n``). A test checks both languages."""

from __future__ import annotations

from pos_app.terminal.checkout.types import PaymentPhase

LANGUAGES = ("ja", "en")

_T: dict[str, tuple[str, str]] = {
    # (English, Japanese), as in pos_app.ui.i18n
    "title": ("Customer display", "お客様画面"),
    "switch": ("日本語", "English"),
    "welcome.title": ("Welcome", "いらっしゃいませ"),
    "welcome.body": (
        "Your items appear here as they are scanned.",
        "お買い上げ商品をこちらに表示します。",
    ),
    "basket.title": ("Your items", "お買い上げ商品"),
    "basket.body": ("Please wait while we scan your items.", "商品をお読み取りしています。"),
    "col.item": ("Item", "商品"),
    "col.qty": ("Qty", "数量"),
    "col.amount": ("Amount", "金額"),
    "total": ("Total", "合計"),
    "items": ("{count} items", "{count}点"),
    "tax": ("{rate}% items {gross} (tax {tax})", "{rate}%対象 {gross}（内消費税 {tax}）"),
    "age.title": ("Age check", "年齢確認"),
    "age.question": (
        "Your purchase includes alcohol or tobacco.\nAre you 20 or older?",
        "お酒・たばこが含まれています。\nあなたは20歳以上ですか？",
    ),
    "age.yes": ("I am 20 or older", "20歳以上です"),
    "age.no": ("No", "いいえ"),
    "age.staff": (
        "The staff will check your age.",
        "係員が年齢を確認いたします。",
    ),
    "waiting_for_code.title": ("Show your payment code", "支払いコードをかざしてください"),
    "waiting_for_code.body": (
        "Open the payment code in your wallet app and hold it up to the scanner.\n{amount}",
        "ウォレットアプリの支払いコードを表示して、読み取り機にかざしてください。\n{amount}",
    ),
    "verifying.title": ("Checking…", "確認しています…"),
    "verifying.body": ("One moment, please.", "少々お待ちください。"),
    "customer_approval.title": ("Approve on your phone", "スマートフォンで承認してください"),
    "customer_approval.body": (
        "Your wallet app asks you to approve this payment:\n{store} · {amount}\n"
        "{seconds} seconds left",
        "ウォレットアプリに承認のお願いが届いています:\n{store} · {amount}\n残り{seconds}秒",
    ),
    "manager_approval.title": ("One moment, please", "少々お待ちください"),
    "manager_approval.body": (
        "A manager is checking this payment.",
        "責任者がお支払いを確認しています。",
    ),
    "approved.title": ("Paid. Thank you!", "お支払いが完了しました"),
    "approved.body": ("{amount} paid. Thank you very much.", "{amount} ありがとうございました。"),
    "offline_accepted.title": ("Paid. Thank you!", "お支払いが完了しました"),
    "offline_accepted.body": (
        "{amount} accepted. Thank you very much.",
        "{amount} 受け付けました。ありがとうございました。",
    ),
    "declined.title": ("Payment not accepted", "お支払いできませんでした"),
    "declined.body": ("{what}", "{what}"),
    "declined.new_code": (
        "Please open a new payment code in your app and show it again.",
        "アプリで新しい支払いコードを表示して、もう一度かざしてください。",
    ),
    "declined.funds": (
        "The balance is not enough. Please top up your wallet or use another payment method.",
        "残高が不足しています。チャージしていただくか、別のお支払い方法をご利用ください。",
    ),
    "declined.other": (
        "Please use another payment method, or ask the staff.",
        "別のお支払い方法をご利用いただくか、係員にお尋ねください。",
    ),
    "cancelled.title": ("Payment cancelled", "お支払いを取り消しました"),
    "cancelled.body": ("No money was taken.", "代金はいただいておりません。"),
    "age_refused.title": ("We cannot sell these items", "お売りできない商品があります"),
    "age_refused.body": (
        "Alcohol and tobacco are sold only to customers aged 20 or older. They were taken out "
        "of your purchase.",
        "お酒・たばこは20歳以上の方にのみ販売しております。該当商品はお会計から外しました。",
    ),
    "voided.title": ("Payment refunded", "お支払いを取り消しました（返金）"),
    "voided.body": (
        "{amount} goes back to your wallet.",
        "{amount}はウォレットに返金されます。",
    ),
}

# Reasons where a fresh code from the same wallet is the answer.
_NEW_CODE = frozenset({"expired", "replayed", "not_yet_valid", "step_up_expired"})
_FUNDS = frozenset({"insufficient_funds", "limit_exceeded"})


class CustomerTexts:
    def __init__(self, lang: str = "ja") -> None:
        self.lang = lang if lang in LANGUAGES else "ja"

    def t(self, key: str, **values: object) -> str:
        pair = _T.get(key)
        if pair is None:
            return key
        text = pair[1] if self.lang == "ja" else pair[0]
        return text.format(**values) if values else text

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
    return tuple(_T)
