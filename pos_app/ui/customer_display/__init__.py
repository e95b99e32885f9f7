"""The customer-facing display: a second window the customer reads (and answers the age
check on), driven only by the cashier window's signals."""
