"""Check characters of Chinese identity numbers and unified social credit codes.

Upstream feeds carry both kinds of ID, often mangled (a lost leading zero, a lower-case ``x``,
Excel turning the number into ``1.1E+17``). A check character catches nearly every such typo
without a look-up, so ingestion validates with these functions and the demo generates IDs that
pass them. Pure functions, no I/O.

- Resident identity number (居民身份证号码), GB 11643-1999: 17 digits + a check character
  ``0-9`` or ``X`` computed with ISO 7064 MOD 11-2.
- Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a 31-character
  set (digits and upper-case letters without I, O, Z, S, V); the last one is a MOD 31 check.
  Characters 9-17 are the organization code (GB 11714), whose own last character is a MOD 11
  check.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

# ISO 7064 MOD 11-2 weights are 2**(17 - i) mod 11 for positions i = 0..16.
_RESIDENT_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_RESIDENT_CHECK = "10X98765432"  # index: weighted sum mod 11
_RESIDENT_RE = re.compile(r"\d{17}[\dX]")

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_CHARSET)}
# GB 32100 weights are 3**i mod 31 for positions i = 0..16.
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_RE = re.compile(f"[{CREDIT_CHARSET}]{{18}}")

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_RE = re.compile(r"[0-9A-Z]{8}")


def resident_id_check_char(first17: str) -> str:
    """The 18th character of a resident identity number whose first 17 digits are given."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def is_valid_resident_id(s: str) -> bool:
    """True for an 18-character identity number with a correct check character.

    Only the upper-case ``X`` is accepted: normalising case (and stripping spaces) is the
    reader's job, so that the stored value is always the canonical one.
    """
    if not isinstance(s, str) or not _RESIDENT_RE.fullmatch(s):
        return False
    return resident_id_check_char(s[:17]) == s[17]


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 characters are given."""
    if len(first17) != 17 or any(c not in _CREDIT_VALUE for c in first17):
        raise ValueError(f"expected 17 characters of {CREDIT_CHARSET}, got {first17!r}")
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def is_valid_credit_code(s: str) -> bool:
    """True for an 18-character unified social credit code with a correct check character."""
    if not isinstance(s, str) or not _CREDIT_RE.fullmatch(s):
        return False
    return credit_code_check_char(s[:17]) == s[17]


def organization_code_check_char(first8: str) -> str:
    """The 9th character of an organization code (GB 11714) whose first 8 characters are given.

    Inside a credit code these are characters 9-17; registries check it, so the demo's codes
    carry a correct one too.
    """
    if not _ORG_BODY_RE.fullmatch(first8):
        raise ValueError(f"expected 8 characters 0-9A-Z, got {first8!r}")
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))
