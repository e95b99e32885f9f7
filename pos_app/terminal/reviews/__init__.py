"""Manager review of flagged sales: queue, claims, backend client, detail, export, sync."""
