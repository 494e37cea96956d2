"""Check characters of resident ID numbers and unified social credit codes, against published
examples (the standards' own and real registrations), not against what the code computes."""

from __future__ import annotations

import random

import pytest

from dashboard.idcodes import (
    CREDIT_CHARSET,
    credit_code_check_char,
    is_valid_credit_code,
    is_valid_resident_id,
    organization_code_check_char,
    resident_id_check_char,
)

# GB 11643-1999's own examples.
PUBLISHED_RESIDENT_IDS = ["11010519491231002X", "440524188001010014"]
# GB 32100-2015's example and the published codes of Tencent and Huawei (Shenzhen).
PUBLISHED_CREDIT_CODES = ["91350100M000100Y43", "91440300708461136T", "914403001922038216"]


@pytest.mark.parametrize("id_number", PUBLISHED_RESIDENT_IDS)
def test_ids001_published_resident_ids_are_valid(id_number):
    assert is_valid_resident_id(id_number)
    assert resident_id_check_char(id_number[:17]) == id_number[17]


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_ids002_published_credit_codes_are_valid(code):
    assert is_valid_credit_code(code)
    assert credit_code_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("first8", "check"), [("M000100Y", "4"), ("70846113", "6"), ("19220382", "1")]
)
def test_ids003_organization_code_check_of_published_codes(first8, check):
    assert organization_code_check_char(first8) == check


@pytest.mark.parametrize("id_number", PUBLISHED_RESIDENT_IDS)
def test_ids004_any_single_digit_change_is_caught(id_number):
    for i in range(17):
        for digit in "0123456789":
            if digit != id_number[i]:
                changed = id_number[:i] + digit + id_number[i + 1 :]
                assert not is_valid_resident_id(changed), changed


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_ids005_any_single_character_change_is_caught(code):
    for i in range(17):
        for c in CREDIT_CHARSET:
            if c != code[i]:
                assert not is_valid_credit_code(code[:i] + c + code[i + 1 :])


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002x",  # lower-case x: the reader normalises, the validator does not
        "1101051949123100X",  # 17 characters
        "110105194912310021",  # wrong check digit
        " 11010519491231002X",
        "11010519491231002X ",
        "",
        None,
        110105194912310020,
    ],
)
def test_ids006_invalid_resident_ids(value):
    assert not is_valid_resident_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100m000100y43",  # lower case
        "91350100M000100Y4",  # 17 characters
        "91350100I000100Y43",  # I is not in the charset (nor O, Z, S, V)
        "91350100O000100Y43",
        "",
        None,
    ],
)
def test_ids007_invalid_credit_codes(value):
    assert not is_valid_credit_code(value)


@pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100A", "110105194912310021"])
def test_ids008_resident_check_char_refuses_bad_input(bad):
    with pytest.raises(ValueError):
        resident_id_check_char(bad)


@pytest.mark.parametrize("bad", ["91350100M000100Y", "91350100M000100I4", "91350100m000100y4"])
def test_ids009_credit_check_char_refuses_bad_input(bad):
    with pytest.raises(ValueError):
        credit_code_check_char(bad)


def test_ids010_resident_check_satisfies_iso7064_definition():
    # ISO 7064 MOD 11-2: with X = 10, sum(a_i * 2**(18 - i)) over all 18 positions = 1 (mod 11).
    rng = random.Random(11643)
    seen = set()
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        check = resident_id_check_char(body)
        seen.add(check)
        digits = [int(c) for c in body] + [10 if check == "X" else int(check)]
        assert sum(a * 2 ** (17 - i) for i, a in enumerate(digits)) % 11 == 1
        assert is_valid_resident_id(body + check)
    assert seen == set("0123456789X")


def test_ids011_credit_check_satisfies_gb32100_definition():
    # GB 32100: sum(c_i * 3**(i-1)) over 17 positions plus the check's value = 0 (mod 31).
    rng = random.Random(32100)
    seen = set()
    for _ in range(2000):
        body = "".join(rng.choice(CREDIT_CHARSET) for _ in range(17))
        check = credit_code_check_char(body)
        seen.add(check)
        values = [CREDIT_CHARSET.index(c) for c in body]
        total = sum(v * 3**i for i, v in enumerate(values)) + CREDIT_CHARSET.index(check)
        assert total % 31 == 0
    assert seen == set(CREDIT_CHARSET)
