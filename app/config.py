"""Service settings: one ``Settings`` class, read from ``DIVERGENCE_*`` environment variables.

Bad values (a port out of range, an unknown log level) are refused when the settings are
read, so a misconfigured service fails at start with a message that names the variable.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Every knob of the service, with its default."""

    model_config = SettingsConfigDict(env_prefix="DIVERGENCE_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port the API listens on.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="uvicorn log level."
    )
    default_tolerance: float = Field(
        1e-6, ge=0.0, le=0.5, description="Allowed |sum - 1| when a request gives none."
    )


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
