"""Route dependencies, so signatures read like sentences."""

from typing import Annotated

from fastapi import Depends, Request

from gateway.clients import Services
from shared.db import Database


async def _services(request: Request) -> Services:
    return request.app.state.services


async def _db(request: Request) -> Database:
    return request.app.state.db


ServicesDep = Annotated[Services, Depends(_services)]
DbDep = Annotated[Database, Depends(_db)]
