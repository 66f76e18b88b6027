"""Import forms: the upload of a CSV or Excel file."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired


class UploadForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        "Upload a file",
        description="A CSV file (.csv) or an Excel workbook (.xlsx), up to 20 MB.",
        validators=[
            FileRequired("Select a CSV file or an Excel workbook"),
            FileAllowed(
                ["csv", "xlsx"],
                "The file must be a CSV file (.csv) or an Excel workbook (.xlsx)",
            ),
        ],
    )
