"""The XML parts of a .docx, to compare templates byte for byte."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

XML_PARTS = re.compile(r"^word/(document|styles|settings|header\d*|footer\d*)\.xml$")


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if XML_PARTS.match(n)}
