"""The registers' state machines: which state changes a feed may make.

Enterprises and construction sites share the reopening (复工) machine::

    not_registered → registered → approved → reopened
                                     ↓   ↗      ↓
                                   suspended ←──┘

A registration is approved by the subdistrict before the employer may reopen; a reopened (or
approved) one may be suspended, and a suspended one resumes (reopened) or is approved again.
Staying in the same state is always allowed (a feed repeats the state with other updates). A
record seen for the first time may arrive in any state: registers are loaded mid-campaign.

Shops report open or closed each day, in any order; closing down (licence cancelled) is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

NOT_REGISTERED: Final = "not_registered"
REGISTERED: Final = "registered"
APPROVED: Final = "approved"
REOPENED: Final = "reopened"
SUSPENDED: Final = "suspended"

#: The reopening states in their order on screens and in exports.
REOPENING_STATES: Final = (NOT_REGISTERED, REGISTERED, APPROVED, REOPENED, SUSPENDED)

#: state -> the states it may move to (besides itself).
REOPENING: Final[Mapping[str, frozenset[str]]] = {
    NOT_REGISTERED: frozenset({REGISTERED}),
    REGISTERED: frozenset({APPROVED}),
    APPROVED: frozenset({REOPENED, SUSPENDED}),
    REOPENED: frozenset({SUSPENDED}),
    SUSPENDED: frozenset({REOPENED, APPROVED}),
}

#: Shops: the state a day's report puts a shop in.
SHOP_OPEN: Final = "open"
SHOP_CLOSED: Final = "closed"
SHOP_CLOSED_DOWN: Final = "closed_down"
SHOP_UNREPORTED: Final = "unreported"  # no report for today (yet)
SHOP_STATES: Final = (SHOP_OPEN, SHOP_CLOSED, SHOP_UNREPORTED, SHOP_CLOSED_DOWN)


def reopening_allowed(old: str | None, new: str) -> bool:
    """May a reopening record in state ``old`` (None: not in the register yet) move to ``new``?"""
    if new not in REOPENING:
        return False
    if old is None or old == new:
        return True
    return new in REOPENING.get(old, frozenset())


def shop_allowed(
    closed_down_before: bool, *, is_open: bool | None, closed_down: bool | None
) -> bool:
    """May a shop report (``is_open``, ``closed_down``; None: not given) follow its stored state?
    A shop that closed down stays closed down: it may not report open, nor be un-closed."""
    if not closed_down_before:
        return True
    return is_open is not True and closed_down is not False


def refused_reason(old: str, new: str) -> str:
    """The words of a quarantine entry for a refused reopening change."""
    allowed = sorted(REOPENING.get(old, frozenset()))
    to = ", ".join(allowed) if allowed else "nothing"
    return f"state {old} → {new} is not allowed ({old} may move to {to})"
