"""Thai has no spaces between words: a fragment from the middle of a word still finds the letter."""

from tests.e2e.helpers import eventually, login, org_ids


async def test_a_mid_word_thai_fragment_finds_the_letter_in_inbox_and_outbox(api):
    ops = await login(api, "ops.clerk")
    cgd = await login(api, "cgd.clerk")
    orgs = await org_ids(api, ops)
    subjects = ["ขอเชิญประชุมคณะกรรมการบริหารหนี้สาธารณะ", "รายงานผลการเบิกจ่ายงบประมาณ", "Annual report"]
    for subject in subjects:
        body = {"type": "external", "subject": subject, "recipient_org_ids": [orgs["cgd"]]}
        assert (await api.post("/api/v1/letters", headers=ops, json=body)).status_code == 201

    async def found(q: str):
        response = await api.get("/api/v1/inbox", headers=cgd, params={"q": q})
        return [i["subject"] for i in response.json()["items"]] or None

    # "ะกรรมการบริ" sits inside the words คณะกรรมการ and บริหาร
    assert await eventually(lambda: found("ะกรรมการบริ")) == [subjects[0]]
    assert await eventually(lambda: found("เบิกจ่")) == [subjects[1]]
    assert await eventually(lambda: found("nual rep")) == [subjects[2]]
    assert await found("0200/2") == [subjects[1]]  # by the letter number too
    assert await found("ไม่มีเรื่องนี้") is None

    outbox = await api.get("/api/v1/outbox", headers=ops, params={"q": "หนี้สาธ"})
    assert [i["subject"] for i in outbox.json()["items"]] == [subjects[0]]


async def test_decomposed_input_is_normalised_before_it_is_stored_or_matched(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    # สระอำ typed as nikhahit + sara aa (with the tone mark between), and a Latin letter in NFD form
    typed = "การน\u0e4d\u0e32ส่งเงินน\u0e4d\u0e49\u0e32ประปา Cafe\u0301"
    body = {"type": "external", "subject": typed, "recipient_org_ids": [orgs["cgd"]]}
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    assert letter["subject"] == "การนำส่งเงินน้ำประปา Café"
    for q in ("นำส่ง", "น\u0e4d\u0e32ส่ง", "น้ำประ", "Café"):
        outbox = await api.get("/api/v1/outbox", headers=ops, params={"q": q})
        assert [i["id"] for i in outbox.json()["items"]] == [letter["id"]], q
