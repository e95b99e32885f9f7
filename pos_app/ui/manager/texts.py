"""Manager-facing words: English here, Japanese in the gettext catalogue
(:mod:`pos_app.core.i18n`); the tests check every message has its translation.

``t(key, lang, **values)`` formats the sentence.
"""

from __future__ import annotations

import re

from pos_app.core.categories import CATEGORY_WORDS
from pos_app.core.i18n import N_, Messages

TEXTS = Messages(
    # sign-in
    N_("title", "Manager review"),
    N_("signin_heading", "Manager sign-in"),
    N_("signin_hint", "The cashier's session stays open. Enter your manager ID and passphrase."),
    N_("manager_id", "Manager ID"),
    N_("pin", "Passphrase"),
    N_("sign_in", "Sign in"),
    N_("sign_out", "Sign out"),
    N_("wrong_pin", "Wrong ID or passphrase. Attempts left: {left}"),
    N_("locked", "Locked. Try again in {seconds} s."),
    N_("signed_in_as", "Signed in: {manager}"),
    # tabs and toolbar
    N_("tab_queue", "Review queue"),
    N_("tab_report", "Shift report"),
    N_("tab_chart", "Flags, last 7 days"),
    N_("sync", "Sync with backend"),
    N_("export_csv", "Export CSV…"),
    N_(
        "sync_done",
        "Synced: {sent} decisions sent, {pending} waiting. {listed} flagged sales from the store.",
    ),
    N_(
        "sync_failed",
        "Backend not reachable; decisions are kept here and sent later ({pending} waiting). "
        "{error}",
    ),
    N_("no_backend", "Working offline: no backend configured."),
    N_("pending_sync", "{pending} decisions waiting to be sent"),
    N_("pending_sync_one", "1 decision waiting to be sent"),
    N_("technical", "Technical details"),
    N_("fact_exp", "code valid until"),
    N_("fact_iat", "code made at"),
    N_("fact_limit", "code's spending limit"),
    N_("show_technical", "Show technical details"),
    N_("hide_technical", "Hide technical details"),
    N_("record_hint", "Ctrl+Enter records, Tab moves on"),
    N_("exported", "Saved {path}"),
    # filters
    N_("status", "Status"),
    N_("reason", "Reason"),
    N_("cashier", "Cashier"),
    N_("from", "From"),
    N_("to", "To"),
    N_("min_amount", "Min ¥"),
    N_("max_amount", "Max ¥"),
    N_("all", "All"),
    N_("any_amount", "any"),
    N_("reset", "Reset filters"),
    N_("status_open", "Open"),
    N_("status_escalated", "Escalated"),
    N_("status_approved", "Approved"),
    N_("status_rejected", "Rejected"),
    N_("status_confirmed_fraud", "Confirmed fraud"),
    # queue columns
    N_("col_time", "Time"),
    N_("col_sale", "Sale"),
    N_("col_cashier", "Cashier"),
    N_("col_total", "Total"),
    N_("col_risk", "Risk"),
    N_("col_reasons", "Why flagged"),
    N_("col_status", "Status"),
    N_("col_taken", "Taken by"),
    N_("empty_queue", "No flagged sales match these filters."),
    N_("select_sale", "Select a sale to see its evidence."),
    # detail
    N_("sale", "Sale"),
    N_("state", "Sale state"),
    N_("review_status", "Review"),
    N_("why", "Why it was flagged"),
    N_("network_added", "the payment network asked for more: {reasons}"),
    N_("declined_because", "Payment declined: {reason}"),
    N_("inputs", "inputs"),
    N_("rules_version", "Rule set {version}"),
    N_("basket", "Basket"),
    N_("item", "Item"),
    N_("category", "Category"),
    N_("qty", "Qty"),
    N_("unit", "Unit"),
    N_("line_total", "Amount"),
    N_("no_lines", "Basket lines are on the terminal that made the sale ({terminal})."),
    N_("token", "Payment code"),
    N_("wallet", "Wallet"),
    N_("flags", "Flags"),
    N_("no_flags", "none"),
    N_("age", "Code age"),
    N_("seconds", "{n} s"),
    N_("mode", "Accepted"),
    N_("online", "online"),
    N_("offline", "OFFLINE"),
    N_("terminal", "Terminal"),
    N_("other_terminal", "(another till of this store)"),
    N_("steps", "Steps"),
    N_("till_actions", "Manager actions at the till"),
    N_("age_check", "Age check (20+)"),
    N_("age_confirmed", "20 or older: confirmed"),
    N_("age_refused", "Not confirmed: tobacco and alcohol removed"),
    N_("age_customer_display", "by the customer on the customer display"),
    N_("age_cashier_visual", "by cashier {who} after a visual check (no customer display)"),
    N_("manager_approval", "approved at the till"),
    N_("void", "voided"),
    N_("void_refused", "void refused by the backend: not refunded"),
    N_("history", "Review decisions"),
    N_("no_history", "No decision yet."),
    N_("queued", "waiting to be sent"),
    N_("sent", "sent"),
    N_("taken_by", "Being reviewed by {manager} since {time}"),
    # decisions
    N_("approve", "Approve"),
    N_("reject", "Reject"),
    N_("escalate", "Escalate"),
    N_("confirmed_fraud", "Confirmed fraud"),
    N_("decision_title", "{decision}: sale {sale}"),
    N_("note", "Note (required): what you checked and why"),
    N_("note_too_short", "Write at least {n} characters."),
    N_(
        "fraud_warning",
        "This freezes the customer's wallet at the payment network. Use it only when the owner or "
        "the evidence confirms the payment was not theirs.",
    ),
    N_("ok", "Record decision"),
    N_("cancel", "Cancel"),
    N_("claimed_by_other", "{manager} is reviewing this sale (since {time})."),
    N_("decided", "{decision} recorded for {sale}."),
    # shift report
    N_("show_x", "Show X report"),
    N_("close_z", "Close shift (Z)…"),
    N_("confirm_z", "Close the shift now? The totals are frozen in the audit log."),
    N_("save_pdf", "Save PDF…"),
    N_("print_report", "Print"),
    N_("reprint", "Reprint receipt"),
    N_("reprint_queued", "Receipt of {sale} sent to the printer"),
    N_("report_queued", "Report sent to the printer"),
    N_("print_failed", "Not printed: {why}"),
    N_("x_report", "X report (shift so far)"),
    N_("z_report", "Z report (shift closed)"),
    N_("period", "Period"),
    N_("store", "Store"),
    N_("printed", "Printed"),
    N_("sales", "Sales"),
    N_("count", "Count"),
    N_("value", "Value"),
    N_("wallet_paid", "Wallet-paid (confirmed)"),
    N_("declined", "Declined"),
    N_("flagged", "Flagged"),
    N_("flagged_by_reason", "Flagged by reason"),
    N_("approvals_by_manager", "Approvals at the till by manager"),
    N_("voids", "Voids"),
    N_("offline_sales", "Offline sales"),
    N_("offline_losses", "Offline losses"),
    N_("decisions", "Review decisions"),
    N_("none", "none"),
    # chart
    N_("chart_title", "Flagged sales per hour, last 7 days ({total} in all)"),
    N_("chart_reasons", "By reason"),
    N_("chart_empty", "No flagged sales in the last 7 days."),
    N_("list_separator", ", "),
)

FLAG_TEXTS = Messages(
    N_("new_device", "new device"),
    N_("credential_reset", "password recently reset"),
    N_("overseas", "overseas"),
    N_("new_account", "new account"),
    N_("no_user_verification", "no user verification"),
)


# Sale states, risk outcomes and product categories as a manager says them.
WORDS = Messages(
    N_("state_approved", "paid"),
    N_("state_declined", "declined"),
    N_("state_step_up", "waiting for the owner's approval"),
    N_("state_authorizing", "being authorized"),
    N_("state_awaiting_payment", "waiting for the code"),
    N_("state_open", "waiting for the age check"),
    N_("state_voided", "voided"),
    N_("state_cancelled", "cancelled"),
    N_("action_allow", "allowed"),
    N_("action_customer_approval", "owner must approve"),
    N_("action_manager_approval", "manager must approve"),
    N_("action_decline", "decline"),
    *CATEGORY_WORDS,
)


def word(kind: str, value: str, lang: str) -> str:
    """A state, risk action or category in words; unknown values are shown as they are."""
    key = f"{kind}_{value}"
    return WORDS.text(key, lang) if key in WORDS else value


def t(key: str, lang: str, **values: object) -> str:
    return TEXTS.text(key, lang, **values)


def flag_text(flag: str, lang: str) -> str:
    return FLAG_TEXTS.text(flag, lang)


# Short labels for the queue and the chart; the detail pane shows the full sentences.
REASON_LABELS = Messages(
    N_("token_reused", "code used twice"),
    N_("wallet_frozen", "wallet frozen"),
    N_("unknown_token_flags", "unknown code flags"),
    N_("takeover_token_flags", "account takeover signs"),
    N_("weak_account_flags", "weakly protected account"),
    N_("cash_convertible_above_history", "resale goods above history"),
    N_("wallet_repeat_cash_convertible", "repeat resale goods"),
    N_("wallet_weekly_cash_convertible", "resale goods this week"),
    N_("wallet_spend_spike", "spend spike"),
    N_("topup_then_spend", "top-up then spend"),
    N_("distant_stores_1h", "distant stores in 1 h"),
    N_("device_new_for_wallet", "new phone for wallet"),
    N_("store_new_for_wallet", "new store for wallet"),
    N_("category_new_for_wallet", "new kind of goods for wallet"),
    N_("owner_approval_refused", "owner refused before"),
    N_("wallet_rotation_at_terminal", "wallets rotated at till"),
    N_("terminal_recent_declines", "recent declines at till"),
    N_("bulk_cash_convertible", "bulk resale goods"),
    N_("large_cash_convertible_basket", "large resale-goods basket"),
    N_("large_basket", "large basket"),
    N_("pickup_later_cash_convertible", "pick up later"),
    N_("old_token", "old code"),
    N_("store_tobacco_spike", "store tobacco spike"),
    N_("offline_cash_convertible", "offline resale goods"),
    N_("offline_trust_list_old", "old key list offline"),
    N_("offline_loss", "OFFLINE LOSS"),
    N_("risk_declined", "declined by risk"),
    N_("insufficient_funds", "insufficient funds"),
    N_("step_up_denied", "owner denied"),
    N_("step_up_expired", "owner did not answer"),
    N_("token_already_used", "code already used"),
    N_("limit_exceeded", "limit exceeded"),
    N_("device_revoked", "device revoked"),
)


def reason_label(code: str, lang: str) -> str:
    """A short label; a decline code without one gets the first clause of the
    cashier's sentence for it (in the manager's language, never a raw code in Japanese)."""
    if code not in REASON_LABELS:
        from pos_app.paytoken.reasons import cashier_text

        text = cashier_text(code, lang)
        clause = re.split(r"[。.:：]", text, maxsplit=1)[0].strip()
        return clause or code.replace("_", " ")
    return REASON_LABELS.text(code, lang)
