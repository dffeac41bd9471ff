"""The only code that imports didkit or touches private keys.

Everything else in the project signs and verifies through `identity.crypto.didkit_adapter` and
creates, encrypts and decrypts keys through `identity.crypto.keys` / `identity.crypto.encryption`.
"""
