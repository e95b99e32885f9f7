"""Pure domain: money, GTIN barcodes, catalog, basket, sale states, risk rules.

Standard library only (enforced by tests/test_architecture.py).
"""
