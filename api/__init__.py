"""The REST API: a face over every app, one package per family of resources.

Each view validates its input, asks one service or selector, and serializes the answer; who may
call it is the access policy's operations table (``ketaminecare.access``), which rows it sees is
the selectors'. The API's shared base (the one exception handler, the permission class, parsers,
pagination, schema helpers) is at the ground, in ``ketaminecare.api``.
"""
