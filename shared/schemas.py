"""Request bodies of the public API that the gateway validates and the owning service validates again.
One definition, so the gateway's OpenAPI and the service never disagree."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.contracts import LetterType, Secrecy, Urgency
from shared.thai import BANGKOK, clean

Text = Annotated[str, AfterValidator(clean)]

# An Idempotency-Key is passed on to the owning service in a header, so it must be visible ASCII.
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,200}$"


def _representable(moment: datetime) -> datetime:
    """A moment that UTC (how it is stored) and Bangkok time (how it is shown) can both express."""
    try:
        moment.astimezone(UTC), moment.astimezone(BANGKOK)
    except OverflowError:
        raise ValueError("วันเวลาอยู่นอกช่วงที่ระบบรองรับ (date and time out of range)") from None
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_representable)]


# Sub-kinds of the letter types that have them (DOMAIN.md): คำสั่ง ระเบียบ ข้อบังคับ / ประกาศ แถลงการณ์ ข่าว /
# หนังสือรับรอง รายงานการประชุม บันทึก หนังสืออื่น.
SUB_KINDS = {
    "directive": ("order", "regulation", "rule"),
    "public_relations": ("announcement", "statement", "news"),
    "evidence": ("certificate", "minutes", "record", "other"),
}


class Reference(BaseModel):
    """อ้างถึง an earlier letter by its number (when it is not in this system)."""

    model_config = ConfigDict(extra="forbid")
    doc_no: Annotated[Text, Field(min_length=1, max_length=100)]
    doc_date: date | None = None
    subject: Annotated[Text, Field(max_length=1000)] = ""


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[Text, Field(max_length=50)] = ""
    email: Annotated[Text, Field(max_length=200)] = ""


class SendLetterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: LetterType
    subject: Annotated[Text, Field(min_length=1, max_length=1000)]
    body: Annotated[Text, Field(max_length=100_000)] = ""
    recipient_org_ids: Annotated[list[uuid.UUID], Field(max_length=10_000)] = []
    # Groups expand to their member units (the sender's own unit left out); duplicates collapse.
    recipient_group_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = []
    circular: bool = False
    urgency: Urgency = "normal"
    secrecy: Secrecy = "normal"
    attachment_ids: Annotated[list[uuid.UUID], Field(max_length=100)] = []
    reference_letter_ids: Annotated[list[uuid.UUID], Field(max_length=100)] = []
    salutation: Annotated[Text, Field(max_length=500)] = ""
    signer_name: Annotated[Text, Field(max_length=300)] = ""
    signer_position: Annotated[Text, Field(max_length=300)] = ""
    # The other parts of an external letter (DOMAIN.md, "Fields of an external letter").
    sub_kind: str | None = None
    doc_date: date | None = None  # ลงวันที่; today in Bangkok when not given
    to_text: Annotated[Text, Field(max_length=500)] = ""  # ถึง, e.g. "อธิบดีกรมบัญชีกลาง"
    closing: Annotated[Text, Field(max_length=200)] = ""  # คำลงท้าย
    references: Annotated[list[Reference], Field(max_length=20)] = []
    enclosures: Annotated[list[Annotated[Text, Field(min_length=1, max_length=500)]], Field(max_length=50)] = []
    cc_org_ids: Annotated[list[uuid.UUID], Field(max_length=200)] = []  # สำเนาส่ง: they get the letter too
    owning_unit: Annotated[Text, Field(max_length=300)] = ""  # ส่วนราชการเจ้าของเรื่อง
    contact: Contact = Contact()
    deliver_by: Moment | None = None  # ด่วนภายใน

    @model_validator(mode="after")
    def _someone_to_send_to(self) -> SendLetterRequest:
        if not self.recipient_org_ids and not self.recipient_group_ids:
            raise ValueError("ต้องระบุผู้รับ: recipient_org_ids หรือ recipient_group_ids (at least one recipient)")
        return self

    @model_validator(mode="after")
    def _sub_kind_fits_the_type(self) -> SendLetterRequest:
        allowed = SUB_KINDS.get(self.type)
        if allowed and self.sub_kind not in allowed:
            raise ValueError(f"sub_kind ของหนังสือประเภท {self.type} ต้องเป็นหนึ่งใน {', '.join(allowed)}")
        if not allowed and self.sub_kind is not None:
            raise ValueError(f"หนังสือประเภท {self.type} ไม่มี sub_kind (this type has no sub-kinds)")
        return self


# ── Drafts (ร่างหนังสือ): written in the system, proposed up the line, signed, then dispatched ──────────────────

LINE_MAX = 10  # reviewers on one proposal line (สายเสนอ)
SHA256_HEX = r"^[0-9a-f]{64}$"


class LinePerson(BaseModel):
    """Someone on a draft's proposal line as the gateway knows them; the signer's name and position are printed
    under the signature."""

    model_config = ConfigDict(extra="forbid")
    username: Annotated[Text, Field(min_length=1, max_length=100)]
    display_name: Annotated[Text, Field(max_length=300)] = ""
    position: Annotated[Text, Field(max_length=300)] = ""


class DraftRequest(SendLetterRequest):
    """A draft's fields: a letter's, with its body written out, the line that reviews and signs it, and the name
    of the unit that owns it (for the official layout). Recipients are unit ids: groups are expanded before."""

    body: Annotated[Text, Field(max_length=100_000)]
    reviewers: Annotated[list[LinePerson], Field(max_length=LINE_MAX)] = []
    signer: LinePerson
    org_name: Annotated[Text, Field(max_length=300)] = ""

    @field_validator("body")
    @classmethod
    def _body_written(cls, body: str) -> str:
        if not body:  # after NFC cleaning: spaces and control characters alone are no body
            raise ValueError("ต้องมีเนื้อความของหนังสือ (body is required)")
        return body


class SignRequest(BaseModel):
    """ลงนาม. `on_behalf_of` is the draft's signer when someone signs for them under a delegation
    (ปฏิบัติราชการแทน: delegated, รักษาราชการแทน: acting) that the gateway has checked."""

    model_config = ConfigDict(extra="forbid")
    on_behalf_of: Annotated[Text, Field(min_length=1, max_length=100)] | None = None
    delegation_kind: Literal["delegated", "acting"] | None = None
    delegation_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _kind_with_delegation(self) -> SignRequest:
        if (self.on_behalf_of is None) != (self.delegation_kind is None):
            raise ValueError("on_behalf_of และ delegation_kind ต้องระบุคู่กัน (give both or neither)")
        return self


class SignedRequest(BaseModel):
    """The signed PDF of a draft, as storage stored it."""

    model_config = ConfigDict(extra="forbid")
    attachment_id: uuid.UUID
    sha256: Annotated[str, Field(pattern=SHA256_HEX)]


REASON_MAX = 1000


class ReasonRequest(BaseModel):
    """คืนเรื่อง / ปฏิเสธ / แจ้งหนังสือผิด / ยกเลิก: always with a reason."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[Text, Field(min_length=1, max_length=REASON_MAX)]


class ForwardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient_org_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=200)]
    note: Annotated[Text, Field(max_length=REASON_MAX)] = ""


class RecallRequest(BaseModel):
    """Without recipient_org_ids, every recipient that has not registered the letter."""

    model_config = ConfigDict(extra="forbid")
    recipient_org_ids: Annotated[list[uuid.UUID] | None, Field(min_length=1, max_length=10_000)] = None


# Decisions a superior writes on a letter (เกษียนสั่งการ).
Decision = Literal["acknowledged", "act", "approved", "not_approved"]  # ทราบ, ดำเนินการ, เห็นชอบ, ไม่เห็นชอบ


class AnnotationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[Text, Field(min_length=1, max_length=5000)]
    decision: Decision | None = None
    position: Annotated[Text, Field(max_length=300)] = ""
