"""The till's hash-chained audit log, its CLI and its push to the backend."""
