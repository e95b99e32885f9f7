"""Reference backend: ASGI app, database, issuer, redemption, step-up and reviews.

Kept thin on purpose: importing this package must not import FastAPI or SQLAlchemy.
"""
