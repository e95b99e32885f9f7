"""The till's local SQLite database: connection, migrations, sales repository."""
