"""station: the issuance flow, its rules, persistence, and the ``idkarta`` command line."""
