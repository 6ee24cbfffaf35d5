"""Token issue and verification: every way a token can be wrong is a TokenInvalid, never a crash."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oppscan.auth import TokenInvalid, VerifiedTokens, issue_token, verify_token
from oppscan.settings import Settings

SECRET = "unit-test-secret-of-at-least-32-bytes!"


@pytest.fixture
def settings() -> Settings:
    return Settings(jwt_secret=SECRET)


def _hs(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def test_issued_token_verifies_to_its_principal(settings: Settings) -> None:
    token = issue_token(settings, "alice", strategies=["b", "a"], tier="pro", ttl_seconds=60)
    who = verify_token(settings, token)
    assert who.user_id == "alice"
    assert who.allowed_strategies == frozenset({"a", "b"})
    assert who.tier == "pro"


def test_absent_claims_mean_every_strategy_and_basic_tier(settings: Settings) -> None:
    who = verify_token(settings, issue_token(settings, "bob"))
    assert who.allowed_strategies is None
    assert who.tier == "basic"


def test_empty_strategy_list_allows_nothing_rather_than_everything(settings: Settings) -> None:
    who = verify_token(settings, issue_token(settings, "bob", strategies=[]))
    assert who.allowed_strategies == frozenset()


def test_expired_token_is_refused(settings: Settings) -> None:
    token = _hs({"sub": "alice", "exp": int(time.time()) - 60})
    with pytest.raises(TokenInvalid, match="expired"):
        verify_token(settings, token)


def test_token_signed_with_another_secret_is_refused(settings: Settings) -> None:
    token = _hs(
        {"sub": "alice", "exp": int(time.time()) + 60}, "another-secret-of-32-bytes-or-more!!"
    )
    with pytest.raises(TokenInvalid, match="signature"):
        verify_token(settings, token)


@pytest.mark.parametrize("missing", ["sub", "exp"])
def test_token_without_a_required_claim_is_refused(settings: Settings, missing: str) -> None:
    claims: dict[str, Any] = {"sub": "alice", "exp": int(time.time()) + 60}
    del claims[missing]
    with pytest.raises(TokenInvalid, match=missing):
        verify_token(settings, _hs(claims))


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "e30.e30.e30"])
def test_malformed_token_is_refused(settings: Settings, garbage: str) -> None:
    with pytest.raises(TokenInvalid):
        verify_token(settings, garbage)


def test_unsigned_token_is_refused(settings: Settings) -> None:
    token = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, "", algorithm="none")
    with pytest.raises(TokenInvalid, match="algorithm"):
        verify_token(settings, token)


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", ""), ("strategies", "a,b"), ("strategies", [1, 2]), ("tier", "platinum")],
)
def test_ill_typed_claims_are_refused(settings: Settings, claim: str, value: object) -> None:
    claims: dict[str, Any] = {"sub": "alice", "exp": int(time.time()) + 60, claim: value}
    with pytest.raises(TokenInvalid):
        verify_token(settings, _hs(claims))


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_rs256_token_verifies_with_the_configured_public_key() -> None:
    private, public = _rsa_pair()
    settings = Settings(jwt_secret=SECRET, jwt_public_key=public)
    token = jwt.encode(
        {"sub": "carol", "exp": int(time.time()) + 60, "tier": "enterprise"},
        private,
        algorithm="RS256",
    )
    who = verify_token(settings, token)
    assert (who.user_id, who.tier) == ("carol", "enterprise")
    # HS256 tokens keep working next to RS256 ones.
    assert verify_token(settings, issue_token(settings, "dave")).user_id == "dave"


def test_rs256_token_is_refused_without_a_public_key(settings: Settings) -> None:
    private, _ = _rsa_pair()
    token = jwt.encode({"sub": "carol", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    with pytest.raises(TokenInvalid, match="algorithm"):
        verify_token(settings, token)


def test_rs256_token_signed_by_another_key_is_refused() -> None:
    _, public = _rsa_pair()
    other_private, _ = _rsa_pair()
    settings = Settings(jwt_secret=SECRET, jwt_public_key=public)
    token = jwt.encode(
        {"sub": "carol", "exp": int(time.time()) + 60}, other_private, algorithm="RS256"
    )
    with pytest.raises(TokenInvalid, match="signature"):
        verify_token(settings, token)


def test_issue_refuses_unknown_tier(settings: Settings) -> None:
    with pytest.raises(ValueError, match="tier"):
        issue_token(settings, "alice", tier="gold")


def test_verified_tokens_remember_a_token_until_it_expires(settings: Settings) -> None:
    tokens = VerifiedTokens(settings, max_entries=2)
    token = issue_token(settings, "alice", ttl_seconds=60)
    assert tokens.verify(token) is tokens.verify(token)  # the second answer is the remembered one
    for user in ("bob", "carol", "dave"):
        assert tokens.verify(issue_token(settings, user)).user_id == user  # bounded, still right
    expired = _hs({"sub": "erin", "exp": int(time.time()) - 60})
    with pytest.raises(TokenInvalid, match="expired"):
        tokens.verify(expired)
    with pytest.raises(TokenInvalid, match="signature"):
        tokens.verify(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))


def test_a_remembered_token_is_refused_once_it_expires(settings: Settings) -> None:
    now = [time.time()]
    tokens = VerifiedTokens(settings, clock=lambda: now[0])
    token = issue_token(settings, "alice", ttl_seconds=60)
    tokens.verify(token)
    now[0] += 3600
    with pytest.raises(TokenInvalid, match="expired"):
        tokens.verify(token)


def test_a_token_valid_longer_than_the_cap_is_refused(settings: Settings) -> None:
    year_3000 = 32_503_680_000
    with pytest.raises(TokenInvalid, match="OPPSCAN_MAX_TOKEN_TTL_SECONDS"):
        verify_token(settings, _hs({"sub": "mallory", "exp": year_3000}))
    with pytest.raises(TokenInvalid, match="OPPSCAN_MAX_TOKEN_TTL_SECONDS"):
        VerifiedTokens(settings).verify(_hs({"sub": "mallory", "exp": year_3000}))
    capped = Settings(jwt_secret=SECRET, max_token_ttl_seconds=3600)
    now = int(time.time())
    assert verify_token(capped, _hs({"sub": "alice", "exp": now + 3600})).user_id == "alice"
    with pytest.raises(TokenInvalid, match="3600"):
        verify_token(capped, _hs({"sub": "alice", "exp": now + 3600 + 60}))


def test_issue_refuses_a_lifetime_above_the_cap() -> None:
    capped = Settings(jwt_secret=SECRET, max_token_ttl_seconds=3600)
    assert verify_token(capped, issue_token(capped, "alice", ttl_seconds=3600)).user_id == "alice"
    with pytest.raises(ValueError, match="OPPSCAN_MAX_TOKEN_TTL_SECONDS"):
        issue_token(capped, "alice", ttl_seconds=3601)
