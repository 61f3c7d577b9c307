"""The scam guard: the signs it sees, the false alarms it must not raise, and the gateway."""

from __future__ import annotations

import json

import httpx
import pytest
import yaml

from bot.chat.guard import Sign, inspect
from bot.chat.identity import Citizen
from bot.chat.service import Gateway
from bot.config import PROJECT_ROOT
from bot.db import Database
from bot.privacy.mask import mask
from scripts.guard_rate import rates
from tests.auxil.rasa_http import fake_rasa, never_called


@pytest.mark.parametrize(
    "text",
    [
        "482913",
        "mã của tôi là 482 913",
        "otp482913",
        "4 8 2 9 1 3",
        "48.29.13",
        "48-29-13 đây ạ",
        "bốn tám hai chín một ba",
        "bon tam hai chin mot ba",
    ],
)
def test_codes_in_any_shape(text):
    verdict = inspect(text)
    assert verdict is not None and Sign.CODE in verdict.signs
    assert "482" not in mask(text) and "4 8 2" not in mask(text)


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("có người gọi xin mã OTP của tôi", Sign.ASKED),
        ("họ hỏi mật khẩu vneid để kiểm tra", Sign.ASKED),
        ("nó bắt tôi đọc mã 6 số", Sign.ASKED),
        ("ho goi dien doi toi doc ma otp de kich hoat", Sign.ASKED),
        ("có người gửi file vneid.apk bảo cài", Sign.LINK),
        ("ai do nhan zalo gui link cap nhat vneid ban moi", Sign.LINK),
        ("http://vneid-gov.top/update có phải trang thật không", Sign.LINK),
        ("bảo cài ứng dụng qua đường link để đồng bộ định danh", Sign.LINK),
        ("cán bộ gọi video bảo chia sẻ màn hình", Sign.LINK),
        ("công an phường gọi nói vneid bị lỗi cần cập nhật", Sign.CALL),
        ("công an gọi điện bảo kích hoạt định danh mức 2 giúp tôi", Sign.CALL),
        ("kich hoat ho qua dien thoai duoc khong", Sign.CALL),
        ("có người xưng công an huyện gọi cho tôi", Sign.DISTRICT),
    ],
)
def test_scam_signs(text, sign):
    verdict = inspect(text)
    assert verdict is not None and sign in verdict.signs, (text, verdict)


@pytest.mark.parametrize(
    "text",
    [
        "đã lỡ đọc mã cho người lạ",
        "tôi đọc otp cho họ rồi",
        "toi lo cai app tu link roi",
        "bị trừ hết tiền sau khi cài ứng dụng vneid từ link zalo",
        "người xưng cán bộ nói kích hoạt giùm, tôi lỡ đọc cho họ mấy con số trong tin nhắn",
    ],
)
def test_it_already_happened(text):
    verdict = inspect(text)
    assert verdict is not None and verdict.happened


@pytest.mark.parametrize(
    "text",
    [
        "không nhận được mã otp",
        "otp không gửi về máy",
        "app bảo nhập mã otp",
        "vào dịch vụ nó đòi passcode mà tôi quên",
        "đăng nhập máy mới nó báo mã xác nhận gửi về máy cũ",
        "mật khẩu phải có bao nhiêu ký tự",
        "mất 100.000 đồng phí làm thẻ à",
        "nhận 100000 đồng quà an sinh thế nào",
        "số điện thoại của tôi là 0912 345 678",
        "vào trang vneid.gov.vn kích hoạt được không",
        "dichvucong.gov.vn đăng nhập sao",
        "công an xã gọi tôi lên làm định danh",
        "15/12/2025 có bị phạt không",
        "/faq/otp_not_received",
        "con tôi gọi điện nhờ tôi kích hoạt giúp nó",
        "cán bộ xã có kích hoạt giùm người già không",
    ],
)
def test_ordinary_questions_pass(text):
    assert inspect(text) is None


def test_false_alarms_on_the_evaluation_questions_stay_under_two_percent():
    items = yaml.safe_load((PROJECT_ROOT / "tests/eval/questions.yml").read_text("utf-8"))
    false_rate, catch_rate, alarms = rates(items)
    assert false_rate < 0.02, alarms
    assert catch_rate >= 0.5


def rasa_replies(seen, text="Trả lời của Rasa."):
    def handler(request):
        seen.append(json.loads(request.content)["message"])
        return httpx.Response(200, json=[{"recipient_id": "web:g", "text": text}])

    return fake_rasa(handler)


async def test_the_warning_comes_first_and_rasa_never_sees_the_code(session_factory):
    seen = []
    gateway = Gateway(Database(session_factory, threads=2), rasa_replies(seen))
    out = await gateway.answer(Citizen.parse("web:g"), "công an gọi bảo đọc mã 482913 để kích hoạt")
    assert out[0].text.startswith("⚠️")
    assert "Lỡ bị lừa rồi" in [b.title for b in out[0].buttons]
    assert out[-1].text == "Trả lời của Rasa."
    assert "482913" not in seen[0] and "******" in seen[0]
    assert not any("482913" in m.text for m in out)  # never echoed back


async def test_a_bare_code_gets_the_warning_without_rasa(session_factory):
    gateway = Gateway(Database(session_factory, threads=2), fake_rasa(never_called))
    out = await gateway.answer(Citizen.parse("web:g"), "4 8 2 9 1 3")
    assert len(out) == 1 and out[0].text.startswith("⚠️")


async def test_after_the_fact_steps_then_the_button_shows_them_again(session_factory):
    seen = []
    gateway = Gateway(Database(session_factory, threads=2), rasa_replies(seen))
    citizen = Citizen.parse("web:g2")
    out = await gateway.answer(citizen, "tôi lỡ đọc mã otp cho người xưng công an rồi")
    assert "ngân hàng" in out[0].text and "Công an xã" in out[0].text
    again = await Gateway(Database(session_factory, threads=2), fake_rasa(never_called)).answer(
        citizen, "/scam_after"
    )
    assert again[0].text == out[0].text


async def test_a_district_police_caller_is_named_a_red_flag(session_factory):
    gateway = Gateway(Database(session_factory, threads=2), rasa_replies([]))
    out = await gateway.answer(Citizen.parse("web:g3"), "có người xưng công an huyện gọi cho tôi")
    assert "không còn công an huyện" in out[0].text
