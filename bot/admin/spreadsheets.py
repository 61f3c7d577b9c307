"""CSV for the console: downloads spreadsheet programs read, cells they never run as formulas."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi import HTTPException, UploadFile
from fastapi.responses import Response

__all__ = ["MAX_UPLOAD", "csv_cell", "csv_response", "csv_text", "read_csv_upload"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: citizens' words like "=HYPERLINK(...)" stay inert.

    Numbers (a Telegram group id such as -100123) are left as they are.
    """
    if isinstance(value, str) and value.startswith(_FORMULA) and not _NUMBER.match(value):
        return "'" + value
    return value


def csv_text(value: str | None) -> str:
    """A cell read back from a CSV: trimmed, without the quote ``csv_cell`` added."""
    text = (value or "").strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA):
        text = text[1:]
    return text


def csv_response(rows: list[dict[str, Any]], fieldnames: list[str], filename: str) -> Response:
    """Rows as a CSV download (UTF-8 with BOM, so spreadsheet programs read Vietnamese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=fieldnames)
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


MAX_UPLOAD = 1_000_000  # an uploaded CSV (officers, communes, figures): 1 MB


async def read_csv_upload(file: UploadFile, required: set[str]) -> list[dict[str, str]]:
    """The rows of an uploaded CSV (UTF-8, with or without BOM), trimmed; 400 when unusable."""
    raw = await file.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        raise HTTPException(status_code=400, detail="Tệp quá lớn (tối đa 1 MB).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(
            status_code=400, detail="Tệp không phải CSV mã UTF-8 (lưu lại với mã UTF-8)."
        ) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = required - set(reader.fieldnames or [])
    if missing:
        raise HTTPException(
            status_code=400, detail="Thiếu cột: " + ", ".join(sorted(missing)) + "."
        )
    return [{k: csv_text(v) for k, v in row.items() if k is not None} for row in reader]
