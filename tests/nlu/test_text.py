"""Vietnamese normalisation (nlu/text.py)."""

import pytest

from nlu import text as vn


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Kích Hoạt", "kich hoat"),
        ("ĐỊNH DANH điện tử", "dinh danh dien tu"),
        ("Quảng Ngãi", "quang ngai"),
        ("đăk", "dak"),
    ],
)
def test_fold_removes_diacritics(typed, expected):
    assert vn.fold(typed.lower()) == expected


def test_fold_handles_decomposed_unicode():
    decomposed = "kích hoạt".encode().decode()  # NFC literal
    import unicodedata

    nfd = unicodedata.normalize("NFD", decomposed)
    assert nfd != decomposed
    assert vn.fold(nfd) == "kich hoat"


@pytest.mark.parametrize(
    ("typed", "expanded"),
    [
        ("otp ko về", "otp không về"),
        ("quên mk", "quên mật khẩu"),
        ("sdt sai", "số điện thoại sai"),
        ("đk ddđt", "đăng ký định danh điện tử"),
        ("VNelD bị lỗi", "vneid bị lỗi"),
        ("vn eid là j", "vneid là gì"),
        ("ra ca xã", "ra công an xã"),
        ("không đc", "không được"),
        ("khônggggg", "không"),
    ],
)
def test_expand_abbreviations(typed, expanded):
    assert vn.expand(typed) == expanded


def test_expansion_keeps_real_words_apart():
    # "hỏng" (broken) must not become "không", though it folds to "hong".
    assert vn.expand("điện thoại hỏng") == "điện thoại hỏng"
    # "ca" alone is not "công an" (only before xã/phường/...).
    assert vn.expand("ca sĩ") == "ca sĩ"


def test_words_keep_offsets_of_the_typed_text():
    text = "Quên  MK rồi"
    words = vn.words(text)
    assert [(w.start, w.end) for w in words] == [(0, 4), (6, 8), (9, 12)]
    assert [text[w.start : w.end].lower() for w in words] == [w.text for w in words]
    assert words[1].norm == "mật khẩu"


def test_features_view_is_the_same_with_or_without_diacritics():
    assert list(vn.features_view("kích hoạt tk ko đc")) == list(
        vn.features_view("kich hoat tai khoan khong duoc")
    )


def test_has_diacritics():
    assert vn.has_diacritics("kích hoạt")
    assert vn.has_diacritics("dđ")
    assert not vn.has_diacritics("kich hoat 123 ?!")


def test_no_words_in_emoji_only_text():
    assert vn.words("😀😀 !!! ") == []
