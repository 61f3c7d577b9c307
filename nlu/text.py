"""Vietnamese text normalisation shared by the Rasa components and the app.

Pure Python, no Rasa import: the app (Python 3.11) and the Rasa components
(Python 3.10) both use it, so "kich hoat" and "kích hoạt" meet the same way
everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "ABBREVIATIONS",
    "Word",
    "expand",
    "features_view",
    "fold",
    "has_diacritics",
    "normalize",
    "words",
]

# Abbreviations and teencode citizens type (DOMAIN.md §8.2), keyed by the
# NFC-lowercased token as typed. Keys are matched on the typed form, not the
# folded one, because folding merges words: "hỏng" (broken) and "hông"
# (teencode for "không") both fold to "hong".
ABBREVIATIONS: dict[str, str] = {
    # không
    "ko": "không",
    "k": "không",
    "kh": "không",
    "kg": "không",
    "hok": "không",
    "hk": "không",
    "hông": "không",
    "khum": "không",
    "khôg": "không",
    "khog": "không",
    "kô": "không",
    "hem": "không",
    # được, đăng ký
    "dc": "được",
    "đc": "được",
    "dk": "đăng ký",
    "đk": "đăng ký",
    "dky": "đăng ký",
    "đky": "đăng ký",
    "dki": "đăng ký",
    "đki": "đăng ký",
    "đkí": "đăng ký",
    "dangky": "đăng ký",
    # account, password, phone
    "mk": "mật khẩu",
    "tk": "tài khoản",
    "acc": "tài khoản",
    "sdt": "số điện thoại",
    "sđt": "số điện thoại",
    "std": "số điện thoại",
    "dt": "điện thoại",
    "đt": "điện thoại",
    "dthoai": "điện thoại",
    "đthoại": "điện thoại",
    "đthoai": "điện thoại",
    "nt": "nhắn tin",
    "tn": "tin nhắn",
    # định danh điện tử, cards, app
    "ddđt": "định danh điện tử",
    "đdđt": "định danh điện tử",
    "dddt": "định danh điện tử",
    "đddt": "định danh điện tử",
    "ddt": "định danh điện tử",
    "đdt": "định danh điện tử",
    "dd": "định danh",
    "đd": "định danh",
    "cccd": "căn cước công dân",
    "cmnd": "chứng minh nhân dân",
    "cmt": "chứng minh nhân dân",
    "vneid": "vneid",
    "vneld": "vneid",
    "vnelđ": "vneid",
    "vnid": "vneid",
    "vneiđ": "vneid",
    "vne1d": "vneid",
    "vnied": "vneid",
    "ud": "ứng dụng",
    "dvc": "dịch vụ công",
    "dv": "dịch vụ",
    "bhyt": "bảo hiểm y tế",
    "bhxh": "bảo hiểm xã hội",
    "gplx": "giấy phép lái xe",
    "mst": "mã số thuế",
    "m1": "mức 1",
    "m2": "mức 2",
    "lv1": "mức 1",
    "lv2": "mức 2",
    "level": "mức",
    # people and offices
    "cb": "cán bộ",
    "cskv": "cảnh sát khu vực",
    "cs": "cảnh sát",
    # question words and fillers
    "ntn": "như thế nào",
    "j": "gì",
    "gì": "gì",
    "z": "vậy",
    "dzậy": "vậy",
    "bn": "bao nhiêu",
    "bnhiu": "bao nhiêu",
    "r": "rồi",
    "trc": "trước",
    "cx": "cũng",
    "vs": "với",
    "mn": "mọi người",
    "hnay": "hôm nay",
    "bh": "bây giờ",
    "ng": "người",
    "đag": "đang",
    "dag": "đang",
    # thanks and agreement
    "tks": "cảm ơn",
    "thks": "cảm ơn",
    "thanks": "cảm ơn",
    "thank": "cảm ơn",
    "camon": "cảm ơn",
    "cám": "cảm",
    "ok": "ok",
    "oke": "ok",
    "okie": "ok",
    "okê": "ok",
    "oki": "ok",
}

# Two-token forms joined before lookup ("vn eid", "ca xã").
_PAIRS: dict[tuple[str, str], str] = {
    ("vn", "eid"): "vneid",
    ("vn", "id"): "vneid",
    ("ve", "id"): "vneid",
}
_POLICE_PLACES = {"xã", "xa", "phường", "phuong", "tỉnh", "tinh", "huyện", "huyen"}

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_REPEAT_RE = re.compile(r"(\w)\1{2,}", re.UNICODE)


def fold(text: str) -> str:
    """Remove Vietnamese diacritics: "Định danh" -> "Dinh danh"."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped.replace("đ", "d").replace("Đ", "D"))


def has_diacritics(text: str) -> bool:
    """Tell whether the text carries any Vietnamese diacritic (or đ)."""
    return fold(text) != unicodedata.normalize("NFC", text)


def normalize(text: str) -> str:
    """NFC-normalise, lower-case and squeeze letters repeated 3+ times."""
    text = unicodedata.normalize("NFC", text).lower()
    return _REPEAT_RE.sub(r"\1", text)


@dataclass(frozen=True)
class Word:
    """One normalised word with its position in the original text.

    Attributes:
        text: the word as typed (NFC, lower-cased).
        start: offset of the typed word in the original text.
        end: end offset of the typed word in the original text.
        norm: the word after abbreviation expansion (may hold spaces).
    """

    text: str
    start: int
    end: int
    norm: str


def _raw_words(text: str) -> list[tuple[str, int, int]]:
    # Squeezing repeats changes lengths, so match words on the NFC text and
    # normalise each word on its own: offsets stay those of the NFC text.
    nfc = unicodedata.normalize("NFC", text)
    return [(normalize(m.group()), m.start(), m.end()) for m in _WORD_RE.finditer(nfc)]


def words(text: str, *, expand_abbreviations: bool = True) -> list[Word]:
    """Split text into normalised words, expanding abbreviations."""
    raw = _raw_words(text)
    out: list[Word] = []
    i = 0
    while i < len(raw):
        typed, start, end = raw[i]
        if expand_abbreviations and i + 1 < len(raw):
            nxt, _, nxt_end = raw[i + 1]
            pair = _PAIRS.get((fold(typed), fold(nxt)))
            if pair is not None:
                out.append(Word(f"{typed} {nxt}", start, nxt_end, pair))
                i += 2
                continue
            if typed == "ca" and nxt in _POLICE_PLACES:
                out.append(Word(typed, start, end, "công an"))
                i += 1
                continue
        norm = ABBREVIATIONS.get(typed, typed) if expand_abbreviations else typed
        out.append(Word(typed, start, end, norm))
        i += 1
    return out


def expand(text: str) -> str:
    """Return the normalised text with abbreviations expanded."""
    return " ".join(w.norm for w in words(text))


def features_view(text: str, *, diacritics: bool = False) -> Iterator[str]:
    """Yield the feature words of a text: expanded and, by default, folded."""
    for w in words(text):
        for part in w.norm.split():
            yield part if diacritics else fold(part)
