"""Tokens and passwords."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from gateway import policy
from gateway.auth import hash_password, issue_token, password_matches, read_token
from shared.principal import Principal
from shared.problems import Problem

SECRET = "s" * 40
WHO = Principal(user="cgd.clerk", org_id=uuid.uuid4(), org_code="กค 0400", roles=("clerk",), clearance="secret")


def test_a_token_carries_the_principal_and_when_its_holder_signed_in():
    read = read_token(issue_token(WHO, SECRET, 5), SECRET)
    assert read.model_copy(update={"signed_in_at": None}) == WHO
    assert abs((datetime.now(UTC) - read.signed_in_at).total_seconds()) < 5


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": datetime.now(UTC) - timedelta(seconds=1)},
        {"aud": "someone-else"},
        {"iss": "someone-else"},
    ],
)
def test_expired_or_foreign_tokens_are_refused(claims):
    good = jwt.decode(issue_token(WHO, SECRET, 5), SECRET, algorithms=["HS256"], audience="sarabun-api")
    with pytest.raises(Problem) as refused:
        read_token(jwt.encode({**good, **claims}, SECRET, algorithm="HS256"), SECRET)
    assert refused.value.status == 401


def test_unsigned_and_wrongly_signed_tokens_are_refused():
    good = jwt.decode(issue_token(WHO, SECRET, 5), SECRET, algorithms=["HS256"], audience="sarabun-api")
    for token in (jwt.encode(good, "x" * 40, algorithm="HS256"), jwt.encode(good, None, algorithm="none")):
        with pytest.raises(Problem):
            read_token(token, SECRET)


def test_passwords_are_argon2_and_checked():
    stored = hash_password("รหัสผ่าน-ยาว")
    assert stored.startswith("$argon2id$")
    assert password_matches(stored, "รหัสผ่าน-ยาว")
    assert not password_matches(stored, "wrong")
    assert not password_matches(None, "anything")


def test_policy_denies_what_it_does_not_name():
    auditor = WHO.model_copy(update={"roles": ("auditor",)})
    assert policy.allowed(WHO, "letter.send") and not policy.allowed(auditor, "letter.send")
    assert policy.allowed(auditor, "audit.history")
    assert not policy.allowed(WHO, "no.such.action")
