"""Manager-facing words in English and Japanese (one place, so both stay complete).

``t(key, lang, **values)`` formats the sentence; a missing key is a bug the
tests catch (every key has both languages).
"""

from __future__ import annotations

import re

TEXTS: dict[str, tuple[str, str]] = {
    # sign-in
    "title": ("Manager review", "店長レビュー"),
    "signin_heading": ("Manager sign-in", "店長サインイン"),
    "signin_hint": (
        "The cashier's session stays open. Enter your manager ID and passphrase.",
        "レジ担当者のセッションはそのままです。店長IDとパスフレーズを入力してください。",
    ),
    "manager_id": ("Manager ID", "店長ID"),
    "pin": ("Passphrase", "パスフレーズ"),
    "sign_in": ("Sign in", "サインイン"),
    "sign_out": ("Sign out", "サインアウト"),
    "wrong_pin": (
        "Wrong ID or passphrase. Attempts left: {left}",
        "IDまたはパスフレーズが違います。残り {left} 回",
    ),
    "locked": (
        "Locked. Try again in {seconds} s.",
        "ロック中です。{seconds} 秒後に再試行してください。",
    ),
    "signed_in_as": ("Signed in: {manager}", "サインイン中: {manager}"),
    # tabs and toolbar
    "tab_queue": ("Review queue", "レビュー待ち"),
    "tab_report": ("Shift report", "精算レポート"),
    "tab_chart": ("Flags, last 7 days", "過去7日間の要確認"),
    "sync": ("Sync with backend", "本部と同期"),
    "export_csv": ("Export CSV…", "CSV出力…"),
    "sync_done": (
        "Synced: {sent} decisions sent, {pending} waiting. {listed} flagged sales from the store.",
        "同期完了: 判定 {sent} 件送信、{pending} 件待ち。店舗の要確認 {listed} 件。",
    ),
    "sync_failed": (
        "Backend not reachable; decisions are kept here and sent later "
        "({pending} waiting). {error}",
        "本部に接続できません。判定はこの端末に保存され、後で送信されます"
        "（{pending} 件待ち）。{error}",
    ),
    "no_backend": (
        "Working offline: no backend configured.",
        "オフライン: 本部が設定されていません。",
    ),
    "pending_sync": ("{pending} decisions waiting to be sent", "未送信の判定 {pending} 件"),
    "pending_sync_one": ("1 decision waiting to be sent", "未送信の判定 1 件"),
    "technical": ("Technical details", "技術情報"),
    "fact_exp": ("code valid until", "コードの有効期限"),
    "fact_iat": ("code made at", "コードの発行時刻"),
    "fact_limit": ("code's spending limit", "コードの上限額"),
    "show_technical": ("Show technical details", "技術情報を表示"),
    "hide_technical": ("Hide technical details", "技術情報を隠す"),
    "record_hint": ("Ctrl+Enter records, Tab moves on", "Ctrl+Enterで記録、Tabで次へ"),
    "exported": ("Saved {path}", "保存しました: {path}"),
    # filters
    "status": ("Status", "状態"),
    "reason": ("Reason", "理由"),
    "cashier": ("Cashier", "レジ担当"),
    "from": ("From", "開始"),
    "to": ("To", "終了"),
    "min_amount": ("Min ¥", "下限 ¥"),
    "max_amount": ("Max ¥", "上限 ¥"),
    "all": ("All", "すべて"),
    "any_amount": ("any", "指定なし"),
    "reset": ("Reset filters", "条件をリセット"),
    "status_open": ("Open", "未対応"),
    "status_escalated": ("Escalated", "本部へ報告"),
    "status_approved": ("Approved", "承認"),
    "status_rejected": ("Rejected", "却下"),
    "status_confirmed_fraud": ("Confirmed fraud", "不正確定"),
    # queue columns
    "col_time": ("Time", "日時"),
    "col_sale": ("Sale", "取引"),
    "col_cashier": ("Cashier", "担当"),
    "col_total": ("Total", "合計"),
    "col_risk": ("Risk", "リスク"),
    "col_reasons": ("Why flagged", "理由"),
    "col_status": ("Status", "状態"),
    "col_taken": ("Taken by", "確認中の店長"),
    "empty_queue": ("No flagged sales match these filters.", "条件に合う要確認取引はありません。"),
    "select_sale": ("Select a sale to see its evidence.", "取引を選ぶと詳細が表示されます。"),
    # detail
    "sale": ("Sale", "取引"),
    "state": ("Sale state", "取引の状態"),
    "review_status": ("Review", "レビュー"),
    "why": ("Why it was flagged", "要確認の理由"),
    "network_added": (
        "the payment network asked for more: {reasons}",
        "決済ネットワークの追加判定: {reasons}",
    ),
    "declined_because": ("Payment declined: {reason}", "支払い拒否: {reason}"),
    "inputs": ("inputs", "根拠"),
    "rules_version": ("Rule set {version}", "ルール {version}"),
    "basket": ("Basket", "商品"),
    "item": ("Item", "商品"),
    "category": ("Category", "分類"),
    "qty": ("Qty", "数量"),
    "unit": ("Unit", "単価"),
    "line_total": ("Amount", "金額"),
    "no_lines": (
        "Basket lines are on the terminal that made the sale ({terminal}).",
        "商品明細は販売した端末（{terminal}）にあります。",
    ),
    "token": ("Payment code", "支払いコード"),
    "wallet": ("Wallet", "ウォレット"),
    "flags": ("Flags", "フラグ"),
    "no_flags": ("none", "なし"),
    "age": ("Code age", "コード経過時間"),
    "seconds": ("{n} s", "{n} 秒"),
    "mode": ("Accepted", "受付"),
    "online": ("online", "オンライン"),
    "offline": ("OFFLINE", "オフライン"),
    "terminal": ("Terminal", "端末"),
    "other_terminal": ("(another till of this store)", "（この店舗の別の端末）"),
    "steps": ("Steps", "経過"),
    "till_actions": ("Manager actions at the till", "レジでの店長操作"),
    "age_check": ("Age check (20+)", "年齢確認（20歳以上）"),
    "age_confirmed": ("20 or older: confirmed", "20歳以上: 確認済み"),
    "age_refused": ("Not confirmed: tobacco and alcohol removed", "確認できず: 酒・たばこを除外"),
    "age_customer_display": (
        "by the customer on the customer display",
        "お客様がお客様画面で回答",
    ),
    "age_cashier_visual": (
        "by cashier {who} after a visual check (no customer display)",
        "担当者 {who} が目視で確認（お客様画面なし）",
    ),
    "manager_approval": ("approved at the till", "レジで承認"),
    "void": ("voided", "取消"),
    "void_refused": ("void refused by the backend: not refunded", "取消が拒否（返金なし）"),
    "history": ("Review decisions", "レビュー判定の履歴"),
    "no_history": ("No decision yet.", "まだ判定はありません。"),
    "queued": ("waiting to be sent", "送信待ち"),
    "sent": ("sent", "送信済み"),
    "taken_by": ("Being reviewed by {manager} since {time}", "{manager} が {time} から確認中"),
    # decisions
    "approve": ("Approve", "承認"),
    "reject": ("Reject", "却下"),
    "escalate": ("Escalate", "本部へ報告"),
    "confirmed_fraud": ("Confirmed fraud", "不正確定"),
    "decision_title": ("{decision}: sale {sale}", "{decision}: 取引 {sale}"),
    "note": ("Note (required): what you checked and why", "メモ（必須）: 確認した内容と理由"),
    "note_too_short": ("Write at least {n} characters.", "{n} 文字以上入力してください。"),
    "fraud_warning": (
        "This freezes the customer's wallet at the payment network. Use it only when the "
        "owner or the evidence confirms the payment was not theirs.",
        "お客様のウォレットが決済ネットワークで凍結されます。本人の申告や証拠で、"
        "本人の支払いでないことが確認できた場合のみ使用してください。",
    ),
    "ok": ("Record decision", "判定を記録"),
    "cancel": ("Cancel", "キャンセル"),
    "claimed_by_other": (
        "{manager} is reviewing this sale (since {time}).",
        "{manager} がこの取引を確認中です（{time} から）。",
    ),
    "decided": ("{decision} recorded for {sale}.", "{sale} を「{decision}」として記録しました。"),
    # shift report
    "show_x": ("Show X report", "Xレポート表示"),
    "close_z": ("Close shift (Z)…", "締め（Z）…"),
    "confirm_z": (
        "Close the shift now? The totals are frozen in the audit log.",
        "シフトを締めますか？合計は監査ログに記録されます。",
    ),
    "save_pdf": ("Save PDF…", "PDF保存…"),
    "print_report": ("Print", "印刷"),
    "reprint": ("Reprint receipt", "レシート再印刷"),
    "reprint_queued": ("Receipt of {sale} sent to the printer", "{sale} のレシートを印刷します"),
    "report_queued": ("Report sent to the printer", "レポートを印刷します"),
    "print_failed": ("Not printed: {why}", "印刷できません: {why}"),
    "x_report": ("X report (shift so far)", "Xレポート（途中集計）"),
    "z_report": ("Z report (shift closed)", "Zレポート（締め）"),
    "period": ("Period", "期間"),
    "store": ("Store", "店舗"),
    "printed": ("Printed", "出力日時"),
    "sales": ("Sales", "売上"),
    "count": ("Count", "件数"),
    "value": ("Value", "金額"),
    "wallet_paid": ("Wallet-paid (confirmed)", "ウォレット決済（確定）"),
    "declined": ("Declined", "拒否"),
    "flagged": ("Flagged", "要確認"),
    "flagged_by_reason": ("Flagged by reason", "理由別の要確認"),
    "approvals_by_manager": ("Approvals at the till by manager", "店長別のレジ承認"),
    "voids": ("Voids", "取消"),
    "offline_sales": ("Offline sales", "オフライン売上"),
    "offline_losses": ("Offline losses", "オフライン損失"),
    "decisions": ("Review decisions", "レビュー判定"),
    "none": ("none", "なし"),
    # chart
    "chart_title": (
        "Flagged sales per hour, last 7 days ({total} in all)",
        "1時間ごとの要確認取引（過去7日間、計 {total} 件）",
    ),
    "chart_reasons": ("By reason", "理由別"),
    "chart_empty": ("No flagged sales in the last 7 days.", "過去7日間に要確認取引はありません。"),
}

FLAG_TEXTS: dict[str, tuple[str, str]] = {
    "new_device": ("new device", "新しい端末"),
    "credential_reset": ("password recently reset", "パスワード等の変更"),
    "overseas": ("overseas", "海外からの利用"),
    "new_account": ("new account", "新規アカウント"),
    "no_user_verification": ("no user verification", "本人確認なし"),
}


# Sale states, risk outcomes and product categories as a manager says them.
WORDS: dict[str, tuple[str, str]] = {
    "state_approved": ("paid", "支払い済み"),
    "state_declined": ("declined", "拒否"),
    "state_step_up": ("waiting for the owner's approval", "本人の承認待ち"),
    "state_authorizing": ("being authorized", "承認処理中"),
    "state_awaiting_payment": ("waiting for the code", "コード待ち"),
    "state_open": ("waiting for the age check", "年齢確認待ち"),
    "state_voided": ("voided", "取消済み"),
    "state_cancelled": ("cancelled", "中止"),
    "action_allow": ("allowed", "許可"),
    "action_customer_approval": ("owner must approve", "本人承認が必要"),
    "action_manager_approval": ("manager must approve", "店長承認が必要"),
    "action_decline": ("decline", "拒否"),
    "category_tobacco": ("tobacco", "たばこ"),
    "category_heated_tobacco": ("heated tobacco", "加熱式たばこ"),
    "category_e_cig": ("e-cigarette", "電子たばこ"),
    "category_gift_card": ("gift / prepaid card", "ギフト・プリペイドカード"),
    "category_alcohol": ("alcohol", "酒類"),
    "category_electronics": ("electronics", "電子機器"),
    "category_food": ("food", "食品"),
    "category_beverage": ("beverage", "飲料"),
    "category_household": ("household", "日用品"),
    "category_other": ("other", "その他"),
}


def word(kind: str, value: str, lang: str) -> str:
    """A state, risk action or category in words; unknown values are shown as they are."""
    en, ja = WORDS.get(f"{kind}_{value}", (value, value))
    return ja if lang == "ja" else en


def t(key: str, lang: str, **values: object) -> str:
    en, ja = TEXTS[key]
    text = ja if lang == "ja" else en
    return text.format(**values) if values else text


def flag_text(flag: str, lang: str) -> str:
    en, ja = FLAG_TEXTS.get(flag, (flag, flag))
    return ja if lang == "ja" else en


# Short labels for the queue and the chart; the detail pane shows the full sentences.
REASON_LABELS: dict[str, tuple[str, str]] = {
    "token_reused": ("code used twice", "コード再使用"),
    "wallet_frozen": ("wallet frozen", "ウォレット凍結"),
    "unknown_token_flags": ("unknown code flags", "不明なフラグ"),
    "takeover_token_flags": ("account takeover signs", "乗っ取りの兆候"),
    "weak_account_flags": ("weakly protected account", "保護が弱いアカウント"),
    "cash_convertible_above_history": ("resale goods above history", "換金性商品が通常超"),
    "wallet_repeat_cash_convertible": ("repeat resale goods", "換金性商品の繰り返し"),
    "wallet_weekly_cash_convertible": ("resale goods this week", "今週の換金性商品"),
    "wallet_spend_spike": ("spend spike", "支出の急増"),
    "topup_then_spend": ("top-up then spend", "チャージ直後の利用"),
    "distant_stores_1h": ("distant stores in 1 h", "1時間内に遠方店舗"),
    "device_new_for_wallet": ("new phone for wallet", "新しいスマホ"),
    "store_new_for_wallet": ("new store for wallet", "初めての店舗"),
    "owner_approval_refused": ("owner refused before", "本人が以前に未承認"),
    "wallet_rotation_at_terminal": ("wallets rotated at till", "ウォレット使い回し"),
    "terminal_recent_declines": ("recent declines at till", "直近の拒否"),
    "bulk_cash_convertible": ("bulk resale goods", "換金性商品の大量購入"),
    "large_cash_convertible_basket": ("large resale-goods basket", "換金性商品が高額"),
    "large_basket": ("large basket", "高額な購入"),
    "pickup_later_cash_convertible": ("pick up later", "後で受け取り"),
    "old_token": ("old code", "古いコード"),
    "store_tobacco_spike": ("store tobacco spike", "店舗のたばこ急増"),
    "offline_cash_convertible": ("offline resale goods", "オフライン換金性商品"),
    "offline_trust_list_old": ("old key list offline", "鍵リストが古い"),
    "offline_loss": ("OFFLINE LOSS", "オフライン損失"),
    "risk_declined": ("declined by risk", "リスクで拒否"),
    "insufficient_funds": ("insufficient funds", "残高不足"),
    "step_up_denied": ("owner denied", "本人が拒否"),
    "step_up_expired": ("owner did not answer", "本人の応答なし"),
    "token_already_used": ("code already used", "使用済みコード"),
    "limit_exceeded": ("limit exceeded", "上限超過"),
    "device_revoked": ("device revoked", "端末無効"),
}


def reason_label(code: str, lang: str) -> str:
    """A short label; a decline code without one gets the first clause of the
    cashier's sentence for it (in the manager's language, never a raw code in Japanese)."""
    found = REASON_LABELS.get(code)
    if found is None:
        from pos_app.paytoken.reasons import cashier_text

        text = cashier_text(code, "ja" if lang == "ja" else "en")
        clause = re.split(r"[。.:：]", text, maxsplit=1)[0].strip()
        return clause or code.replace("_", " ")
    en, ja = found
    return ja if lang == "ja" else en
