"""Use cases of the till: settings, local store, backend client, checkout. No Qt."""
