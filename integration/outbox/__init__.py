"""The outbox: messages to the AS400 written as its import files (ORDIMP, ORDANN, RTNIMP), at a pace
it can take, and followed until it answers.

``dispatch.py`` holds the mechanism: claiming due messages, the files and their sequence numbers,
the caps, the circuit breaker and the batch window, the follow-up of what the AS400 did not read or
answer, and the *sent hooks* through which the domain learns that its messages left (``orders`` and
``returns`` register theirs at start-up). What a message means to an order, and what staff may do
to one, is the orders app's (``orders.outbox_actions``, ``orders.admin_outbox``). A message names
what it is about by an opaque ``subject`` (the app that writes it puts its order's id there), never
by a relation: the outbox compares subjects and nothing more. The record builders an app registers
(``records_register``) take a file's messages at once, so that they read what those are about in
one query.

May import: ``integration.as400``, ``integration.core``, ``integration.alerts``,
``integration.models``. Never a domain app.
"""
