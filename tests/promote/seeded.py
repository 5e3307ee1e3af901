"""Seeded secrets of every kind redaction must remove and scan must find.

Each value is format-valid (checksums hold) but fake. ``context`` is how the
value appears in a trace, so detectors that need surrounding words get them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Seed:
    kind: str
    secret: str
    context: str  # a sentence with the secret in it

    @property
    def id(self) -> str:
        return self.kind


_PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)

SEEDS: tuple[Seed, ...] = (
    Seed("openai_api_key", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0EFgh", "key={s}"),
    Seed(
        "openai_api_key", "sk-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1HgFeDcBa0987654321ab", "OPENAI_API_KEY={s}"
    ),
    Seed(
        "anthropic_api_key",
        "sk-ant-api03-Qw3rTy6uIo9pAs2dFg5hJk8lZx1cVb4nM7-_qwertyAA",
        "x-api-key {s}",
    ),
    Seed("aws_access_key_id", "AKIAQ3EGT5HWRM7XJ2PN", "aws_access_key_id = {s}"),
    Seed("aws_access_key_id", "ASIAY34FZKBOKMUTVV7A", "session creds {s} issued"),
    Seed(
        "aws_secret_access_key",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKQ",
        "aws_secret_access_key = {s}",
    ),
    Seed("github_token", "ghp_R8sT2uV5wX8yZ1aB4cD7eF0gH3iJ6kL9mN2p", "token {s}"),
    Seed("github_token", "gho_16C7e42F292c6912E7710c838347Ae178B4a", "oauth={s}"),
    Seed("github_token", "ghs_aB3cD6eF9gH2iJ5kL8mN1oP4qR7sT0uV3wX6", "app {s}"),
    Seed(
        "github_token",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
        "pat: {s}",
    ),
    Seed("google_api_key", "AIzaSyD3fG7hJ9kL1mN5pQ8rS2tU6vW0xY4zA7b", "maps key {s}&q=x"),
    Seed("slack_token", "xoxb-2048613420-4096817307123-Qw3rTy6uIo9pAs2dFg5hJk8l", "slack {s}"),
    Seed("slack_token", "xoxp-1234567890-0987654321-1122334455-abcdef0123", "user token {s}"),
    Seed("stripe_key", "sk_live_51HqJ3kLmN0pQrStUvWxYz0123456789", "stripe {s}"),
    Seed("stripe_key", "rk_live_51HqJ3kLmN0pQrStUvWxYzRestricted9", "restricted {s}"),
    Seed("stripe_key", "pk_live_51HqJ3kLmN0pQrStUvWxYzPublishable", "publishable {s}"),
    Seed("bearer_token", "d8f7a6b5c4e3d2f1a0b9c8d7e6f5a4b3", "Authorization: Bearer {s}"),
    Seed(
        "jwt",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ."
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "session={s}",
    ),
    Seed("private_key", _PEM, "here is the key:\n{s}\nthanks"),
    Seed("email", "jane.doe+billing@example-corp.co.uk", "contact {s} today"),
    Seed("phone", "+14155552671", "call {s}"),
    Seed("phone", "+44 20 7946 0958", "UK office {s}."),
    Seed("phone", "(415) 555-2671", "cell {s}"),
    Seed("phone", "415-555-2671", "cell {s}"),
    Seed("phone", "020 7946 0958", "landline {s}"),
    Seed("card_number", "4111 1111 1111 1111", "card {s} exp 12/29"),
    Seed("card_number", "5500-0000-0000-0004", "mc {s}"),
    Seed("card_number", "378282246310005", "amex {s}"),
    Seed("iban", "DE89 3704 0044 0532 0130 00", "pay to {s} please"),
    Seed("iban", "GB82WEST12345698765432", "iban:{s}"),
)

SEED_KINDS = sorted({seed.kind for seed in SEEDS})


def planted(seed: Seed) -> str:
    return seed.context.format(s=seed.secret)
