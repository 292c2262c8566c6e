"""The audit log: an append-only hash chain per database, signed checkpoints, verification.

Services append in the transaction of the change they record (:func:`append`); a view of a
person's biometric data is appended as an action ``biometrics.view``. ``idkarta audit verify``
(:func:`station.auditlog.verify.verify`) names the first entry changed, removed, inserted or
reordered; checkpoints (:mod:`station.auditlog.checkpoint`) sign the chain's head with the
Center's audit key, so even a chain rewritten from some entry on is caught.
"""

from station.auditlog.chain import (
    GENESIS,
    Actor,
    AuditLogError,
    Entry,
    append,
    entries,
    entry_hash,
    head,
    state_hash,
)

__all__ = [
    "GENESIS",
    "Actor",
    "AuditLogError",
    "Entry",
    "append",
    "entries",
    "entry_hash",
    "head",
    "state_hash",
]
