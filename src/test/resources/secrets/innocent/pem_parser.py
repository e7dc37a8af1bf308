"""Loads keys; names the PEM headers it understands but holds no key."""
import re

PRIVATE_HEADERS = (
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
)
PEM_RE = re.compile(r"-----BEGIN (RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----\s+([A-Za-z0-9+/=\s]+)-----END")


def is_private(text: str) -> bool:
    return any(text.startswith(h) for h in PRIVATE_HEADERS)


EXAMPLE_IN_DOCS = """
-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA...(truncated)...
-----END RSA PRIVATE KEY-----
"""
