"""Year-end work started from the 年终 page — archive (整理归档), check (四性检测), handover (移交包) —
run one at a time in a background thread, with progress, by the same library calls as the CLI
(yearend.arrange.archive_year, yearend.checks.check_year, yearend.package.build_handover).

Each job is kept as JSON under ``<work>/web/jobs/`` (written atomically at start, at the end, and at
most once a second while it runs), so the page shows the last result after a restart; a job that was
running when the server stopped is shown as 中断. Start and end are events in the chain under the user.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GongwenError
from ..fsutil import atomic_write_text

if TYPE_CHECKING:
    from .app import WebState

log = logging.getLogger("gongwen.web")
KINDS = {"archive": "整理归档", "check": "四性检测", "handover": "生成移交包"}
KEEP = 200              # job files kept (oldest removed first)


@dataclass
class Job:
    id: str
    kind: str
    year: int
    actor: str
    created: str
    status: str = "等待"          # 等待 / 运行中 / 完成 / 失败 / 中断
    done: int = 0
    total: int = 0
    what: str = ""
    started: str | None = None
    finished: str | None = None
    ok: bool | None = None
    message: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def active(self) -> bool:
        return self.status in ("等待", "运行中")

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if not self.active else 0)

    def to_json(self) -> dict:
        return {**asdict(self), "label": self.label, "percent": self.percent, "active": self.active}


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


class JobRunner:
    def __init__(self, state: WebState) -> None:
        self.state = state
        self.config = state.config
        self.dir = self.config.work_dir / "web" / "jobs"
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._load()

    def _load(self) -> None:
        if not self.dir.is_dir():
            return
        for p in sorted(self.dir.glob("*.json")):
            try:
                d = json.loads(p.read_text(encoding="utf-8"))
                job = Job(**{k: d[k] for k in Job.__dataclass_fields__ if k in d})
            except (OSError, ValueError, TypeError):
                continue
            if job.active:          # the server stopped while it ran
                job.status, job.ok = "中断", False
                job.message = job.message or "服务器在作业完成前停止；请重新运行（各作业都可以安全地重复运行）"
                self._save(job)
            self._jobs[job.id] = job

    def _save(self, job: Job) -> None:
        atomic_write_text(self.dir / f"{job.id}.json", json.dumps(job.to_json(), ensure_ascii=False, indent=1))

    # -- public ----------------------------------------------------------------------------------
    def submit(self, kind: str, year: int, actor: str) -> Job:
        if kind not in KINDS:
            raise GongwenError(f"未知的作业“{kind}”")
        with self._lock:
            busy = next((j for j in self._jobs.values() if j.active), None)
            if busy is not None:
                raise GongwenError(f"已有作业在进行：{busy.year} 年度{busy.label}（{busy.actor}）；请等它完成后再试")
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            job = Job(id=f"{stamp}-{uuid.uuid4().hex[:6]}", kind=kind, year=year, actor=actor, created=_now())
            self._jobs[job.id] = job
            self._save(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="gongwen-jobs", daemon=True)
                self._thread.start()
        self._queue.put(job.id)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def for_year(self, year: int) -> list[Job]:
        return sorted((j for j in self._jobs.values() if j.year == year), key=lambda j: j.id, reverse=True)

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until the job ends (tests, the CLI); returns it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            job = self._jobs[job_id]
            if not job.active:
                return job
            time.sleep(0.05)
        raise TimeoutError(job_id)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the worker after the job in hand (waiting at most ``timeout``; a job still running then
        is shown as 中断 on the next start)."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the worker ------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            job = self._jobs[job_id]
            job.status, job.started = "运行中", _now()
            self._save(job)
            ledger = self.state.ledger
            ledger.log("yearend_job", actor=job.actor, detail={"作业": job.label, "年度": job.year, "状态": "开始"})
            last = [0.0]

            def progress(done: int, total: int, what: str, job=job, last=last) -> None:
                job.done, job.total, job.what = done, total, what
                if time.monotonic() - last[0] > 1.0:
                    last[0] = time.monotonic()
                    self._save(job)

            try:
                job.ok, job.lines = getattr(self, f"_{job.kind}")(job, progress)
                status, job.message = "完成", ("完成" if job.ok else "完成，但有未通过的项目")
            except GongwenError as e:
                status, job.ok, job.message = "失败", False, str(e)
            except Exception as e:  # noqa: BLE001 — a job must end with a state the page can show
                log.exception("year-end job %s failed", job.id)
                status, job.ok, job.message = "失败", False, f"{type(e).__name__}: {e}"
            # The end is in the chain before the job shows as ended (whoever waits for it sees both).
            ledger.log("yearend_job", actor=job.actor, detail={"作业": job.label, "年度": job.year,
                                                                "状态": status, "结果": job.message})
            job.finished = _now()
            job.done = job.total or job.done
            job.status = status
            self._save(job)
            self._prune()

    def _prune(self) -> None:
        files = sorted(self.dir.glob("*.json"))
        for p in files[:-KEEP]:
            self._jobs.pop(p.stem, None)
            p.unlink(missing_ok=True)

    def _archive(self, job: Job, progress) -> tuple[bool, list[str]]:
        from ..yearend.arrange import archive_year

        r = archive_year(self.config, job.year, ledger=self.state.ledger, actor=job.actor, progress=progress)
        lines = [f"{s.key.label}：{s.items} 件，{s.first_code} — {s.last_code}，{s.pages} 页"
                 + (f"，补归档 {s.late} 件" if s.late else "") for s in r.classes]
        if r.changed:
            lines.append(f"本次新编档号 {len(r.newly)} 件（其中补归档 {len(r.late)} 件），加盖归档章 {len(r.stamped)} 件，"
                         f"档号记入登记簿 {len(r.registered)} 件、检索索引 {len(r.indexed)} 件。")
        else:
            lines.append("已整理过，本次没有任何改动（件号、档号、归档章、目录均保持不变）。")
        lines += [f"提示：{w}" for w in r.warnings]
        lines += [f"已写出 {_rel(self.config, p)}" for p in r.outputs]
        return True, lines

    def _check(self, job: Job, progress) -> tuple[bool, list[str]]:
        from ..yearend.checks import check_year
        from ..yearend.report import save_last_report

        report = check_year(self.config, job.year, ledger=self.state.ledger, actor=job.actor, progress=progress)
        save_last_report(self.config, report)
        return report.ok, [f"结论：{report.verdict}", f"未通过的问题 {len(report.failures())} 处（见下方检测报告）"]

    def _handover(self, job: Job, progress) -> tuple[bool, list[str]]:
        from ..yearend.package import HandoverRefused, build_handover
        from ..yearend.report import save_last_report

        dest = self.config.archive_dir / "handover" / f"{job.year}-{job.id}"
        try:
            r = build_handover(self.config, job.year, dest, ledger=self.state.ledger, actor=job.actor,
                               progress=progress)
        except HandoverRefused as e:
            save_last_report(self.config, e.report)
            raise
        save_last_report(self.config, r.report)
        return True, [f"已生成移交包 {_rel(self.config, r.path)}：{r.items} 件，{r.files} 个文件，{r.bytes} 字节",
                      f"SM3 数据摘要 {r.data_digest}",
                      f"接收方可用 gongwen check --package {r.path.name} 或任何 BagIt 工具核验。"]


def _rel(config, p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(config.base.resolve()))
    except ValueError:
        return str(p)
