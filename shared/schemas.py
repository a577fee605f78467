"""Request bodies of the public API that the gateway validates and the owning service validates again.
One definition, so the gateway's OpenAPI and the service never disagree."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from shared.contracts import LetterType, Secrecy, Urgency
from shared.thai import clean

Text = Annotated[str, AfterValidator(clean)]


class SendLetterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: LetterType
    subject: Annotated[Text, Field(min_length=1, max_length=1000)]
    body: Annotated[Text, Field(max_length=100_000)] = ""
    recipient_org_ids: Annotated[list[uuid.UUID], Field(max_length=1000)] = []
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

    @model_validator(mode="after")
    def _someone_to_send_to(self) -> SendLetterRequest:
        if not self.recipient_org_ids and not self.recipient_group_ids:
            raise ValueError("ต้องระบุผู้รับ: recipient_org_ids หรือ recipient_group_ids (at least one recipient)")
        return self


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
    recipient_org_ids: Annotated[list[uuid.UUID] | None, Field(min_length=1, max_length=1000)] = None


# Decisions a superior writes on a letter (เกษียนสั่งการ).
Decision = Literal["acknowledged", "act", "approved", "not_approved"]  # ทราบ, ดำเนินการ, เห็นชอบ, ไม่เห็นชอบ


class AnnotationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[Text, Field(min_length=1, max_length=5000)]
    decision: Decision | None = None
    position: Annotated[Text, Field(max_length=300)] = ""
