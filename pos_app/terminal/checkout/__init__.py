"""The checkout use case: the sale service, its payment flow, state and values."""
