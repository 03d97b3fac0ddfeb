"""The connector's own tables: the webhook inbox, the outgoing calls, the access token."""
