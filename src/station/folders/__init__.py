"""The on-disk folders the station works in, and the work done on them, below any front end.

* :mod:`station.folders.pki` — the document PKI folder of ``idkarta pki init`` (CSCA, Document
  Signers, Master List Signer, CRLs, master lists, EF.SOD signing) and its EAC PKI (``cvc/``);
* :mod:`station.folders.esign` — the e-signature CA folder of ``idkarta esign init``;
* :mod:`station.folders.card` — chip data (dump folders, secrets files, chip images) and cards:
  prepare, personalize, read, serve, the holder's PIN;
* :mod:`station.folders.keys` — opening a folder's key store (PKCS#11 token or file key store);
* :mod:`station.folders.staging` — all-or-nothing creation of a key-holding folder.

Nothing here imports a front end (click, :mod:`station.cli`): errors are
:class:`~idcard.errors.IdkartaError` subclasses, and a secret the environment does not give is
asked through an ``ask`` callback the caller passes (the CLI's hidden prompt), never read here
from a terminal. The submodules are imported on use (``idkarta pki`` loads no card code).
"""
