"""pos-app: point-of-sale checkout for QR wallet payments."""

__version__ = "0.1.0"
