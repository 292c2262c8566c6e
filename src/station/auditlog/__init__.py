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
    record_view,
    state_hash,
)
from station.auditlog.checkpoint import Checkpoint, checkpoint, take_checkpoint, verify_checkpoint
from station.auditlog.verify import ChainReport, CheckpointCheck, Problem, verify, verify_chain

__all__ = [
    "GENESIS",
    "Actor",
    "AuditLogError",
    "ChainReport",
    "Checkpoint",
    "CheckpointCheck",
    "Entry",
    "Problem",
    "append",
    "checkpoint",
    "entries",
    "entry_hash",
    "head",
    "record_view",
    "state_hash",
    "take_checkpoint",
    "verify",
    "verify_chain",
    "verify_checkpoint",
]
