"""Fixed replies of the gateway, for when Rasa is not asked or cannot answer."""

from bot.chat.schemas import OutgoingMessage
from bot.faq.schemas import Button

MENU = Button(title="Xem các chủ đề", payload="/show_menu")
OFFICER = Button(title="Gặp cán bộ", payload="/request_handoff")

EMPTY = OutgoingMessage(
    text='Bạn chưa gõ gì. Bạn hãy gõ câu hỏi, ví dụ: "cách kích hoạt định danh", '
    "hoặc chọn một chủ đề.",
    buttons=[MENU],
)
NO_WORDS = OutgoingMessage(
    text="Tôi chỉ đọc được chữ. Bạn hãy gõ câu hỏi bằng chữ (có dấu hay không dấu "
    "đều được), hoặc chọn một chủ đề.",
    buttons=[MENU],
)
TOO_LONG = OutgoingMessage(
    text="Tin nhắn dài quá, tôi chưa đọc được. Bạn hãy gõ ngắn gọn câu hỏi chính "
    '(vài câu thôi), ví dụ: "không nhận được mã OTP".',
    buttons=[MENU],
)
BUSY = OutgoingMessage(
    text="Hệ thống đang bận, bạn thử lại sau ít phút nhé. Nếu cần gấp, bạn đến Công an "
    "xã/phường gần nhất, mang theo thẻ căn cước và điện thoại có SIM chính chủ. "
    "Công an không bao giờ hỏi mã OTP hay mật khẩu qua điện thoại.",
)
NO_REPLY = OutgoingMessage(
    text="Xin lỗi, tôi chưa có câu trả lời cho tin nhắn này. Bạn thử gõ lại, hoặc chọn một chủ đề.",
    buttons=[MENU],
)
SCAM_FALLBACK = OutgoingMessage(
    text="⚠️ Cẩn thận lừa đảo. Không đọc mã OTP, mật khẩu hay passcode cho ai, kể cả người xưng "
    "là công an. Công an không kích hoạt VNeID qua điện thoại. Nghi ngờ thì đến thẳng Công an "
    "xã/phường để hỏi.",
    buttons=[OFFICER],
)
GONE = OutgoingMessage(
    text="Nội dung này vừa được cập nhật. Bạn gõ lại câu hỏi, hoặc chọn một chủ đề.",
    buttons=[MENU],
)
NOTHING_TO_CANCEL = OutgoingMessage(
    text="Bạn không có yêu cầu nào đang chờ cán bộ. Bạn cứ hỏi tiếp, hoặc chọn một chủ đề.",
    buttons=[MENU],
)

# Pictures, stickers, voice and files, on the channels that can send them.
PHOTO = OutgoingMessage(
    text=(
        "Tôi chưa xem được ảnh. Bạn gõ giúp tôi dòng chữ báo lỗi trên màn hình (ví dụ: "
        '"thông tin không hợp lệ"), hoặc nhờ cán bộ Công an xã xem giúp.'
    ),
    buttons=[OFFICER, MENU],
)
NOT_TEXT = OutgoingMessage(
    text="Tôi chỉ đọc được chữ. Bạn gõ câu hỏi bằng chữ giúp tôi (có dấu hay không dấu đều được).",
    buttons=[MENU],
)
