"""What is done with a claimed file, by kind: a draft goes through the pipeline (``process_draft``), a
交办清单 from the 督办 folder onto the 督办台账, a document from the 收文 folder into the 收文 register, a
清样 snapshot back to the proofs desk; a link, FIFO or device is refused unopened. Each answer goes
to ``Outcomes``, which puts the file where it says."""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..config import Config
from ..errors import GongwenError
from ..fsutil import readable
from ..model import Outcome, Problem
from .claims import SNAPSHOT, Claim, Claims, drop_claim_dir, move_to_free, route_for_key, same_content
from .events import EventKind, IntakeEvent, Reporter, human_s
from .hooks import Hooks
from .outcomes import Outcomes
from .proofdesk import ProofDesk
from .readiness import entry_kind
from .space import SpaceGuard

if TYPE_CHECKING:
    from ..process import Services

log = logging.getLogger("gongwen.intake")


class Handlers:
    """Runs one claim by its kind (the folder it came through) and hands the answer to ``Outcomes``.
    ``import_key`` / ``receive_key``: the 督办 and 收文 folders' keys (None: not watched)."""

    def __init__(self, config: Config, svc: Services, hooks: Hooks, claims: Claims, outcomes: Outcomes,
                 reporter: Reporter, space: SpaceGuard, *, proofdesk: ProofDesk | None,
                 import_key: str | None, receive_key: str | None):
        self.config, self.svc, self.hooks, self.claims = config, svc, hooks, claims
        self.outcomes, self.reporter, self.space, self.proofdesk = outcomes, reporter, space, proofdesk
        self.import_key, self.receive_key = import_key, receive_key

    def handle(self, claim: Claim, *, fresh: bool = False) -> None:
        """Run one claimed draft (or 交办清单) through the pipeline and put it where the result says. A
        file operation that fails (a full disk) makes it 'failed': kept and tried again, never a stop.
        ``fresh``: claimed just now (its record already says what it is; see Intake._take)."""
        try:
            self._handle_claim(claim, fresh)
        except OSError as e:
            log.warning("处理 %s 时文件操作失败：%s", claim.path, e)
            self.outcomes.failed(claim, Outcome(file=str(claim.path), status="failed",
                                                problems=(Problem("处理", self.space.trouble(e)),)), 0.0)

    def _handle_claim(self, claim: Claim, fresh: bool) -> None:
        if claim.method == SNAPSHOT and self.proofdesk is not None:   # a 清样 retried
            self.proofdesk.handle(claim)
            return
        kind = entry_kind(claim.path)
        if kind not in ("file", None) or claim.state == "refused":
            # whatever the record says: only a regular file is ever opened
            problem = Problem("文件", _refusal(claim.path, kind))
            self.outcomes.reject(claim, "unsupported", [problem], message=problem.message)
            return
        if claim.route_key == self.import_key and self.hooks.import_items is not None:
            self._handle_import(claim, fresh, self.hooks.import_items)
            return
        if claim.route_key == self.receive_key and self.hooks.receive is not None:
            self._handle_received(claim, fresh, self.hooks.receive)
            return
        known, route = route_for_key(self.config, claim.route_key)
        if not known:
            log.warning("路由 %s 已不在配置中，按无路由处理：%s", claim.route_key, claim.path)
        if claim.state == "unsupported" or claim.path.suffix.lower() not in self.hooks.suffixes:
            accepted = "、".join(sorted(self.hooks.suffixes))
            problem = Problem("文件类型", f"不支持 {claim.path.suffix or '无扩展名'} 文件；"
                                          f"请提交以下类型的草稿：{accepted}")
            self.outcomes.reject(claim, "unsupported", [problem], message=problem.message)
            return
        if claim.state == "invalid":
            problem = Problem("文件", f"{claim.reason}（等待 {human_s(self.config.intake.invalid_timeout_s)}"
                                      "后仍无法打开，请检查后重新提交）")
            self.outcomes.reject(claim, "invalid", [problem], message=claim.reason)
            return
        # The pipeline ran on this claim before (a crash, a failure, an unconfirmed archive copy):
        # a "duplicate" answer may then be this very draft's own document.
        if fresh and claim.state == "processing":
            earlier = "claimed"     # claimed just now, recorded as processing in the same write
        else:
            earlier = claim.state
            claim.state, claim.attempts = "processing", claim.attempts + 1
            claim.save(durable=False)   # bookkeeping: see claims.claim_file
        t0 = time.perf_counter()
        try:
            outcome = self.hooks.process(claim.path, self.svc, route=route)
        except Exception as e:  # a bug or an unforeseen error must not stop the service
            log.exception("处理草稿时出错：%s", claim.path)
            outcome = Outcome(file=str(claim.path), status="failed",
                              problems=(Problem("处理", f"内部错误：{type(e).__name__}: {e}"),))
        seconds = outcome.seconds if outcome.seconds is not None else time.perf_counter() - t0
        if outcome.status == "issued":
            self.outcomes.issued(claim, outcome, seconds, earlier=earlier)
        elif outcome.status == "rejected":
            problems = list(outcome.problems) or [Problem("草稿", "草稿未通过检查")]
            errors = [p for p in problems if p.severity == "error"]
            self.outcomes.reject(claim, "rejected", problems, outcome=outcome, seconds=seconds,
                                 message=f"{len(errors or problems)} 个问题")
        else:
            self.outcomes.failed(claim, outcome, seconds)

    def _start_other(self, claim: Claim, fresh: bool, suffixes: frozenset[str], takes: str, again: str) -> bool:
        """A claim from a folder of other files (督办, 收文): refuse a type it does not take or a file
        that never opened, each with its note; else mark it in progress. False when refused."""
        if claim.state == "unsupported" or claim.path.suffix.lower() not in suffixes:
            problem = Problem("文件类型", f"{takes}（{'、'.join(sorted(suffixes))}），"
                                          f"不收 {claim.path.suffix or '无扩展名'} 文件")
            self.outcomes.reject(claim, "unsupported", [problem], message=problem.message)
            return False
        if claim.state == "invalid":
            problem = Problem("文件", f"{claim.reason}（请检查后{again}）")
            self.outcomes.reject(claim, "invalid", [problem], message=claim.reason)
            return False
        if not (fresh and claim.state == "processing"):   # claimed just now: recorded so already
            claim.state, claim.attempts = "processing", claim.attempts + 1
            claim.save()
        return True

    def _handle_import(self, claim: Claim, fresh: bool, import_items: Callable[[Services, Path], Any]) -> None:
        """A 交办清单 from the 督办 folder: its good rows go onto the 督办台账. All taken → the file is
        kept with the 台账 (archive/督办/交办清单/); rows left out → the file goes to rejected/ with a
        note naming each row (re-dropping it after the fix adds only those rows)."""
        if not self._start_other(claim, fresh, self.hooks.import_suffixes, "督办文件夹只收交办清单", "重新提交"):
            return
        t0 = time.perf_counter()
        try:
            result = import_items(self.svc, claim.path)
        except GongwenError as e:       # the file itself cannot be read: nothing was taken
            self.outcomes.reject(claim, "rejected", [Problem("交办清单", str(e))], message=str(e))
            return
        except Exception as e:  # a busy register, a bug: keep the file and try again
            log.exception("录入交办清单时出错：%s", claim.path)
            self.outcomes.failed(claim, Outcome(file=str(claim.path), status="failed",
                                                problems=(Problem("督办", f"录入未完成：{type(e).__name__}: {e}"),)),
                                 time.perf_counter() - t0)
            return
        seconds = time.perf_counter() - t0
        if result.rejected:
            taken = [i.reference for i in (*result.added, *result.existing)]
            header = (f"本清单其余 {len(taken)} 件已录入督办台账" + (f"（{'、'.join(taken[:20])}）" if taken else "")
                      + f"；修改下列各行后，可将整个文件重新放入 {self.config.paths.inbox}/{self.import_key}/，"
                        "已录入的不会重复")
            self.outcomes.reject(claim, "rejected", result.problems(), message=result.summary(), seconds=seconds,
                                 header=header)
            return
        try:
            dest = move_to_free(claim.path, self.config.archive_dir / "督办" / "交办清单",
                                f"{datetime.now():%Y%m%d}-{claim.name}")
        except OSError as e:
            log.error("交办清单已录入，但无法移入档案目录：%s（%s），保留在工作区", claim.path, e)
            return
        drop_claim_dir(claim.dir)
        log.info("督办 ← %s：%s", claim.name, result.summary())
        self.reporter.result(IntakeEvent("supervised", claim.name, self.import_key, path=dest,
                                         message=result.summary(), seconds=seconds))

    def _handle_received(self, claim: Claim, fresh: bool, receive: Callable[[Services, Path], Any]) -> None:
        """A document from the 收文 folder: registered → the claimed copy goes once the archive holds it
        as the record's 原件; refused (涉密, encrypted, damaged …) or a duplicate → rejected/ with a note
        saying why; failed → kept and retried (receiving it again resumes with the same 收文号)."""
        if not self._start_other(claim, fresh, self.hooks.receive_suffixes, "收文文件夹只收来文", "重新放入"):
            return
        t0 = time.perf_counter()
        try:
            r = receive(self.svc, claim.path)
        except Exception as e:  # a bug must not stop the service: keep the file and try again
            log.exception("收文时出错：%s", claim.path)
            self.outcomes.failed(claim, Outcome(file=str(claim.path), status="failed",
                                                problems=(Problem("收文", f"内部错误：{type(e).__name__}: {e}"),)),
                                 time.perf_counter() - t0)
            return
        seconds = r.seconds if r.seconds is not None else time.perf_counter() - t0
        problems = list(r.problems)
        if r.status == "registered" or (r.status == "duplicate" and r.reference and claim.attempts > 1):
            from ..incoming import record_for

            rec = record_for(self.svc, r.reference)
            original = rec.file("原件") if rec is not None else None
            if original is not None and original.is_file() and same_content(original, claim.path):
                self.claims.release(claim)
            else:
                claim.state = "kept"
                claim.save()
            what = " ".join(x for x in ((r.elements or {}).get("sender"), (r.elements or {}).get("title")) if x)
            log.info("收文 %s ← %s（%s）%.1f s", r.reference, claim.name, what, seconds)
            self.reporter.result(IntakeEvent("received", claim.name, self.receive_key, path=claim.path,
                                             message=f"{r.reference}　{what}".strip(), seconds=seconds))
        elif r.status == "failed":
            self.outcomes.failed(claim, Outcome(file=str(claim.path), status="failed", problems=tuple(problems)),
                                 seconds)
        else:
            kind: EventKind = "duplicate" if r.status == "duplicate" else "rejected"
            if kind == "duplicate" and not r.reference:
                problems.append(Problem("重复", "如确为另一份文件（如更正件），请用 gongwen receive --allow-duplicate 登记",
                                        "warning"))
            self.outcomes.reject(claim, kind, problems or [Problem("收文", "未能收文")],
                                 message="；".join(p.message for p in problems if p.severity == "error") or
                                 (problems[0].message if problems else "未能收文"), seconds=seconds)


def _refusal(path: Path, kind: str | None) -> str:
    """Why an entry that is not a regular file is not taken, in the clerk's words."""
    if kind == "link":
        try:
            target = f"，指向 {readable(os.readlink(path))}"
        except OSError:
            target = ""
        what = f"这是一个符号链接（快捷方式）{target}"
    else:
        what = {"fifo": "这是一个命名管道（FIFO），不是文件", "device": "这是一个设备文件，不是草稿文件",
                "socket": "这是一个套接字，不是文件", "dir": "这是一个文件夹"}.get(kind or "", "这不是普通文件")
    return (f"{what}；收件夹只收取草稿文件本身，不会打开或读取它（符号链接指向的内容也不读取）。"
            "请把草稿文件本身放入收件夹")

