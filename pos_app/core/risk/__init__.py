"""Risk engine: rules from config/risk.toml, one engine for the terminal and the backend.

Public surface (import from the submodules; this file stays thin):

- ``model``: SaleFacts, SaleLine, RiskContext, Decision, Reason, Action, TokenFlag
- ``config``: load_rules(path), parse_rules(text), default_rules(), RuleSet
- ``engine``: RiskEngine(rules).decide(facts, ctx) -> Decision
- ``velocity``: VelocityTracker (backend features), TerminalTracker (till features)
- ``explain``: explain(facts, decision, ctx) -> str
- ``backtest``: Backtest, Replay, find_sale
"""
