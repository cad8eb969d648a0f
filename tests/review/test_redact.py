"""Redaction catches each class of personal data and keeps the hotline numbers."""
from __future__ import annotations

import pytest

from handoff.review.redact import ADDRESS, ID_NUMBER, LANDLINE, NAME, PHONE, redact, valid_id_number


@pytest.mark.parametrize("text,expected", [
    ("我的手机13812345678", "我的手机" + PHONE),
    ("打138-1234-5678找我", "打" + PHONE + "找我"),
    ("+86 139 1234 5678", PHONE),
    ("号码是19912345678。", "号码是" + PHONE + "。"),
])
def test_mobile_numbers(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["家里010-12345678", "办公室(0755)1234567", "座机 021 87654321"])
def test_landlines_with_area_code(text):
    assert LANDLINE in redact(text) and not any(c.isdigit() for c in redact(text).split("]")[-1])


def test_id_numbers_with_checksum_x():
    assert valid_id_number("11010519491231002X")
    assert redact("身份证11010519491231002X") == "身份证" + ID_NUMBER
    assert redact("身份证号 110105194912310021") == "身份证号 110105194912310021"  # wrong checksum: not an ID


def test_addresses():
    assert redact("我住在广东省深圳市南山区科技园路88号3栋502室，很近") == "我住在" + ADDRESS + "，很近"
    assert redact("阳光小区5号楼2单元301室") == ADDRESS
    assert redact("我在深圳市工作") == "我在深圳市工作"  # a city alone does not identify anyone


def test_known_names():
    assert redact("王小明说他很难过", names=["王小明"]) == NAME + "说他很难过"
    assert redact("我很难过", names=[""]) == "我很难过"


@pytest.mark.parametrize("text", ["请拨打12356心理援助热线", "紧急情况请打110或120", "也可以打4001619995"])
def test_hotline_and_emergency_numbers_are_kept(text):
    assert redact(text) == text


def test_ordinary_words_are_left_alone():
    text = "我最近一直失眠，不知道该怎么办，心里很乱"
    assert redact(text) == text
