"""Who may see what, stated once for every face (API, calendar, feeds, admin, messages).

This package is the ground the apps stand on: it names roles, model labels and field names and
imports no model, so any app may ask it without an arrow running back up.

- ``fields``: the fields of a record that only some roles may see, and ``hidden_fields`` to ask.
- ``privacy``: the one vocabulary no patient message, feed or event title may contain.
"""
