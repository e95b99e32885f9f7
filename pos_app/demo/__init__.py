"""The one-command demo: embedded backend, enrolled terminal, seeded wallets, wallet window."""
