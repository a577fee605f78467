"""The principal the gateway builds from an account: its unit's code and registry, one cached lookup per unit."""

import uuid

from gateway.people.accounts import Accounts

CGD, SECRETARIAT = uuid.uuid4(), uuid.uuid4()
UNITS = {
    CGD: {"id": str(CGD), "code": "กค 0400", "registry_id": str(CGD), "registry_code": "กค 0400"},
    SECRETARIAT: {"id": str(SECRETARIAT), "code": "กค 0401", "registry_id": str(CGD), "registry_code": "กค 0400"},
}


class Routing:
    """Answers `GET /orgs/{id}` as routing does, counting the calls."""

    def __init__(self):
        self.calls = 0

    async def json(self, service, method, path, who, **_):
        self.calls += 1
        return UNITS[uuid.UUID(path.rsplit("/", 1)[1])]


def account(username: str, org_id: uuid.UUID) -> dict:
    return {"username": username, "org_id": org_id, "roles": ["clerk"], "clearance": "normal"}


async def test_a_unit_keeping_no_registers_gets_its_registry_once_per_unit():
    routing = Routing()
    accounts = Accounts(db=None, services=routing, clock=lambda: 0.0)
    first = await accounts.of(account("cgd.sec", SECRETARIAT))
    again = await accounts.of(account("cgd.sec2", SECRETARIAT))
    assert (first.org_code, first.registry_org_id, first.registry_code) == ("กค 0401", CGD, "กค 0400")
    assert (first.register_org_id, first.letter_code) == (CGD, "กค 0400") and again == first.model_copy(
        update={"user": "cgd.sec2"}
    )
    own = await accounts.of(account("cgd.clerk", CGD))
    assert (own.org_code, own.registry_org_id, own.register_org_id) == ("กค 0400", None, CGD)
    assert routing.calls == 2  # one per unit, not per person or request
