"""The till's settings: declared schema, layered loader, ``pos-app config``."""
