"""The auditors' verification below the CLI: the station's own checks of a document (the Uzbek
issuance rules, :mod:`station.audit.rules`) and batches of dump folders
(:mod:`station.audit.batch`)."""
