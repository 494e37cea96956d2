"""The 13 indicators of the community-risk model, by key.

The keys are the column names of the ``indicators`` feed (docs/formats.md) and the values of
``IndicatorValue.indicator``; the order is the order the feed and the screen list them in.
Weights and the scoring rule live with the risk model, not here.
"""

from __future__ import annotations

INDICATOR_KEYS: tuple[str, ...] = (
    "confirmed",
    "suspected",
    "close_contacts",
    "key_region_arrivals",
    "home_observation",
    "central_quarantine",
    "fever_clinic_visits",
    "hotline_reports",
    "returnees_14d",
    "screening_unfinished",
    "disinfection_overdue",
    "elderly_share",
    "crowd_gathering",
)
