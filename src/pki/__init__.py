"""pki: keys (PKCS#11 HSMs, file key store), certificate authorities and profiles, CRLs, master
lists, EF.SOD signing, e-signature enrollment and PDF signing. May import :mod:`idcard`."""
