"""Receipts: invoice content, its renderings (ESC/POS, PNG, PDF), printers, the print queue."""
