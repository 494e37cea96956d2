"""The 13 indicators of the community-risk model, by key.

The keys are the column names of the ``indicators`` feed (docs/formats.md) and the values of
``IndicatorValue.indicator``; the order is the order the feed and the screen list them in.
Weights, bases and caps live in the risk model file (``data/risk_model.json``), the scoring rule
in :mod:`dashboard.risk`. The keys stay declared here, not read from the model file, so that a
broken model file can never stop the indicator returns from loading; a model may only use keys
listed here (:func:`dashboard.risk.validate`), since no other column could ever give it a value.
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

# Indicators that are shares of the compound's residents by definition (0..1): a value above 1
# is a wrong return (a percentage typed as 45, say), set aside rather than scored at the cap.
SHARE_KEYS: frozenset[str] = frozenset({"screening_unfinished", "elderly_share"})
