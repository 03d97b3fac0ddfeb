"""The outbox: messages to the AS400 written as its import files (ORDIMP, ORDANN, RTNIMP), at a pace
it can take, and followed until it answers.

``dispatch.py`` holds the mechanism: claiming due messages, the files and their sequence numbers,
the caps, the circuit breaker and the batch window, the follow-up of what the AS400 did not read or
answer, and the *sent hooks* through which the domain learns that its messages left (``orders`` and
``returns`` register theirs at start-up). What a message means to an order, and what staff may do
to one, is the orders app's (``orders.outbox_actions``, ``orders.admin_outbox``).

May import: ``integration.as400``, ``integration.core``, ``integration.alerts``,
``integration.models``. Never a domain app.
"""
