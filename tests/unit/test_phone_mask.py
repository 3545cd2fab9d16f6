"""The log's phone mask (issue 13, item 9): no whole phone number reaches a log line,
whatever way it was written; figures that are not phone numbers are left alone."""

from __future__ import annotations

import logging
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.observability import JsonFormatter, mask_phones


@pytest.mark.parametrize(
    "raw,masked",
    [
        ("13800000004", "138****0004"),
        ("8613800000004", "86138****0004"),  # missed before
        ("+8613800000004", "+86138****0004"),
        ("+86 138 0000 0004", "+86 138 **** 0004"),
        ("0086-138-0000-0004", "0086-138-****-0004"),
        ("138 0000 0004", "138 **** 0004"),  # missed before
        ("0737-4221234", "0737-****1234"),  # missed before
        ("(0737) 4221234", "(0737) ****1234"),
        ("07374221234", "0737****1234"),
        ("010-88881234", "010-****1234"),
        ("caller=13800000004&x=1", "caller=138****0004&x=1"),
    ],
)
def test_phone_numbers_are_masked_in_any_common_form(raw, masked):
    assert mask_phones(raw) == masked


@pytest.mark.parametrize(
    "text",
    [
        "took 0.0123456789 s",
        "ticket YY-000123 at 2025-10-01T09:00:00+08:00",
        "id 20251001123456",
        "port 8000, 12 rows",
        "seq 1380000",
    ],
)
def test_figures_that_are_not_phone_numbers_are_left_alone(text):
    assert mask_phones(text) == text


SEPARATORS = st.sampled_from(["", " ", "-"])


@given(
    number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    prefix=st.sampled_from(["", "86", "+86", "0086", "+86 ", "86-"]),
    a=SEPARATORS,
    b=SEPARATORS,
    before=st.sampled_from(["", "电话", "phone=", " ", "("]),
    after=st.sampled_from(["", "。", "&", " ok", ")"]),
)
def test_no_mobile_number_survives_the_mask(number, prefix, a, b, before, after):
    written = f"{before}{prefix}{number[:3]}{a}{number[3:7]}{b}{number[7:]}{after}"
    digits = re.sub(r"\D", "", mask_phones(written))
    assert number not in digits, written
    assert mask_phones(written).endswith(f"{number[7:]}{after}")


@given(
    area=st.from_regex(r"0[1-9][0-9]{1,2}", fullmatch=True),
    local=st.from_regex(r"[2-8][0-9]{6,7}", fullmatch=True),
    sep=SEPARATORS,
)
def test_no_landline_with_its_area_code_survives_the_mask(area, local, sep):
    digits = re.sub(r"\D", "", mask_phones(f"来电 {area}{sep}{local}"))
    assert area + local not in digits


def test_the_json_log_line_is_masked_in_the_message_and_in_extra_fields():
    record = logging.LogRecord("hotline", logging.INFO, __file__, 1, "call from %s", ("0737-4221234",), None)
    record.caller = "+86 138 0000 0004"
    line = JsonFormatter().format(record)
    assert "4221234" not in line and "0000 0004" not in line
    assert "0737-****1234" in line and "+86 138 **** 0004" in line


@pytest.mark.parametrize(
    "phone,masked",
    [
        ("13800000001", "138****0001"),
        ("8613800000001", "861******0001"),
        ("0737422123", "0*****2123"),
        ("0737422", "0****22"),
        ("12345", "1***5"),
        ("123", "1*3"),
        ("12", "**"),
    ],
)
def test_one_rule_masks_a_phone_field_and_never_shows_one_in_full(phone, masked):
    from app.services.privacy import mask_phone

    assert mask_phone(phone) == masked


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_a_masked_phone_hides_at_least_a_third_of_it(phone):
    from app.services.privacy import mask_phone

    shown = mask_phone(phone)
    assert shown is not None and len(shown) == len(phone)
    assert shown.count("*") * 3 >= len(phone) and shown != phone
