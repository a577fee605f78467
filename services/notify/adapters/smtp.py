"""The mail server port: one SMTP connection per round of the relay (aiosmtplib), plain, STARTTLS or TLS,
with a sign-in when a username is set. Tells a refusal to keep trying (4xx, the server away) from one that
will never succeed (5xx)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from shared.settings import Settings

DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


class MailRefused(Exception):
    """The server will never take this message (a 5xx answer): it is not tried again."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    tls: str  # none | starttls | tls
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSettings | None:
        """None without SARABUN_SMTP_HOST: e-mail is off."""
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_tls],
            sender=settings.smtp_from,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
        )


def message(settings: MailSettings, mail_id: uuid.UUID, to: str, subject: str, body: str) -> EmailMessage:
    """UTF-8 text. The Message-ID is made from the mail's id, so should a mail ever go out twice (the process
    died after the server took it and before it was marked sent) the copies are recognisably one message."""
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=mail_id.hex, domain="sarabun.notify")
    mail.set_content(body, charset="utf-8")
    return mail


class Mailer:
    def __init__(self, settings: MailSettings):
        self.settings = settings

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.tls == "tls",
            start_tls=True if s.tls == "starttls" else False,
            timeout=s.timeout,
        )
        await client.connect()
        try:
            if s.username:
                await client.login(s.username, s.password or "")
            yield Connection(client, s)
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()


class Connection:
    def __init__(self, client: aiosmtplib.SMTP, settings: MailSettings):
        self.client, self.settings = client, settings

    async def send(self, mail_id: uuid.UUID, to: str, subject: str, body: str) -> None:
        """Returns once the server has taken the message; MailRefused for a permanent refusal; anything else
        (a 4xx, a dropped connection) means try again later."""
        try:
            mail = message(self.settings, mail_id, to, subject, body)
        except ValueError as unusable:  # an address no message can carry: trying again cannot help
            raise MailRefused(f"the address cannot be used: {unusable}") from unusable
        try:
            await self.client.send_message(mail)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [error.code for error in refused.recipients]
            if all(code >= 500 for code in codes):
                raise MailRefused(str(refused)) from refused
            raise
        except aiosmtplib.SMTPResponseException as refused:
            if refused.code >= 500:
                raise MailRefused(f"{refused.code} {refused.message}") from refused
            raise
