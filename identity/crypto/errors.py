class CryptoError(Exception):
    """A signing, verification or key operation failed; the message is safe to show."""


class MasterKeyError(CryptoError):
    """The master key ring is misconfigured or does not hold the key a ciphertext needs."""
