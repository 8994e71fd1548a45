"""Setting up an instance: config, folders, templates, fonts and demo keys. Idempotent."""
from __future__ import annotations

import shutil
from pathlib import Path

from .config import DEFAULT_CONFIG, load, resolve_path

REPO = Path(__file__).resolve().parent.parent


def init_instance(directory: Path | None, config_path: str | None) -> list[str]:
    """Create whatever the instance is missing and say what was done (Chinese lines).

    With ``directory``: a new instance there, a copy of the default config (this repository's
    config.yaml), the templates and the font map. Without: the instance of ``config_path``."""
    lines: list[str] = []
    if directory is not None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        cfg_file = directory / DEFAULT_CONFIG
        if not cfg_file.exists():
            shutil.copyfile(REPO / DEFAULT_CONFIG, cfg_file)
            lines.append(f"已创建配置 {cfg_file}（按需修改机关名称、全宗号和发文系列）")
        for folder in ("templates", "fonts"):
            dest = directory / folder
            if not dest.exists() and (REPO / folder).is_dir():
                shutil.copytree(REPO / folder, dest)
                lines.append(f"已复制 {folder}/ → {dest}")
    else:
        cfg_file = resolve_path(config_path)
    config = load(cfg_file)
    folders = [config.inbox / r.folder for r in config.intake.routes]
    folders += [config.inbox / config.supervision.folder, config.inbox / config.incoming.folder]
    folders += [config.proofs / r.folder for r in config.intake.routes]
    folders += [config.outbox, config.rejected, config.archive_dir, config.work_dir]
    made = [f for f in folders if not f.exists()]
    for f in folders:
        f.mkdir(parents=True, exist_ok=True)
    if made:
        lines.append("已创建文件夹：" + "、".join(str(f.relative_to(config.base)) if f.is_relative_to(config.base)
                                              else str(f) for f in made))
    if not config.path(config.signing.pkcs12).exists():
        from .stamp import init_demo_pki

        init_demo_pki(config)
        lines.append(f"已生成演示证书 {config.path(config.signing.pkcs12)}"
                     "（自签名，仅供演示，正式用印请换用本机关的数字证书）")
    return lines
