"""Who is asking: the client an experiment belongs to, and whether it may see all of them.

How a caller is recognised (an API key's fingerprint, or ``ip:ADDRESS`` with keys off) is the
HTTP layer's business (``app.api.security``); what a caller may see and change is this one's.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Caller"]


@dataclass(frozen=True)
class Caller:
    """Who is asking: ``owner`` names the experiments it owns; an admin sees all of them."""

    owner: str
    admin: bool = False

    def may_see(self, owner: str | None) -> bool:
        """Whether a job of ``owner`` exists for this caller (others answer 404)."""
        return self.admin or owner == self.owner

    @property
    def scope(self) -> str | None:
        """The owner whose jobs this caller may change (None: anybody's)."""
        return None if self.admin else self.owner
