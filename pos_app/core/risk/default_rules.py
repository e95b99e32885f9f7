"""The default risk rule set: a generated copy of config/risk.toml.

Do not edit: change config/risk.toml and run bench/risk_sync_default.py.
"""

DEFAULT_RULES_TOML = """# Risk rules for QR wallet sales (see shared/design/RISK.md).
#
# Built against the 7pay fraud of July 2019: taken-over accounts, codes generated on
# the thief's own phone, loot that resells easily (tobacco cartons, e-cig cartridges,
# gift cards), top-ups spent at once, 7-8 accounts rotated at one till, a 200,000 yen
# "pick up later" order. Thresholds are set for any Japanese convenience-store
# network, from what honest customers buy, not from one sample log:
#   - a pack of cigarettes or heated-tobacco sticks costs 500-700 yen, a carton
#     (10 packs) 5,000-7,000 yen; a pack-a-day smoker needs about one carton a week;
#   - a typical convenience-store basket is 500-1,500 yen; an office ordering
#     30 bento lunches spends 15,000-20,000 yen, all food (not cash-convertible);
#   - gift cards given as presents are usually 1,000-10,000 yen.
#
# How a decision is made (pos_app/core/risk/engine.py):
#   - each rule that fires adds its `weight` to the score and may `force` a minimum
#     action ("none", "customer_approval", "manager_approval", "decline");
#   - `takeover = true` marks an account-takeover signal: then a manager can never
#     stand in for the owner (manager_approval becomes customer_approval, and the
#     decision says manager_may_override = false);
#   - what the owner approved on their phone is remembered per kind of goods: a
#     later basket from the same phone whose easy-to-resell kinds were all in one
#     approved basket, and worth at most `owner_approval_growth` times it, does not
#     trigger the history rules again (`device_owner_approvals`); an approval of
#     cigarettes vouches for cigarettes, never for heated tobacco or gift cards.
#     Takeover signals (issuer flags, a new phone, distant stores, rotation, a
#     refused approval) still count;
#   - the owner's approval on their registered phone (customer_approval) is the
#     cheapest friction for an honest customer and the one step a thief holding a
#     hijacked account cannot pass, so it is the default answer to account risk;
#     decline is kept for hard evidence (a reused code, a frozen wallet).
# Every key of every rule is required; the loader names the rule and the key of any
# bad value. Money is yen (integers); times are seconds.

[policy]
# Score at which the owner must approve: two independent medium signals
# (e.g. weak account protection 25 + bulk quantity 20 + an old code 15), never one
# weak signal alone.
customer_approval_score = 50
# Score at which the sale is declined outright: out of reach on purpose (all
# weights together stay far below it). A sale is declined only on hard evidence
# (a reused code, a frozen wallet: `force = "decline"`); wherever the owner's
# approval can decide, the owner is asked. A thief cannot pass the phone's user
# verification, so asking stops the fraud as surely as declining, and an honest
# customer whose sale trips many rules is never turned away.
decline_score = 10000
# A tobacco-family unit priced at or above this is a carton (or multi-pack); a
# single pack is at most about 700 yen, a carton at least about 4,500 yen.
carton_min_unit_price = 3000
# Goods that resell for cash (RISK.md signals). Same list as
# pos_app.core.categories.CASH_CONVERTIBLE; kept here so an analyst can try a change.
cash_convertible = ["tobacco", "heated_tobacco", "e_cig", "gift_card", "alcohol", "electronics"]
# Of those, goods that resell only at a steep discount: a bottle of whisky or a
# mobile battery fetches about half its price second-hand, while cigarettes,
# cartridges and gift cards fetch nearly all of theirs (7pay's loot). They count for
# this percentage of their price wherever a rule speaks of "easy-to-resell" value:
# a party's 8,000 yen of drinks weighs like 4,000 yen of cigarettes.
discounted_resale = ["alcohol", "electronics"]
discounted_resale_percent = 50
# Categories counted as cartons and in a store's tobacco spike.
tobacco_family = ["tobacco", "heated_tobacco", "e_cig"]
# The owner's approval on a phone vouches there for baskets of the same kinds of
# easy-to-resell goods up to twice its value (and for a day's such spend up to
# twice it): a smoker whose first carton was approved may buy two the next week, the
# usual step from one carton to a fortnight's supply; three times the approval is
# asked again. A thief holding the phone gains from it only baskets of the kinds the
# owner approved there, at most twice as large; a new kind is asked as before.
owner_approval_growth = 2.0

[windows]
# Wallets presented at one till: the 7pay pair rotated 7-8 accounts within minutes;
# 30 minutes covers a rotation without mixing in the whole day's customers.
terminal_wallets_s = 1800
# Declines at one till: someone trying account after account does so within minutes.
terminal_declines_s = 600
# A wallet's own history: 35 days, so a weekly or fortnightly habit (a carton
# every week) is remembered and not mistaken for something new.
wallet_history_s = 3024000
# A top-up is "recent" for at most a day (the rule itself looks at 30 minutes).
topup_memory_s = 86400
# A store's usual hourly tobacco sales are measured over the last 7 days.
store_baseline_s = 604800

[regions]
# Japan's regional blocks (ISO 3166-2:JP codes). Two stores in different blocks
# are "distant": nobody pays in Tokyo and in Osaka (2.5 h by Shinkansen) within
# one hour. Neighbouring prefectures in the same block are not distant.
hokkaido = ["JP-01"]
tohoku = ["JP-02", "JP-03", "JP-04", "JP-05", "JP-06", "JP-07"]
kanto = ["JP-08", "JP-09", "JP-10", "JP-11", "JP-12", "JP-13", "JP-14"]
chubu = ["JP-15", "JP-16", "JP-17", "JP-18", "JP-19", "JP-20", "JP-21", "JP-22", "JP-23"]
kansai = ["JP-24", "JP-25", "JP-26", "JP-27", "JP-28", "JP-29", "JP-30"]
chugoku = ["JP-31", "JP-32", "JP-33", "JP-34", "JP-35"]
shikoku = ["JP-36", "JP-37", "JP-38", "JP-39"]
kyushu_okinawa = ["JP-40", "JP-41", "JP-42", "JP-43", "JP-44", "JP-45", "JP-46", "JP-47"]

# ---------------------------------------------------------------- hard evidence

[rules.token_reused]
# Backend only: a PT1 code is single use; a second redemption is a copy.
enabled = true
weight = 100
force = "decline"
takeover = true

[rules.wallet_frozen]
# Backend only: the network froze the wallet or revoked its device.
enabled = true
weight = 100
force = "decline"
takeover = true

[rules.unknown_token_flags]
# PT1 section 2: an unknown flag bit means "online authorization required". It adds
# a little score; offline it sends the sale online (engine rule).
enabled = true
weight = 10
force = "none"
takeover = false

# ---------------------------------------------------------------- the account

[rules.takeover_token_flags]
# The issuer attests a new device bound (< 72 h), a credential reset (< 72 h) or a
# code requested outside the account's home region: the 7pay thieves reset
# passwords and minted codes on their own phones, mostly from abroad. Harmless on
# its own (a new phone buying lunch, a traveller buying a 4,000 yen mobile battery),
# so it needs a carton's worth (5,000 yen) of easy-to-resell goods in the basket;
# smaller repeated buys are caught by the wallet's 24 h history.
enabled = true
flags = ["new_device", "credential_reset", "overseas"]
min_cash_convertible = 5000
weight = 40
force = "customer_approval"
takeover = true

[rules.weak_account_flags]
# A new account (< 30 days) or a code minted without PIN/biometrics is weaker but
# common among honest customers: score only, and only with about a carton
# (5,000 yen) of easy-to-resell goods.
enabled = true
flags = ["new_account", "no_user_verification"]
min_cash_convertible = 5000
weight = 25
force = "none"
takeover = false

[rules.cash_convertible_above_history]
# Backend: the wallet's easy-to-resell spend today (this basket + the last 24 h)
# reaches 10,000 yen (two cartons, a carton and a bottle, a gift-card present) and
# is more than 1.5x the largest such purchase the wallet made earlier in its 35-day
# history. Goods of a kind the wallet never bought (every kind, for a new or a
# dormant wallet) are asked about from 2,000 yen by `category_new_for_wallet`, so
# this rule is about amounts of the goods the wallet already buys: a smoker who
# buys packs may buy a carton of them, and a regular's weekly carton matches
# history and passes. A hijacked account suddenly buying cartons is exactly 7pay,
# so the owner must approve and a manager cannot stand in. A basket with less
# than 1,000 yen of such goods (a pack or two) never asks, whatever the day's total.
enabled = true
min_basket_cash_convertible = 1000
floor = 10000
growth_factor = 1.5
weight = 30
force = "customer_approval"
takeover = true

[rules.wallet_repeat_cash_convertible]
# Backend: easy-to-resell purchases split over several visits in 24 h
# (3,000 yen before, 8,000 yen with this basket: more than a carton plus packs).
# Splitting keeps each basket small; it is a signal, not proof. A basket with under
# 1,000 yen of such goods (a pack or two) does not count.
enabled = true
min_basket_cash_convertible = 1000
min_prior_24h = 3000
min_combined_24h = 8000
weight = 20
force = "none"
takeover = false

[rules.wallet_weekly_cash_convertible]
# Backend: 40,000 yen of easy-to-resell goods in 7 days is about seven cartons, a
# month or more of a heavy smoker's supply; resale, not consumption. A basket with
# under 1,000 yen of such goods (a pack or two) does not count.
enabled = true
min_basket_cash_convertible = 1000
min_combined_7d = 40000
weight = 30
force = "customer_approval"
takeover = false

[rules.wallet_spend_spike]
# Backend: a basket of 10,000+ yen with easy-to-resell goods that is over 10x
# the wallet's own median sale (needs 3+ earlier sales).
enabled = true
min_total = 10000
factor = 10.0
weight = 20
force = "none"
takeover = false

[rules.topup_then_spend]
# Backend: 7pay's loop was "top up 100,000 yen, buy, repeat". Fires when, within
# 30 minutes of a top-up, the basket spends 80%+ of it with 10,000+ yen of
# easy-to-resell goods (more than a carton and a half). Honest customers also
# top up at the till, hence the cash-convertible floor.
enabled = true
within_s = 1800
min_share_of_topup = 0.8
min_cash_convertible = 10000
weight = 30
force = "customer_approval"
takeover = true

[rules.distant_stores_1h]
# Backend: the same wallet paid in another regional block within the hour; one
# person cannot be there, so the account is being used by someone else. Small
# baskets (under 3,000 yen) are left alone.
enabled = true
min_total = 3000
weight = 40
force = "customer_approval"
takeover = true

[rules.device_new_for_wallet]
# Backend: the wallet has paid before, always from other phones, and now a new
# phone buys 3,000+ yen of easy-to-resell goods.
enabled = true
min_cash_convertible = 3000
weight = 30
force = "customer_approval"
takeover = true

[rules.store_new_for_wallet]
# Backend: the wallet has paid at least twice before, never at this store, and now
# buys more than a pack or two (2,000+ yen: about four packs, a gift card) of
# easy-to-resell goods here; a pack or two on the way somewhere is ordinary. A thief
# holding the owner's own phone shops where the owner never does; an owner trying
# a new store approves once on their phone, and that approval is remembered for
# similar baskets from the same phone.
enabled = true
min_cash_convertible = 2000
min_history_sales = 2
weight = 50
force = "customer_approval"
takeover = true

[rules.category_new_for_wallet]
# Backend: the basket holds 2,000+ yen (about four packs, a gift card) of goods
# that resell at nearly their full price, of a kind the wallet never bought in its
# 35-day history; for a new or a dormant wallet (nothing paid in that window)
# every kind is new, so its first such purchase asks from 2,000 yen. A thief
# holding the account buys the loot he can sell, not the owner's habits: cartons
# or cartridges of a kind the owner never smoked, gift cards the owner never
# bought, on the owner's own phone and at the owner's store. An honest first
# payment of that much loot is rare; the owner trying something new approves once
# on their phone, and that approval is remembered for similar baskets from the
# same phone. Discounted-resale goods (alcohol, electronics) are not listed: a
# party's first drinks are not loot (their amounts are the history rules' job).
enabled = true
categories = ["tobacco", "heated_tobacco", "e_cig", "gift_card"]
min_new_value = 2000
weight = 50
force = "customer_approval"
takeover = true

[rules.owner_approval_refused]
# Backend: a payment from this wallet was held for the owner's approval within the
# last 72 hours and the owner never approved it (denied it, let it expire, or the
# sale was cancelled while waiting). Someone other than the owner may be using the
# account: every basket with a pack or two's worth (1,000+ yen) of easy-to-resell
# goods asks the owner again, even from the owner's usual phone and store. 72 hours
# is the span the issuer itself gives a new device or a credential reset (PT1
# flags); by then an owner who was asked for a payment they never made has had the
# account secured, and the wallet's history rules still apply.
enabled = true
within_s = 259200
min_cash_convertible = 1000
weight = 50
force = "customer_approval"
takeover = true

# ---------------------------------------------------------------- the till

[rules.wallet_rotation_at_terminal]
# Terminal: two other wallets bought 10,000+ yen of easy-to-resell goods at this
# till in the last 30 minutes and this one does too: three such baskets at one
# till in half an hour is the 7pay rotation (7-8 accounts, one buyer), rare for
# honest customers.
enabled = true
min_other_wallets = 2
min_cash_convertible = 10000
weight = 40
force = "customer_approval"
takeover = true

[rules.terminal_recent_declines]
# Terminal: two declines at this till in 10 minutes, then 3,000+ yen of
# easy-to-resell goods: someone may be trying account after account.
enabled = true
min_declines = 2
min_cash_convertible = 3000
weight = 20
force = "none"
takeover = false

# ---------------------------------------------------------------- the basket

[rules.bulk_cash_convertible]
# Three or more cartons (three weeks of a pack a day), or 15+ identical units of
# one easy-to-resell item: bulk, the way loot is bought. Score only.
enabled = true
min_cartons = 3
min_identical_units = 15
weight = 20
force = "none"
takeover = false

[rules.large_cash_convertible_basket]
# 30,000+ yen of easy-to-resell goods in one basket (five cartons): the manager
# looks at it; if the account also looks taken over, the owner must approve.
enabled = true
min_cash_convertible = 30000
weight = 30
force = "manager_approval"
takeover = false

[rules.large_basket]
# 100,000+ yen in one basket is far above any convenience-store purchase (even 100
# bento lunches are about 60,000 yen); the 7pay thieves reached 100,000 per basket.
enabled = true
min_total = 100000
weight = 30
force = "manager_approval"
takeover = false

[rules.pickup_later_cash_convertible]
# "Pick up later" with 10,000+ yen of easy-to-resell goods: the goods leave later
# with whoever shows up (7pay: 200,000 yen of cartridges). Food orders (an office
# lunch) are not concerned.
enabled = true
min_cash_convertible = 10000
weight = 40
force = "manager_approval"
takeover = false

[rules.old_token]
# A code lives at most 300 s and is usually shown seconds after it is made; one
# shown after 2 minutes may have been relayed from another phone. Score only, with
# a carton's worth (5,000 yen) of easy-to-resell goods.
enabled = true
max_age_s = 120
min_cash_convertible = 5000
weight = 15
force = "none"
takeover = false

[rules.store_tobacco_spike]
# Backend: the store sold 50,000+ yen of tobacco by wallet in the last hour, over
# 5x its usual hourly rate (needs a day of history), and this basket adds a
# carton's worth (5,000 yen): a store being farmed. Score only: the customer in
# front of the till may be innocent.
enabled = true
factor = 5.0
min_store_1h = 50000
min_basket_tobacco = 5000
weight = 20
force = "none"
takeover = false

# ---------------------------------------------------------------- offline

[rules.offline_cash_convertible]
# Offline, nobody can check the wallet's history or reach the owner, so only small
# easy-to-resell amounts (3,000 yen: a few packs or a couple of drinks) are
# accepted offline; above it the sale must go online.
enabled = true
max_offline_cash_convertible = 3000
weight = 0
force = "customer_approval"
takeover = false

[rules.offline_trust_list_old]
# Offline with a key list older than 48 h (next update every 24 h plus 24 h of
# grace, PT1 section 3): revoked issuer keys may be missing, so no offline sale.
enabled = true
max_age_s = 172800
weight = 0
force = "customer_approval"
takeover = false
"""
