"""The principal crosses from the gateway to the services in a signed token: what it carries, old and new."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from shared.principal import ALGORITHM, AUDIENCE, ISSUER, Principal, internal_token, read_internal_token

SECRET = "s" * 32
CGD = uuid.uuid4()


def test_the_registry_of_a_unit_keeping_no_registers_travels_in_the_token():
    section = Principal(
        user="cgd.sec", org_id=uuid.uuid4(), org_code="กค 0401", registry_org_id=CGD, registry_code="กค 0400"
    )
    read = read_internal_token(internal_token(section, SECRET), SECRET)
    assert (read.registry_org_id, read.registry_code) == (CGD, "กค 0400")
    assert (read.register_org_id, read.letter_code) == (CGD, "กค 0400")


def test_a_unit_keeping_its_own_registers_numbers_in_them_and_its_token_is_as_before():
    own = Principal(user="cgd.clerk", org_id=CGD, org_code="กค 0400")
    token = internal_token(own, SECRET)
    assert "reg" not in jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience=AUDIENCE)
    read = read_internal_token(token, SECRET)
    assert (read.registry_org_id, read.register_org_id, read.letter_code) == (None, CGD, "กค 0400")


def test_a_token_from_before_registries_still_reads():
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + timedelta(seconds=60), "sub": "ops.clerk"}
    claims |= {"org": str(CGD), "org_code": "กค 0200", "roles": ["clerk"], "clr": "normal"}
    read = read_internal_token(jwt.encode(claims, SECRET, algorithm=ALGORITHM), SECRET)
    assert (read.org_id, read.register_org_id, read.letter_code) == (CGD, CGD, "กค 0200")
