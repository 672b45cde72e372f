"""Who may see what, stated once for every face (API, calendar, feeds, admin, messages).

This package is the ground the apps stand on: it names roles, model labels and field names and
imports no model (only ``ketaminecare.roles``, Django's ``Q`` and typing), so any app and every
face may ask it without an arrow running back up. Each table fits in one screen:

- ``labels``: the model labels every table is keyed by, in one place.
- ``records``: ``SCOPES``, which rows of each record a role sees (all, none, or its own through a
  relation path); ask ``scope_q(user, label)`` for the queryset filter.
- ``operations``: ``OPERATIONS``, which roles may call each API operation; ask
  ``may(user, "resource.action")``. ``RESOURCE_RECORDS`` names the record each resource reads.
- ``fields``: the private fields of a record and who sees them; ask ``hidden_fields(user, label)``.
- ``admin_rights``: view/add/change/delete per record and staff role; ``roles_ensure`` derives the
  Django group permissions from it, and ``admin_may(user, label, right)`` answers directly.
- ``events``: which calendar events each role sees and whether only its own;
  ``calendar_scopes(user)`` and ``calendar_owner_paths(user, kind)``.
- ``privacy``: the one vocabulary no patient message, feed or event title may contain.
"""
