"""Background work: the outbox, the trust list and the loop that drives them."""
