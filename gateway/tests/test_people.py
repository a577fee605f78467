"""The rules of accounts, the CSV reader and the account cache, without a running system."""

import uuid

import pytest

from gateway import policy
from gateway.people import csv_import, rules
from gateway.people.accounts import TtlCache
from gateway.people.csv_import import FileRefused
from shared.principal import Principal


def test_usernames_have_one_spelling():
    assert rules.username("  OPS.Clerk ") == "ops.clerk"
    assert rules.username("สมชาย.ใจดี") == "สมชาย.ใจดี"  # Thai letters and their vowel marks
    for bad in ("a", "has space", ".starts-with-dot", "x" * 101, "semi;colon"):
        with pytest.raises(rules.Invalid):
            rules.username(bad)


def test_passwords_have_a_minimum_length():
    with pytest.raises(rules.Invalid):
        rules.password("x" * (rules.MIN_PASSWORD - 1))
    assert rules.password("x" * rules.MIN_PASSWORD)


def test_a_cache_entry_ends_after_its_time_by_the_injected_clock():
    now = [100.0]
    cache = TtlCache(ttl=30, clock=lambda: now[0])
    cache.put("cgd.clerk", {"active": True})
    now[0] = 129.9
    assert cache.get("cgd.clerk") == {"active": True}
    now[0] = 130.0
    assert cache.get("cgd.clerk") is None


async def test_a_cache_hit_loads_nothing():
    loads = []

    async def load():
        loads.append(1)
        return "row"

    cache = TtlCache(ttl=30, clock=lambda: 0.0)
    assert [await cache.get_or_load("k", load), await cache.get_or_load("k", load)] == ["row", "row"]
    assert loads == [1]
    cache.clear()
    await cache.get_or_load("k", load)
    assert loads == [1, 1]


UNITS = {"cgd": uuid.uuid4(), "rd": uuid.uuid4()}


def test_a_csv_with_thai_headings_and_a_bom_is_read():
    data = "\ufeffชื่อผู้ใช้ (username),ชื่อ,หน่วยงาน,บทบาท,ชั้นความลับ,ใช้งาน\nA.B,ชื่อ,cgd,สารบรรณ|ผู้บริหาร,ลับมาก,ไม่\n"
    [account] = csv_import.parse(data.encode(), UNITS)
    assert (account.username, account.org_id, account.roles) == ("a.b", UNITS["cgd"], ["clerk", "executive"])
    assert (account.clearance, account.active) == ("secret", False)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"username,display_name,org_key\nx.y,n,cgd\n", (1, "roles")),
        (b"username,display_name,org_key,roles,password\n", (1, "password")),
        ("username,display_name,org_key,roles\n".encode("utf-16"), (None, None)),
        (b"username,display_name,org_key,roles\nx.y,n,cgd,clerk,extra\n", (2, None)),
        (b"", (1, None)),
    ],
)
def test_a_bad_csv_names_the_row_and_field(data, where):
    with pytest.raises(FileRefused) as refused:
        csv_import.parse(data, UNITS)
    assert (refused.value.errors[0]["row"], refused.value.errors[0]["field"]) == where


def test_admin_actions_need_a_recent_sign_in():
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    admin = Principal(user="a", org_id=uuid.uuid4(), roles=("admin",), signed_in_at=now - timedelta(minutes=14))
    policy.require(admin, "user.manage")
    for signed_in_at in (now - timedelta(minutes=16), None):
        stale = admin.model_copy(update={"signed_in_at": signed_in_at})
        with pytest.raises(policy.FreshSignInRequired) as refused:
            policy.require(stale, "register.set_next")
        assert refused.value.status == 401 and refused.value.body()["type"] == policy.FRESH_SIGN_IN_TYPE
    clerk = admin.model_copy(update={"roles": ("clerk",), "signed_in_at": None})
    policy.require(clerk, "inbox.read")  # not an administrative action: any token age within its life
    with pytest.raises(policy.Denied):
        policy.require(clerk, "user.manage")
