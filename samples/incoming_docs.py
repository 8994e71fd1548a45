"""Received documents for the 收文 tests and the bench, made at test time with real parts: a 上级 通知
and others rendered by gongwen's own templates for *another* organ's instance (衡阳市人民政府) and
converted by LibreOffice; scans rasterised from those PDFs by poppler at a chosen dpi; hostile files
built with pikepdf and Pillow."""
from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import yaml

from pipeline.model import Block, Draft, Number
from samples.instance import REPO, write_instance

FIXTURES = REPO / "tests" / "fixtures" / "incoming"
OFD_SAMPLE = FIXTURES / "路卫发〔2011〕76号-批复.ofd"

# The 上级 通知 every real-file test starts from.
NOTICE_NUMBER = "衡政发〔2015〕12号"
NOTICE_TITLE = "衡阳市人民政府关于开展2015年安全生产大检查的通知"
NOTICE_SENDER = "衡阳市人民政府"
NOTICE_DATE = dt.date(2015, 2, 16)
NOTICE_PHRASE = "烟花爆竹"          # in the body: found by search after OCR
NOTICE_BODY = (
    Block("paragraph", "为切实做好2015年全市安全生产工作，有效防范和坚决遏制重特大事故发生，经市人民政府同意，"
                       "决定在全市范围内开展安全生产大检查。现将有关事项通知如下。"),
    Block("heading1", "一、检查时间"),
    Block("paragraph", "自2015年3月1日起至2015年5月31日止，分自查自纠、重点检查、总结提高三个阶段进行。"),
    Block("heading1", "二、检查重点"),
    Block("paragraph", "重点检查道路交通、建筑施工、危险化学品、烟花爆竹、消防、人员密集场所等行业领域，"
                       "着力排查治理重大隐患。"),
    Block("heading1", "三、工作要求"),
    Block("paragraph", "各县市区人民政府和市直各有关单位要高度重视，加强组织领导，落实工作责任，确保大检查取得实效。"
                       "请于2015年6月10日前将大检查工作总结报送市安委办。"),
)


def upstream_config(root: Path):
    """An instance of the organs that write to the office: 衡阳市人民政府 (上级) and the district's
    安监局 (下级) — their documents come out of gongwen's templates as a real office's would."""
    from pipeline.config import load

    path = write_instance(
        root,
        organisation={"name": "衡阳市人民政府办公室", "fonds_code": "H001", "unit": {"name": "办公室", "code": "BGS"}},
        series={
            "衡政发": {"issuer": NOTICE_SENDER, "header": "衡阳市人民政府文件", "kinds": ["通知", "批复"],
                      "printer": "衡阳市人民政府办公室"},
            "珠安监": {"issuer": "珠晖区安全生产监督管理局", "header": "珠晖区安全生产监督管理局文件",
                      "kinds": ["请示", "报告"], "printer": "珠晖区安全生产监督管理局办公室"},
        },
        intake={"routes": [{"folder": "衡政发", "series": "衡政发"}]},
        archive={"scheme": ["年度", "保管期限", "机构"], "retention": [{"period": "D30"}]})
    return load(path)


def notice(seq: int = 12, **over) -> tuple[Draft, Number]:
    """The 上级 通知 (衡政发〔2015〕12号), with any field replaced."""
    base = dict(source="notice.yaml", source_format="yaml", kind="通知", series="衡政发", title=NOTICE_TITLE,
                main_to="各县市区人民政府，市直各有关单位", body=NOTICE_BODY, signature=NOTICE_SENDER,
                date=NOTICE_DATE, date_text="2015年2月16日", printer="衡阳市人民政府办公室",
                print_date=dt.date(2015, 2, 17), print_date_text="2015年2月17日", cc="市委各部门，市人大常委会办公室")
    base.update(over)
    return Draft(**base), Number("衡政发", 2015, seq, f"衡政发〔2015〕{seq}号", f"衡政发〔2015〕{seq}号")


def request_draft() -> tuple[Draft, Number]:
    """A 请示 from a subordinate (the 安监局) to the district government."""
    body = (Block("paragraph", "为做好全区安全生产大检查工作，我局拟于2015年3月开展危险化学品企业专项检查，"
                               "需经费12万元。现将有关事项请示如下。"),
            Block("paragraph", "妥否，请批示。"))
    d = Draft(source="request.yaml", source_format="yaml", kind="请示", series="珠安监",
              title="珠晖区安全生产监督管理局关于请求拨付安全生产专项检查经费的请示", main_to="珠晖区人民政府",
              body=body, signature="珠晖区安全生产监督管理局", date=dt.date(2015, 2, 25), date_text="2015年2月25日",
              signers=("王建国",), printer="珠晖区安全生产监督管理局办公室", print_date=dt.date(2015, 2, 25),
              print_date_text="2015年2月25日")
    return d, Number("珠安监", 2015, 8, "珠安监〔2015〕8号", "珠安监〔2015〕8号")


def render_pdf(draft: Draft, number: Number, config, out_dir: Path, name: str, *, converter=None,
               seal: bool = False) -> tuple[Path, Path]:
    """(.docx, .pdf) of a document as its writer would send it: gongwen's template, LibreOffice's PDF;
    ``seal``: the writer's red seal over the 署名 and date, as on a real 正本."""
    from pipeline import render, stamp
    from pipeline.convert import convert_once

    out_dir.mkdir(parents=True, exist_ok=True)
    docx, pdf = out_dir / f"{name}.docx", out_dir / f"{name}.pdf"
    # laid out as the writer's gongwen does it: again while the stamp step asks (GB/T 9704 7.3.5.5)
    render.lay_out(draft, number, config, docx,
                   convert=lambda d: converter.convert(d, pdf) if converter is not None else convert_once(d, pdf, config),
                   settle=lambda layout: stamp.check_layout(pdf, draft=draft, config=config, last_attempt=layout.last))
    if seal:
        from pipeline.seal import apply_seal, place_seal, seal_for

        placement = place_seal(pdf, signature=draft.signature, date_text=draft.date_text, diameter_mm=42)
        sealed = out_dir / f"{name}.sealed.pdf"
        apply_seal(pdf, sealed, seal_for(draft.signature, config), placement)
        sealed.replace(pdf)
    return docx, pdf


def rasterise(pdf: Path, out: Path, dpi: int = 200, *, first: int | None = None, last: int | None = None,
              image: str | None = None) -> Path:
    """A scan of ``pdf``: pages rendered by poppler at ``dpi``, wrapped as an image-only PDF (no text
    layer) — or, with ``image`` ("jpeg"/"png"/"tiff"), the first page as that image file."""
    import img2pdf

    with tempfile.TemporaryDirectory() as td:
        fmt = {"jpeg": "-jpeg", "png": "-png", "tiff": "-tiff"}.get(image or "png")
        args = ["pdftoppm", fmt, "-r", str(dpi)]
        if first:
            args += ["-f", str(first)]
        if last:
            args += ["-l", str(last)]
        subprocess.run(args + [str(pdf), f"{td}/p"], check=True, timeout=300)
        pages = sorted(Path(td).glob("p-*"))
        if image:
            out.write_bytes(pages[0].read_bytes())
            return out
        out.write_bytes(img2pdf.convert([str(p) for p in pages],
                                        layout_fun=img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))))
    return out


def word97(docx: Path, out: Path) -> Path:
    """The .docx saved by LibreOffice as a Word-97 .doc (the format Kingsoft's .wps also is)."""
    from pipeline.convert import find_soffice

    with tempfile.TemporaryDirectory() as td:
        subprocess.run([str(find_soffice()), f"-env:UserInstallation=file://{td}/profile", "--headless",
                        "--norestore", "--convert-to", "doc", "--outdir", td, str(docx)],
                       check=True, timeout=180, capture_output=True, env={"HOME": td, "PATH": "/usr/bin:/bin"})
        made = Path(td) / (docx.stem + ".doc")
        out.write_bytes(made.read_bytes())
    return out


def with_javascript(pdf: Path, out: Path) -> Path:
    """``pdf`` with an /OpenAction JavaScript and a JavaScript name tree entry."""
    import pikepdf

    with pikepdf.open(pdf) as doc:
        js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x');"))
        doc.Root.OpenAction = doc.make_indirect(js)
        names = doc.Root.get("/Names") or pikepdf.Dictionary()
        names.JavaScript = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), doc.make_indirect(js)]))
        doc.Root.Names = names
        doc.save(out)
    return out


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
