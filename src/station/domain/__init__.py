"""The issuance domain: grounds, documents, persons, deadlines, card statuses, PINFL generation.

Pure rules of `shared/domain.md` (its sources: the issuance scheme in
`shared/seeds/id-card-issuance-scheme.uz.txt`, the decree of 19 January 2026): no I/O, no
database, no HTTP. The services (`station.center`, `station.point`) apply them; every rule cites
its clause.
"""
