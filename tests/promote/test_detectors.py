from __future__ import annotations

import pytest

from agent_backtest.promote.detectors import BUILTIN_DETECTORS, find_all, iban_ok, luhn_ok
from tests.promote.seeded import SEEDS, Seed, planted


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"{s.kind}:{s.secret[:12]}")
def test_every_seeded_secret_is_found_as_its_kind(seed: Seed) -> None:
    text = planted(seed)
    found = [(text[a:b], kind) for a, b, kind in find_all(text, BUILTIN_DETECTORS)]
    assert found == [(seed.secret, seed.kind)]


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-15T12:30:45.123Z",
        "2024-01-15 12:30:45",
        "at 12:30:45 on 15.01.2024",
        "epoch ms 1700000000123 and ns 1758026593210770123",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "trace 3e289017fe03ffd7c4145316d2eb3d0d span ab4111111111111111cd",
        "version 1.2.3.4, ip 192.168.100.200",
        "order ORD-123-456-7890",
        "tokens 4096, 8192, 16384 and count 12345678",
        "user@localhost is not an address",
        "sk-short and sk_test_123",
        "Bearer short",
        "<redacted:email:3f9a2c1d> <redacted:card_number:0a1b2c3d>",
    ],
)
def test_timestamps_ids_and_placeholders_are_not_secrets(text: str) -> None:
    assert find_all(text, BUILTIN_DETECTORS) == []


def test_card_numbers_must_pass_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert find_all("card 4111 1111 1111 1112", BUILTIN_DETECTORS) == []


def test_ibans_must_pass_mod_97() -> None:
    assert iban_ok("DE89370400440532013000")
    assert not iban_ok("DE88370400440532013000")
    assert find_all("pay DE88 3704 0044 0532 0130 00", BUILTIN_DETECTORS) == []


def test_grouped_iban_does_not_swallow_the_next_upper_case_word() -> None:
    text = "IBAN GB82 WEST 1234 5698 7654 32 THEN stop"
    ((start, end, kind),) = find_all(text, BUILTIN_DETECTORS)
    assert (text[start:end], kind) == ("GB82 WEST 1234 5698 7654 32", "iban")


def test_bearer_prefix_is_kept_and_a_vendor_key_wins_over_bearer() -> None:
    key = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0EFgh"
    text = f"Authorization: Bearer {key}"
    ((start, end, kind),) = find_all(text, BUILTIN_DETECTORS)
    assert (text[start:end], kind) == (key, "openai_api_key")


def test_private_key_without_end_marker_is_taken_to_the_end() -> None:
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC (truncated"
    assert find_all(text, BUILTIN_DETECTORS) == [(0, len(text), "private_key")]


def test_aws_secret_needs_its_name_nearby() -> None:
    bare = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKQ"
    assert find_all(f"value {bare}", BUILTIN_DETECTORS) == []
    assert find_all(f'"SecretAccessKey": "{bare}"', BUILTIN_DETECTORS)[0][2] == (
        "aws_secret_access_key"
    )
