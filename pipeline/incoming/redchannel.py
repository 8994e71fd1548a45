"""OCRmyPDF plugin: Tesseract reads the red channel of each page only.

A red seal stamped over the 署名 and 成文日期 (GB/T 9704 7.3.5: 居中下压) turns black text under it into
dark red, which Tesseract cannot separate from the seal: in colour the 署名 and the date were lost in
every run measured (recipes-next.md §1). In the red channel the red ink is near white and the black
text stays black, so the signature block comes back. The red 发文机关标志 goes with the seal; the
reader takes the 发文机关 from the 署名 instead. Only the image Tesseract sees changes: the page
image in the output PDF keeps its colour.
"""
from ocrmypdf import hookimpl


@hookimpl
def filter_ocr_image(page, image):  # noqa: ARG001 — the hook's signature
    return image.convert("RGB").getchannel("R")
