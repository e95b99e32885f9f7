"""Alembic migrations of the reference backend (run by pos_app.server.db.upgrade)."""
