"""Request bodies of the public API that the gateway validates and the owning service validates again.
One definition, so the gateway's OpenAPI and the service never disagree."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.contracts import LetterType, Secrecy, Urgency
from shared.thai import clean

Text = Annotated[str, AfterValidator(clean)]


class SendLetterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: LetterType
    subject: Annotated[Text, Field(min_length=1, max_length=1000)]
    body: Annotated[Text, Field(max_length=100_000)] = ""
    recipient_org_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)]
    circular: bool = False
    urgency: Urgency = "normal"
    secrecy: Secrecy = "normal"
    attachment_ids: Annotated[list[uuid.UUID], Field(max_length=100)] = []
    reference_letter_ids: Annotated[list[uuid.UUID], Field(max_length=100)] = []
    salutation: Annotated[Text, Field(max_length=500)] = ""
    signer_name: Annotated[Text, Field(max_length=300)] = ""
    signer_position: Annotated[Text, Field(max_length=300)] = ""
