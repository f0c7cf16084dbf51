"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.jobs.queue import JobQueue
from app.jobs.store import JobStore
from app.jobs.wiring import get_queue, get_store

__all__ = ["QueueDep", "SettingsDep", "StoreDep"]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> JobStore:
    return get_store(_settings(request))


def _queue(request: Request) -> JobQueue:
    return get_queue(_settings(request))


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[JobStore, Depends(_store)]
QueueDep = Annotated[JobQueue, Depends(_queue)]
