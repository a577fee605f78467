"""Drafts on their way to a signed letter (ร่าง → เสนอ → ลงนาม → ส่ง), composed from intake (the draft, its
versions, the line, the number at signing, the letter), storage (the official layout as a PDF, the signature)
and the gateway's own people and delegations.

The line's rules live in intake: whose turn it is (409 out of turn, with the status), who may see a draft (404
otherwise). The gateway adds what only it knows: that the reviewers and the signer are people who exist, that
the signer is an executive, and at signing who has the authority (the signer, or a delegate of his)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gateway import policy
from gateway.adapters.repository import UserRepository
from gateway.api.attachments import object_content
from gateway.api.letters import accepted, resolve_recipients
from gateway.auth import CurrentUser
from gateway.clients import Services
from gateway.deps import DbDep, ServicesDep
from gateway.people import rules
from gateway.people.delegations import SIGNING_ROLE, Delegations, invalid, on_behalf_text
from gateway.thai_dates import with_thai_dates
from shared.contracts import LetterType, Secrecy, Urgency
from shared.db import Database
from shared.principal import Principal
from shared.problems import UPSTREAM, problem_responses
from shared.schemas import IDEMPOTENCY_KEY, Contact, ReasonRequest, Reference, SendLetterRequest, Text

router = APIRouter(tags=["drafts"])

MAX_REVIEWERS = 10
Username = Annotated[str, Field(min_length=1, max_length=200)]
Box = Literal["mine", "to_review", "to_sign", "to_dispatch"]
PDF_RESPONSE = {200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


class DraftRequest(SendLetterRequest):
    """The letter's fields as for POST /letters, its text, and the line: reviewers in order, then the signer."""

    body: Annotated[Text, Field(min_length=1, max_length=100_000)]
    reviewers: Annotated[list[Username], Field(max_length=MAX_REVIEWERS, description="usernames, in order")] = []
    signer: Username = Field(description="the username of the executive who signs")


class SignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delegation_id: uuid.UUID | None = Field(
        None, description="the delegation to sign under, when the caller holds several from the signer"
    )


class PreviewRequest(BaseModel):
    """The parts the official layout shows. Anything else a drafting form holds (recipients, attachments, the
    line) may be sent along and is ignored, so the form can send itself as it is."""

    model_config = ConfigDict(extra="ignore")
    type: LetterType = "external"
    sub_kind: str | None = None
    subject: Annotated[Text, Field(max_length=1000)] = ""
    body: Annotated[Text, Field(max_length=100_000)] = ""
    urgency: Urgency = "normal"
    secrecy: Secrecy = "normal"
    circular: bool = False
    salutation: Annotated[Text, Field(max_length=500)] = ""
    to_text: Annotated[Text, Field(max_length=500)] = ""
    closing: Annotated[Text, Field(max_length=200)] = ""
    references: Annotated[list[Reference], Field(max_length=20)] = []
    enclosures: Annotated[list[Annotated[Text, Field(min_length=1, max_length=500)]], Field(max_length=50)] = []
    owning_unit: Annotated[Text, Field(max_length=300)] = ""
    contact: Contact = Contact()
    signer: Username | None = Field(None, description="the signer's username, for the signature block")


# ── Drafting and the line ────────────────────────────────────────────────────────────────────────────────


@router.post("/drafts", status_code=201, responses=problem_responses(400, 401, 403, 404, 422, *UPSTREAM))
async def create_draft(
    body: DraftRequest,
    who: CurrentUser,
    db: DbDep,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(pattern=IDEMPOTENCY_KEY)] = None,
):
    """A new draft of the caller's unit, version 1, status `draft`; it takes no number until it is signed. The
    same `Idempotency-Key` again answers the same draft."""
    policy.require(who, "draft.write")
    payload = await _draft_payload(services, db, who, body)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    return with_thai_dates(await services.json("intake", "POST", "/drafts", who, json=payload, headers=headers))


@router.put("/drafts/{draft_id}", responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM))
async def edit_draft(draft_id: uuid.UUID, body: DraftRequest, who: CurrentUser, db: DbDep, services: ServicesDep):
    """A new version: by the author while the draft is his (draft, returned), or by whoever's turn it is on the
    line (the line stays where it is). Earlier versions are kept."""
    policy.require(who, "draft.review")
    payload = await _draft_payload(services, db, who, body)
    return with_thai_dates(await services.json("intake", "PUT", f"/drafts/{draft_id}", who, json=payload))


@router.get("/drafts", responses=problem_responses(401, 403, 422, *UPSTREAM))
async def list_drafts(
    request: Request,
    who: CurrentUser,
    services: ServicesDep,
    box: Box = "mine",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    """mine: the caller's own drafts; to_review: those waiting for him on the line; to_sign (ที่รอลงนาม): those
    waiting for his signature, his own or as a delegate; to_dispatch: signed letters his registry sends. The
    latest first, a page at a time (`next_cursor`)."""
    policy.require(who, "draft.read")
    params: list[tuple[str, str | int]] = [("box", box), ("limit", limit)]
    if cursor:
        params.append(("cursor", cursor))
    if box == "to_sign":
        params += await _delegators(request, who)
    return with_thai_dates(await services.json("intake", "GET", "/drafts", who, params=params))


@router.get("/drafts/{draft_id}", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def get_draft(draft_id: uuid.UUID, request: Request, who: CurrentUser, services: ServicesDep):
    """Status, the current version's fields, every version, the line (who, in which state) and its history
    (who did what, when, on which version)."""
    policy.require(who, "draft.read")
    return with_thai_dates(await read_draft(request, services, who, draft_id))


@router.get("/drafts/{draft_id}/versions/{version}", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def get_version(
    draft_id: uuid.UUID,
    version: Annotated[int, Path(ge=1)],
    request: Request,
    who: CurrentUser,
    services: ServicesDep,
):
    """An earlier (or the current) version's fields, who wrote it and when."""
    policy.require(who, "draft.read")
    params = await _delegators(request, who)
    return with_thai_dates(
        await services.json("intake", "GET", f"/drafts/{draft_id}/versions/{version}", who, params=params)
    )


@router.post("/drafts/{draft_id}/propose", responses=problem_responses(401, 403, 404, 409, 422, *UPSTREAM))
async def propose(draft_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """เสนอ: the author sends the draft up the line, to the first reviewer (or the signer when there is none)."""
    policy.require(who, "draft.write")
    return with_thai_dates(await services.json("intake", "POST", f"/drafts/{draft_id}/propose", who))


@router.post("/drafts/{draft_id}/endorse", responses=problem_responses(401, 403, 404, 409, 422, *UPSTREAM))
async def endorse(draft_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """The reviewer whose turn it is agrees (ผ่าน); the draft moves to the next one, or to the signer."""
    policy.require(who, "draft.review")
    return with_thai_dates(await services.json("intake", "POST", f"/drafts/{draft_id}/endorse", who))


@router.post("/drafts/{draft_id}/return", responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM))
async def return_draft(draft_id: uuid.UUID, body: ReasonRequest, who: CurrentUser, services: ServicesDep):
    """ส่งคืนแก้ไข, always with a reason: the reviewer or signer whose turn it is gives it back to the author."""
    policy.require(who, "draft.review")
    return with_thai_dates(
        await services.json("intake", "POST", f"/drafts/{draft_id}/return", who, json=body.model_dump())
    )


@router.post("/drafts/{draft_id}/recall", responses=problem_responses(401, 403, 404, 409, 422, *UPSTREAM))
async def recall(draft_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """ดึงกลับ: the author takes the draft back, as long as nobody has acted on it since he proposed it."""
    policy.require(who, "draft.write")
    return with_thai_dates(await services.json("intake", "POST", f"/drafts/{draft_id}/recall", who))


# ── Signing and dispatch ─────────────────────────────────────────────────────────────────────────────────


@router.post("/drafts/{draft_id}/sign", responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM))
async def sign(
    draft_id: uuid.UUID,
    request: Request,
    who: CurrentUser,
    db: DbDep,
    services: ServicesDep,
    body: SignRequest | None = None,
):
    """ลงนาม, by the draft's signer or by someone holding a delegation from him in force today for his unit
    (403 otherwise). The letter takes its number and date (intake), the PDF is laid out with them and signed
    (storage), and the letter is recorded as signed (intake). Should a step fail, the draft stays `signing`
    with its number, and signing again completes it."""
    policy.require(who, "draft.sign")
    body = body or SignRequest()
    delegations = _delegations(request)
    draft = await read_draft(request, services, who, draft_id)
    signer = draft["signer"]
    delegation = await delegations.authority(who, signer["username"], body.delegation_id)
    signing = {}
    if delegation is not None:
        signing = {
            "on_behalf_of": signer["username"],
            "delegation_kind": delegation["kind"],
            "delegation_id": str(delegation["id"]),
        }
    draft = await services.json("intake", "POST", f"/drafts/{draft_id}/sign", who, json=signing)
    render = _render_request(draft, draft["fields"], await _signature_block(db, draft), numbered=True)
    signed = await services.json(
        "storage",
        "POST",
        f"/drafts/{draft_id}/signed-pdf",
        who,
        json={
            "render": render,
            "owner_org_id": str(draft["org_id"]),
            "reader_org_ids": [str(draft["register_org_id"])],
        },
    )
    recorded = {"attachment_id": signed["attachment_id"], "sha256": signed["sha256"]}
    return with_thai_dates(await services.json("intake", "POST", f"/drafts/{draft_id}/signed", who, json=recorded))


@router.post("/drafts/{draft_id}/dispatch", responses=problem_responses(401, 403, 404, 409, 422, *UPSTREAM))
async def dispatch(draft_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """The registry sends a signed letter: from here on it is a sent letter like any other, and the answer is
    what POST /letters answers (every delivery pending until routing confirms it)."""
    policy.require(who, "draft.dispatch")
    return accepted(await services.json("intake", "POST", f"/drafts/{draft_id}/dispatch", who))


# ── The official layout as a PDF ─────────────────────────────────────────────────────────────────────────


@router.get(
    "/drafts/{draft_id}/pdf",
    response_class=Response,
    responses=PDF_RESPONSE | problem_responses(401, 403, 404, 422, *UPSTREAM),
)
async def draft_pdf_route(
    draft_id: uuid.UUID,
    request: Request,
    who: CurrentUser,
    services: ServicesDep,
    version: Annotated[int | None, Query(ge=1, description="an earlier version; the current one by default")] = None,
):
    """The draft in the official layout (หนังสือภายนอก, บันทึกข้อความ, ...). Once signed, without `version`: the
    signed PDF itself, with its number, date and signature."""
    return await draft_pdf(request, services, who, draft_id, version)


@router.post(
    "/drafts/preview",
    response_class=Response,
    responses=PDF_RESPONSE | problem_responses(400, 401, 403, 422, *UPSTREAM),
)
async def preview(body: PreviewRequest, who: CurrentUser, db: DbDep, services: ServicesDep):
    """The official layout of fields being typed, for a live preview; nothing is stored."""
    policy.require(who, "draft.review")
    block = {"name": "", "position": ""}
    if body.signer:
        person = await _account(db, rules.sign_in_name(body.signer))
        if person is not None:
            block = {"name": person["display_name"], "position": person["position"] or ""}
    fields = body.model_dump(mode="json", exclude={"signer"})
    org_name = await _unit_name(services, who)
    return await _rendered(services, who, {"fields": fields, "org_name": org_name, "signature": block}, "preview")


async def draft_pdf(
    request: Request, services: Services, who: Principal, draft_id: uuid.UUID, version: int | None = None
) -> Response:
    """What GET /drafts/{id}/pdf answers; the web pages show the same."""
    policy.require(who, "draft.read")
    draft = await read_draft(request, services, who, draft_id)
    if version is None and draft.get("signed_pdf_id"):
        return await object_content(services, who, uuid.UUID(str(draft["signed_pdf_id"])))
    fields = draft["fields"]
    if version is not None and version != draft["version"]:
        fields = (await services.json("intake", "GET", f"/drafts/{draft_id}/versions/{version}", who))["fields"]
    signer = draft["signer"]
    block = {"name": signer["display_name"], "position": signer.get("position") or ""}
    numbered = version is None or version == draft["version"]
    render = _render_request(draft, fields, block, numbered=numbered)
    return await _rendered(services, who, render, f"draft-{draft_id}-v{version or draft['version']}")


async def _signature_block(db: Database, draft: dict) -> dict:
    """What is printed under the signature, from how intake recorded the signing (so that signing again after
    an interruption prints what the first attempt meant): the signer's name and position, or the delegate's
    with "ปฏิบัติราชการแทน <the signer's position>"."""
    signer = draft["signer"]
    if not draft.get("on_behalf_of"):
        return {"name": signer["display_name"], "position": signer.get("position") or ""}
    delegate = await _account(db, draft["signed_by"]) or {}
    return {
        "name": delegate.get("display_name") or draft["signed_by"],
        "position": delegate.get("position") or "",
        "on_behalf_text": on_behalf_text(draft["delegation_kind"], signer.get("position")),
    }


def _render_request(draft: dict, fields: dict, signature: dict, numbered: bool) -> dict:
    """storage's RenderRequest: the number and date only once the letter has them (at signing)."""
    render = {"fields": fields, "org_name": draft["org_name"], "signature": signature}
    if numbered and draft.get("doc_no"):
        render |= {"doc_no": draft["doc_no"], "doc_date": draft.get("doc_date")}
    return render


async def _rendered(services: Services, who: Principal, render: dict, name: str) -> Response:
    pdf = (await services.call("storage", "POST", "/render", who, json=render)).content
    headers = {"Content-Disposition": f'inline; filename="{name}.pdf"', "Cache-Control": "no-store"}
    return Response(pdf, media_type="application/pdf", headers=headers)


# ── Helpers ──────────────────────────────────────────────────────────────────────────────────────────────


def _delegations(request: Request) -> Delegations:
    return request.app.state.delegations


async def _delegators(request: Request, who: Principal) -> list[tuple[str, str]]:
    """`for` parameters naming those whose delegate the caller is today: intake lets him see (and lists in
    ที่รอลงนาม) the drafts they are to sign."""
    held = await _delegations(request).held(who.user)
    return [("for", name) for name in dict.fromkeys(row["from_username"] for row in held)]


async def read_draft(request: Request, services: Services, who: Principal, draft_id: uuid.UUID) -> dict:
    """The draft as intake shows it to the caller (404 outside his scope), a delegate of its signer included."""
    params = await _delegators(request, who)
    return await services.json("intake", "GET", f"/drafts/{draft_id}", who, params=params)


async def _draft_payload(services: Services, db: Database, who: Principal, body: DraftRequest) -> dict:
    """What intake takes: the letter's fields with groups expanded, the line with each person's name and
    position as they are now, and the name of the author's unit for the layout."""
    body = await resolve_recipients(services, who, body)
    if body.attachment_ids:
        await services.call(
            "storage", "POST", "/objects/check", who, json={"ids": [str(i) for i in body.attachment_ids]}
        )
    reviewers, signer = await _line(db, body)
    fields = body.model_dump(mode="json", exclude={"reviewers", "signer"})
    return {**fields, "reviewers": reviewers, "signer": signer, "org_name": await _unit_name(services, who)}


async def _line(db: Database, body: DraftRequest) -> tuple[list[dict], dict]:
    """The reviewers and the signer as people: each must exist and be active, the signer an executive; 422
    naming the field otherwise. Intake checks the line's shape (distinct, without the author or the signer)."""
    names = [rules.sign_in_name(name) for name in body.reviewers]
    signer_name = rules.sign_in_name(body.signer)
    async with db.read() as session:
        people = await UserRepository(session).many([*names, signer_name])
    reviewers = [_person(people, name, f"reviewers.{index}") for index, name in enumerate(names)]
    signer = _person(people, signer_name, "signer")
    if SIGNING_ROLE not in people[signer_name]["roles"]:
        raise invalid("signer", f"{signer_name} ไม่ใช่ผู้บริหาร จึงลงนามไม่ได้ (the signer must be an executive)")
    return reviewers, signer


def _person(people: dict[str, dict], username: str, field: str) -> dict:
    row = people.get(username)
    if row is None or not row["active"]:
        raise invalid(field, f"ไม่พบผู้ใช้ {username} หรือถูกระงับ (unknown or disabled person)")
    return {"username": username, "display_name": row["display_name"], "position": row["position"] or ""}


async def _account(db: Database, username: str) -> dict | None:
    async with db.read() as session:
        return await UserRepository(session).get(username)


async def _unit_name(services: Services, who: Principal) -> str:
    """The name of the caller's unit, which the layout prints as ส่วนราชการ."""
    return (await services.json("routing", "GET", f"/orgs/{who.org_id}", who))["name"]
