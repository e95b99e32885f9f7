"""Every user-visible string of the cashier UI, in English and Japanese.

A plain dict keeps translations reviewable in one place (no Qt Linguist step).
``Texts.t(key, **values)`` formats with ``str.format``; a missing key shows the
key itself rather than crashing, and a test checks both languages have every key.
"""

from __future__ import annotations

from pos_app.core.money import Money
from pos_app.paytoken.reasons import VOID_REFUSED, cashier_text
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate

LANGUAGES = ("en", "ja")

_T: dict[str, tuple[str, str]] = {
    "app.title": ("pos-app checkout", "pos-app レジ"),
    # kiosk: the till cannot start (a settings or start-up error, shown full screen)
    "fatal.title": (
        "This till cannot start / このレジは起動できません",
        "このレジは起動できません / This till cannot start",
    ),
    "fatal.next": (
        "Cashiers: use another till and call store IT. Store IT: fix what the line above "
        "says, then restart the till (systemctl --user restart pos-app-kiosk).",
        "担当者: 別のレジを使い、店舗ITに連絡してください。店舗IT: 上の行の内容を直してから"
        "レジを再起動してください (systemctl --user restart pos-app-kiosk)。",
    ),
    # sign-in
    "signin.title": ("Sign in", "サインイン"),
    "signin.user": ("Cashier ID", "担当者ID"),
    "signin.pin": ("PIN", "暗証番号"),
    "signin.button": ("Sign in  [Enter]", "サインイン  [Enter]"),
    "signin.checking": ("Checking the PIN…", "暗証番号を確認しています…"),
    "signin.wrong": (
        "Wrong PIN. {left} tries left before sign-in locks.",
        "暗証番号が違います。あと{left}回間違えるとロックされます。",
    ),
    "signin.locked": (
        "Too many wrong PINs. Sign-in is locked for {seconds} s; ask a manager if you "
        "forgot your PIN.",
        "暗証番号の誤りが多すぎます。{seconds}秒間ロックされています。暗証番号を忘れた場合は"
        "店長に連絡してください。",
    ),
    "signin.no_accounts": (
        "No cashier accounts on this till yet: ask store IT to run 'pos-app cashier add ID NAME'.",
        "このレジには担当者アカウントがありません。店舗ITに'pos-app cashier add ID 名前'の"
        "実行を依頼してください。",
    ),
    "signin.empty": ("Enter your cashier ID and PIN.", "担当者IDと暗証番号を入力してください。"),
    # header and basket
    "header.cashier": ("Cashier: {name}", "担当: {name}"),
    "header.signout": ("Sign out", "サインアウト"),
    "header.manager": ("Manager  [Ctrl+M]", "店長メニュー  [Ctrl+M]"),
    "header.language": ("日本語  [F9]", "English  [F9]"),
    "header.contrast": ("High contrast", "ハイコントラスト"),
    "col.name": ("Item", "商品"),
    "col.qty": ("Qty", "数量"),
    "col.price": ("Price", "単価"),
    "col.total": ("Line total", "小計"),
    "basket.empty": (
        "Scan a product with the scanner or the camera, or type its JAN code below.",
        "スキャナーかカメラで商品を読み取るか、下にJANコードを入力してください。",
    ),
    "entry.placeholder": ("JAN code, or quantity + F5  [F4]", "JANコード、または数量+F5  [F4]"),
    "entry.add": ("Add", "追加"),
    "total.label": ("Total", "合計"),
    "total.items": ("Items: {count}", "{count}点"),
    "tax.line": ("{rate}% incl. tax {tax}", "{rate}%対象 内税 {tax}"),
    "btn.plus": ("Qty +1  [F2]", "数量 +1  [F2]"),
    "btn.minus": ("Qty −1  [F3]", "数量 −1  [F3]"),
    "btn.qty": ("Set qty  [F5]", "数量指定  [F5]"),
    "btn.remove": ("Remove line  [Del]", "行を削除  [Del]"),
    "btn.cancel": ("Cancel  [Esc]", "取消  [Esc]"),
    "btn.pay": ("Pay  [F12]", "支払い  [F12]"),
    "btn.next": ("Next customer  [Enter]", "次のお客様  [Enter]"),
    "btn.back": ("Back to the basket  [Enter]", "商品一覧に戻る  [Enter]"),
    "qty.prompt": ("Quantity for {name}:", "{name}の数量:"),
    "scan.added": ("Added {name}", "{name}を追加しました"),
    "scan.busy": (
        "A payment is in progress: finish or cancel it before scanning products.",
        "支払い中です。商品を読み取る前に支払いを完了するか取り消してください。",
    ),
    "scan.payment_not_now": (
        "That is a payment code. Press Pay (F12) first, then show the code again.",
        "これは支払いコードです。先に支払い(F12)を押してから、もう一度かざしてください。",
    ),
    "scan.payment_busy": (
        "A payment code was scanned, but this payment is past that step: finish or cancel it "
        "first.",
        "支払いコードを読み取りましたが、この支払いはその段階を過ぎています。先に完了するか"
        "取り消してください。",
    ),
    "scan.sign_in_first": (
        "A code was scanned before sign-in: sign in first, then scan again.",
        "サインイン前にコードが読み取られました。サインインしてから、もう一度読み取ってください。",
    ),
    "scan.other": (
        "That code is not a product or payment code; scan the product's barcode.",
        "商品または支払いのコードではありません。商品のバーコードを読み取ってください。",
    ),
    "demo.switches": ("Demo switches", "デモ用スイッチ"),
    "demo.network_down": (
        "Till network down (offline acceptance)",
        "レジのネットワークを切断(オフライン承認)",
    ),
    "demo.camera_off": (
        "Till camera off (use the barcode scanner)",
        "レジのカメラをオフ(バーコードスキャナーを使用)",
    ),
    "basket.clear_ask": (
        "Clear the whole basket ({lines} lines, {total})?  Enter: clear  ·  Esc: keep it",
        "商品一覧をすべて消去しますか({lines}行、{total})?  Enter: 消去  ・  Esc: 残す",
    ),
    "basket.cleared": ("Basket cleared.", "商品一覧を消去しました。"),
    "basket.kept": ("The basket was kept.", "商品一覧はそのままです。"),
    "basket.pickup": ("Pick up later", "後日受け取り"),
    "basket.need_items": (
        "The basket is empty: scan products before taking payment.",
        "商品がありません。支払いの前に商品を読み取ってください。",
    ),
    "basket.select": ("Select a line first.", "先に行を選択してください。"),
    # payment states
    "pay.waiting.title": ("Show the payment code", "支払いコードをかざしてください"),
    "pay.waiting.body": (
        "Ask the customer to hold their wallet QR code up to the camera or scanner. "
        "Amount: {amount}",
        "お客様にウォレットのQRコードをカメラかスキャナーにかざしていただいてください。"
        "金額: {amount}",
    ),
    "pay.verifying.title": ("Verifying…", "確認中…"),
    "pay.verifying.body": (
        "Checking the code and the basket. Keep the goods at the counter.",
        "コードと商品を確認しています。商品はカウンターに置いたままにしてください。",
    ),
    "pay.verifying.lost": (
        "Checking the payment with the server… do not hand over the goods yet.",
        "サーバーで支払いを確認しています… まだ商品はお渡ししないでください。",
    ),
    "pay.approved.title": ("Approved", "承認されました"),
    "pay.approved.body": (
        "{amount} paid.\nWallet {wallet}\nAuthorization {auth}\nHand over the goods.",
        "{amount}のお支払いが完了しました。\nウォレット {wallet}\n承認番号 {auth}\n"
        "商品をお渡しください。",
    ),
    "pay.declined.title": ("Declined", "お支払いできません"),
    "pay.declined.body": (
        "{text}\nDo not hand over the goods.",
        "{text}\n商品はお渡ししないでください。",
    ),
    "pay.customer.title": ("Customer approval needed", "お客様の承認が必要です"),
    "pay.customer.body": (
        "Ask the customer to approve on their phone:\n{store} · {amount}\n{seconds} s left",
        "お客様にスマートフォンで承認していただいてください:\n{store} · {amount}\n残り{seconds}秒",
    ),
    "pay.reasons.more": ("• and {n} more", "• ほか{n}件"),
    "pay.manager.title": ("Manager approval needed", "店長の承認が必要です"),
    "pay.manager.body": (
        "Call a manager. Rules that fired:",
        "店長を呼んでください。該当したルール:",
    ),
    "pay.manager.no_override": (
        "The account itself looks taken over: only the owner's approval or another payment "
        "method can complete this sale.",
        "アカウント自体が乗っ取られている可能性があります。所有者の承認か別のお支払い方法が必要です。",
    ),
    "pay.manager.pin": ("Manager passphrase", "店長のパスフレーズ"),
    "pay.manager.reason": ("Reason (required)", "理由（必須）"),
    "pay.manager.approve": ("Approve as manager", "店長として承認"),
    "pay.manager.need_reason": (
        "Type the reason for the approval, then enter the manager PIN.",
        "承認の理由を入力してから、店長の暗証番号を入力してください。",
    ),
    "pay.manager.wrong": (
        "Manager passphrase not accepted ({left} tries left). Ask the manager to enter it again.",
        "店長のパスフレーズが違います（残り{left}回）。もう一度入力していただいてください。",
    ),
    "pay.offline.title": ("Accepted offline", "オフラインで受付"),
    "pay.offline.body": (
        "{amount} accepted while the backend is unreachable. The sale is queued and will be "
        "sent automatically. Hand over the goods.",
        "{amount}をオフラインで受け付けました。取引は保存され、接続が戻ると自動で送信されます。"
        "商品をお渡しください。",
    ),
    "pay.cancelled.title": ("Payment cancelled", "支払いを取り消しました"),
    "pay.cancelled.body": (
        "No money was taken. The basket is still here: take payment again or cancel it.",
        "代金はいただいていません。商品はそのままです。再度支払うか取り消してください。",
    ),
    "pay.voided.title": ("Sale voided", "取引を取り消しました（返金）"),
    "pay.voided.body": (
        "{amount} goes back to the customer's wallet. Take the goods back.",
        "{amount}はお客様のウォレットに返金されます。商品をお返しいただいてください。",
    ),
    "pay.void": ("Void sale", "取引を取り消す"),
    "pay.void.confirm": ("Void as manager", "店長として取り消す"),
    "pay.age.title": ("Age check (20+)", "年齢確認（20歳以上）"),
    "pay.age.display": (
        "Tobacco or alcohol: the customer confirms on the customer display that they are 20 "
        "or older. Amount: {amount}",
        "お酒・たばこがあります。お客様画面で20歳以上であることをご確認いただいてください。"
        "金額: {amount}",
    ),
    "pay.age.cashier": (
        "Tobacco or alcohol, and no customer display: check that the customer is 20 or older "
        "(ask for ID if in doubt), then press F7. Under 20: F8 takes those items out.",
        "お酒・たばこがあり、お客様画面がありません。20歳以上であることを確認し"
        "（迷ったら身分証を確認）、F7を押してください。20歳未満ならF8で該当商品を外します。",
    ),
    "pay.age.blocked": (
        "Tobacco and alcohol need the customer display at this store, and it is not connected. "
        "Reconnect it, or take those items out (F8).",
        "この店舗ではお酒・たばこの販売にお客様画面が必要ですが、接続されていません。"
        "接続し直すか、該当商品を外してください（F8）。",
    ),
    "pay.age.yes": ("Checked: 20 or older  [F7]", "20歳以上を確認  [F7]"),
    "pay.age.no": ("Under 20: take out  [F8]", "20歳未満: 商品を外す  [F8]"),
    "pay.age.refused": (
        "Not confirmed 20 or older. No money was taken; the tobacco and alcohol are out of the "
        "basket.",
        "20歳以上の確認ができませんでした。代金はいただいていません。お酒・たばこは商品一覧から"
        "外しました。",
    ),
    "age.removed": (
        "Taken out (age check): {names}. Press Pay (F12) for the rest.",
        "年齢確認のため外しました: {names}。残りの商品は支払い(F12)でお会計してください。",
    ),
    "age.removed_all": (
        "Taken out (age check): {names}. Nothing is left to pay.",
        "年齢確認のため外しました: {names}。お会計する商品はありません。",
    ),
    "display.lost": (
        "Customer display disconnected. The till goes on without it.",
        "お客様画面が切断されました。レジはそのまま使えます。",
    ),
    "display.back": ("Customer display connected.", "お客様画面が接続されました。"),
    "pay.idle.title": ("Ready", "準備完了"),
    "pay.idle.body": (
        "Scan products, then press Pay (F12).",
        "商品を読み取り、支払い(F12)を押してください。",
    ),
    "pay.cancel": ("Cancel payment  [Esc]", "支払いを取消  [Esc]"),
    # status bar
    "status.online": ("Backend online", "サーバー接続中"),
    "status.checking": ("Backend: checking…", "サーバー: 確認中…"),
    "status.trust_checking": ("Trust list: checking…", "信頼リスト: 確認中…"),
    "status.offline": ("Backend OFFLINE", "サーバー未接続"),
    "status.outbox": ("Queued: {n}", "送信待ち: {n}"),
    "status.receipts_waiting": ("Receipts printing: {n}", "レシート印刷待ち: {n}"),
    "status.receipts_fault": (
        "Receipts waiting: {n} ({problem})",
        "レシート印刷待ち: {n}（{problem}）",
    ),
    "printer.paper_out": (
        "printer out of paper: load a roll",
        "用紙切れ: ロール紙を補充してください",
    ),
    "printer.cover_open": ("printer cover open: close it", "プリンターのカバーが開いています"),
    "printer.unreachable": (
        "printer not reachable: check power and cable",
        "プリンターに接続できません: 電源とケーブルを確認",
    ),
    "printer.no_answer": ("printer does not answer", "プリンターが応答しません"),
    "receipt.reprinted": ("Receipt queued for printing again", "レシートを再印刷します"),
    "receipt.nothing_to_reprint": ("No sale to reprint yet", "再印刷できる取引がありません"),
    "receipt.no_printer": (
        "No receipt printer is set up ([printer] url)",
        "レシートプリンターが設定されていません",
    ),
    "status.trust": ("Trust list: {age} old", "信頼リスト: {age}前"),
    "status.trust_none": ("Trust list: none", "信頼リスト: なし"),
    "status.trust_stale": ("Trust list STALE: {age} old", "信頼リスト期限切れ: {age}前"),
    "status.skew": ("Clock {skew}", "時刻差 {skew}"),
    "status.skew_unknown": ("Clock ?", "時刻差 ?"),
    "status.camera": ("Camera: {state}", "カメラ: {state}"),
    "status.cashier": ("Cashier: {name}", "担当: {name}"),
    "notice.approved": (
        "Earlier sale {amount} ({wallet}) went through after all: the customer has paid",
        "先ほどのお会計 {amount}（{wallet}）は最終的に承認されました。お支払い済みです",
    ),
    "notice.loss": (
        "Offline sale {amount} ({wallet}) was not charged ({code}): tell your manager",
        "オフラインのお会計 {amount}（{wallet}）は請求されませんでした（{code}）。"
        "店長に伝えてください",
    ),
    "notice.not_paid": (
        "Earlier sale {amount} ({wallet}) was not paid: {reason}",
        "先ほどのお会計 {amount}（{wallet}）は支払われていません: {reason}",
    ),
    "notice.void_refused": (
        "The void of sale {amount} ({wallet}) was refused by the backend: the sale stays paid, "
        "the customer was not refunded. Tell your manager",
        "お会計 {amount}（{wallet}）の取消はサーバーに拒否されました。お支払いは有効のままで、"
        "返金されていません。店長に伝えてください",
    ),
    "notice.voided": (
        "Earlier sale {amount} ({wallet}) was voided: the customer got the money back",
        "先ほどのお会計 {amount}（{wallet}）は取り消され、返金されました",
    ),
    "camera.running": ("on", "動作中"),
    "camera.unavailable": ("LOST", "接続なし"),
    "camera.off": ("off", "オフ"),
    "camera.starting": ("starting", "起動中"),
    "camera.lost_help": (
        "Camera not available: {detail} Check its cable; the scanner still works.",
        "カメラが使えません: {detail} ケーブルを確認してください。スキャナーは使えます。",
    ),
    "camera.none": ("No camera. Use the scanner.", "カメラなし。スキャナーを使ってください。"),
    "error.generic": (
        "Something went wrong ({what}). Try again; if it happens again, call a manager.",
        "問題が発生しました（{what}）。もう一度お試しください。繰り返す場合は店長を呼んでください。",
    ),
    "error.backend": (
        "The backend cannot be reached: {detail} Try again or take another payment method.",
        "サーバーに接続できません: {detail} 再度お試しいただくか、"
        "別のお支払い方法をお願いしてください。",
    ),
    "manager.none": (
        "The manager screen is not installed.",
        "店長画面はインストールされていません。",
    ),
}


class Texts:
    """The current language; ``t`` looks a key up and formats it."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang if lang in LANGUAGES else "en"

    def t(self, key: str, **values: object) -> str:
        pair = _T.get(key)
        if pair is None:
            return key
        text = pair[1] if self.lang == "ja" else pair[0]
        return text.format(**values) if values else text

    def reason(self, code: str) -> str:
        return cashier_text(code, "ja" if self.lang == "ja" else "en")

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
        if update.reason == VOID_REFUSED:
            return texts.t("notice.void_refused", **values)
        if update.reason:  # an offline sale the backend would not charge
            return texts.t("notice.loss", code=update.reason, **values)
        return texts.t("notice.approved", **values)
    reason = texts.reason(update.reason or "declined").rstrip("。.")
    return texts.t("notice.not_paid", reason=reason, **values)


def all_keys() -> tuple[str, ...]:
    return tuple(_T)
