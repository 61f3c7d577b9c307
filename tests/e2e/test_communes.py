"""Commune lookup through the real stack: old names, traps, the province."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e


def sender():
    return f"cm-{uuid.uuid4().hex[:12]}"


def test_an_old_commune_typed_without_diacritics(stack):
    reply = stack.chat(sender(), "xa dak choong cu gio la xa nao")
    assert reply[0]["text"].startswith(
        "Xã Đăk Choong (huyện Đăk Glei) cũ nay thuộc xã Xốp, tỉnh Quảng Ngãi."
    )
    assert "{" not in reply[0]["text"]


def test_a_name_trap_asks_then_answers(stack):
    who = sender()
    reply = stack.chat(who, "xã Đăk Long cũ giờ thuộc xã nào vậy")
    titles = [b["title"] for b in reply[0]["buttons"]]
    assert titles == ["xã Đăk Long (huyện Đăk Glei)", "xã Đăk Long (huyện Đăk Hà)"]
    answer = stack.chat(who, reply[0]["buttons"][1]["payload"])
    assert "xã Đăk Pxi, tỉnh Quảng Ngãi" in answer[0]["text"]
    # typing the number works too
    stack.chat(who, "xã Đăk Long cũ giờ thuộc xã nào vậy")
    assert "xã Đăk Long, tỉnh Quảng Ngãi" in stack.chat(who, "1")[0]["text"]


def test_the_former_province(stack):
    reply = stack.chat(sender(), "tinh kon tum cu nhap vao tinh nao roi")
    assert "tỉnh Quảng Ngãi" in reply[0]["text"]
