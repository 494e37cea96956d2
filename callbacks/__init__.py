"""Callbacks, one module per view: read inputs -> call :mod:`dashboard` -> shape outputs.

Importing this package registers every ``@callback`` (they are module-level, so each is also a
plain function a test can call).
"""

from callbacks import crowd, ops, risk, wall  # noqa: F401  (imported for their @callback registrations)
