"""Talking to the backend: the signed HTTP client, the terminal's credentials, enrollment."""
