"""Crash-and-fault soak of the watched-folder service: `gongwen watch` on a fresh instance for N rounds;
each round drops good drafts among hostile files and, at a random moment, SIGKILLs the service, or
LibreOffice (soffice.bin), or both — then the service is started again. At the end the service is let
finish, stopped with SIGTERM, and everything is counted: every good draft issued exactly once, every
hostile file answered, no number lost or used twice, nothing half-filed, and what `gongwen doctor`
says. Run:

    .venv/bin/python -m bench.soak_watch --rounds 30 [--seed 7] [--keep DIR] [--write]

Prints its figures; with --write also puts them into docs/benchmarks.md (section "soak"), dated with
the commit and the machine like the benchmarks.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.bench_watch import REPO, make_instance
from samples.drafts import sample_draft

GONGWEN = [sys.executable, "-m", "pipeline"]
HOSTILE = ("duplicate", "rules", "garbage", "empty", "pdf", "gbk-name", "long-name", "symlink", "fifo",
           "subfolder")


@dataclass
class Drop:
    kind: str            # "good" or one of HOSTILE
    name: str
    route: str           # the route folder ("" for inbox/ itself)
    data: bytes = b""


@dataclass
class Soak:
    root: Path
    rng: random.Random
    cfg: Path = field(init=False)
    config: object = field(init=False)
    env: dict = field(init=False)
    proc: subprocess.Popen | None = None
    seen_pids: set = field(default_factory=set)
    drops: list = field(default_factory=list)
    kills: dict = field(default_factory=lambda: {"service": 0, "soffice": 0})
    starts: int = 0
    serial: int = 0
    rounds: int = 0

    def __post_init__(self) -> None:
        from pipeline.config import load

        self.cfg = make_instance(self.root / "instance", stable_seconds=0.5, invalid_timeout_s=3,
                                 poll_interval_s=0.5, rescan_interval_s=60)
        self.config = load(self.cfg)
        home = self.root / "home"
        (home / "tmp").mkdir(parents=True)
        self.env = {**os.environ, "HOME": str(home), "TMPDIR": str(home / "tmp"), "GONGWEN_ACTOR": "soak",
                    "PYTHONUNBUFFERED": "1"}
        self.console = self.root / "console.txt"

    # --- the service ------------------------------------------------------------------------------
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        mark = self.console.stat().st_size if self.console.exists() else 0
        out = open(self.console, "ab")
        self.proc = subprocess.Popen(GONGWEN + ["--config", str(self.cfg), "watch"], stdout=out,
                                     stderr=subprocess.STDOUT, env=self.env, cwd=REPO, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + 120
        while "正在监视" not in self.console.read_bytes()[mark:].decode("utf-8", "replace"):
            if not self.running() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start:\n" + self.tail())
            time.sleep(0.1)

    def family(self) -> list[psutil.Process]:
        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True) if self.proc else []
        except psutil.NoSuchProcess:
            kids = []
        self.seen_pids.update(k.pid for k in kids)
        return kids

    def kill_service(self) -> None:
        """SIGKILL the service process alone (as the OOM killer would): its LibreOffice is left
        behind for the next start to find."""
        self.family()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.kills["service"] += 1

    def kill_soffice(self) -> bool:
        offices = [p for p in self.family() if p.name() == "soffice.bin"]
        for p in offices:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.kills["soffice"] += bool(offices)
        return bool(offices)

    def stop(self) -> int:
        self.family()
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=300)

    def reap(self) -> None:
        """End every process this soak started that is still alive (by the ids it saw)."""
        if self.running():
            self.proc.kill()
            self.proc.wait(timeout=30)
        procs = []
        for pid in self.seen_pids:
            try:
                procs.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        for p in procs:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=30)

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.console.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])

    # --- what is dropped -------------------------------------------------------------------------
    def good(self) -> Drop:
        self.serial += 1
        i = self.serial
        if i % 3 == 1:
            data = sample_draft(i).replace("署名: 珠晖区人民政府".encode(), "署名: 珠晖区人民政府办公室".encode()).replace(
                "珠晖区人民政府关于".encode(), "珠晖区人民政府办公室关于".encode())
            return Drop("good", f"通知{i:04d}.md", "珠政办发", data)
        return Drop("good", f"通知{i:04d}.md", "珠政发" if i % 3 else "", sample_draft(i))

    def hostile(self, kind: str) -> Drop:
        self.serial += 1
        i = self.serial
        if kind == "duplicate":
            earlier = [d for d in self.drops if d.kind == "good"]
            data = self.rng.choice(earlier).data if earlier else sample_draft(1)
            return Drop(kind, f"再次{i:04d}.md", "珠政发", data)
        if kind == "rules":
            return Drop(kind, f"缺标题{i:04d}.md", "珠政发",
                        sample_draft(i).replace(f"标题: 珠晖区人民政府关于做好第{i}批重点工作的通知\n".encode(), b""))
        if kind == "garbage":
            return Drop(kind, f"乱码{i:04d}.docx", "珠政发", self.rng.randbytes(20000))
        if kind == "empty":
            return Drop(kind, f"空{i:04d}.md", "珠政办发", b"")
        if kind == "pdf":
            return Drop(kind, f"扫描件{i:04d}.pdf", "珠政发", b"%PDF-1.4\n%%EOF\n")
        if kind == "gbk-name":
            return Drop(kind, f"通知{i:04d}（GBK）.md", "珠政发", sample_draft(i))
        if kind == "long-name":
            # 253 bytes: the note beside it (+ .问题.txt) must be given a shorter name
            return Drop(kind, f"{i:04d}" + "关于开展" * 20 + "通知.md", "珠政发", "---\n标题: 坏\n---\n正文\n".encode())
        return Drop(kind, f"{kind}{i:04d}" + (".md" if kind != "subfolder" else ""), "珠政发")

    def place(self, d: Drop) -> None:
        folder = self.config.inbox / d.route if d.route else self.config.inbox
        # written under a short hidden name (ignored by the service), then renamed into place
        part = folder / f".soak-{self.serial}-{len(self.drops)}.part"
        if d.kind == "gbk-name":
            part.write_bytes(d.data)
            os.rename(part, os.fsencode(folder) + b"/" + d.name.encode("gbk"))
        elif d.kind == "symlink":
            os.symlink("/etc/passwd", folder / d.name)
        elif d.kind == "fifo":
            os.mkfifo(folder / d.name)
        elif d.kind == "subfolder":
            (folder / d.name).mkdir()
            (folder / d.name / "里面.md").write_bytes(sample_draft(90000 + self.serial))
        else:
            part.write_bytes(d.data)
            os.rename(part, folder / d.name)
        self.drops.append(d)

    # --- one round ---------------------------------------------------------------------------------
    def round(self, n: int) -> str:
        if not self.running():
            self.start()
        batch = [self.good() for _ in range(self.rng.randint(2, 5))]
        batch += [self.hostile(self.rng.choice(HOSTILE)) for _ in range(self.rng.randint(1, 3))]
        self.rng.shuffle(batch)
        for d in batch:
            self.place(d)
            time.sleep(self.rng.uniform(0, 0.3))
        action = self.rng.choices(["none", "service", "soffice", "both"], weights=[2, 3, 3, 2])[0]
        time.sleep(self.rng.uniform(0.5, 6.0))
        done = []
        if action in ("soffice", "both") and self.kill_soffice():
            done.append("soffice.bin")
        if action in ("service", "both"):
            self.kill_service()
            done.append("service")
        self.rounds += 1
        return (f"round {n + 1}: {len(batch)} files ({sum(d.kind == 'good' for d in batch)} good, hostile: "
                f"{', '.join(d.kind for d in batch if d.kind != 'good') or '-'}); SIGKILL: {' + '.join(done) or '-'}")

    # --- the end -------------------------------------------------------------------------------------
    def leftovers(self) -> list[Path]:
        """Entries still waiting in the inbox (the subfolders dropped stay: they are reported only)."""
        routes = {self.config.inbox / r.folder for r in self.config.intake.routes}
        stay = {d.name for d in self.drops if d.kind == "subfolder"}
        out = []
        for folder in [self.config.inbox, *routes]:
            for p in folder.iterdir() if folder.is_dir() else ():
                if p in routes or (p.name in stay and p.is_dir() and not p.is_symlink()):
                    continue
                out.append(p)
        return out

    def settled(self) -> bool:
        leftovers = self.leftovers()
        claims = self.config.work_dir / "claims"
        claimed = [p for p in claims.rglob("*") if p.is_file() or p.is_symlink()] if claims.exists() else []
        return not leftovers and not claimed and self.issued_contents() >= {sha(d.data) for d in self.goods()}

    def goods(self) -> list[Drop]:
        return [d for d in self.drops if d.kind in ("good", "gbk-name")]

    def issued_contents(self) -> set[str]:
        from pipeline.archive import ArchiveStore

        return {sha(r.file("原稿").read_bytes()) for r in ArchiveStore(self.config).records()}

    def finish(self, timeout: float) -> int:
        if not self.running():
            self.start()
        deadline = time.monotonic() + timeout
        while not self.settled():
            if not self.running():
                raise RuntimeError("the service died while finishing:\n" + self.tail())
            if time.monotonic() > deadline:
                print("not settled in time:\n" + self.tail(), file=sys.stderr)
                break
            time.sleep(0.5)
        return self.stop()

    def figures(self, stop_rc: int) -> list[tuple[str, str]]:
        from pipeline.archive import ArchiveStore
        from pipeline.ledger import Ledger

        records = list(ArchiveStore(self.config).records())
        originals = [sha(r.file("原稿").read_bytes()) for r in records]
        wanted = {sha(d.data) for d in self.goods()}
        rejected = [p for p in self.config.rejected.iterdir() if not p.name.endswith(".问题.txt")]
        notes = [p for p in self.config.rejected.iterdir() if p.name.endswith(".问题.txt")]
        hostile = [d for d in self.drops if d.kind not in ("good", "gbk-name")]
        expected_rejected = [d for d in hostile if d.kind != "subfolder"]
        with Ledger.open(self.config) as ledger:
            docs = ledger.documents()
            gaps = ledger.check_numbers()
            pending = ledger.pending()
            chain = ledger.verify()
        live = [d for d in docs if d.stage != "voided"]
        voided = [d for d in docs if d.stage == "voided"]
        by_series: dict[str, list[int]] = {}
        for d in docs:
            by_series.setdefault(d.number.series, []).append(d.number.seq)
        numbers = "；".join(f"{s} {min(v)}–{max(v)}（{len(v)} 个）" for s, v in sorted(by_series.items()))
        doctor = subprocess.run(GONGWEN + ["--config", str(self.cfg), "doctor", "--json"], capture_output=True,
                                text=True, env=self.env, cwd=REPO, timeout=600)
        try:
            findings = json.loads(doctor.stdout)
            bad = [f"{f['area']}/{f['item']}：{f['detail']}" for f in findings if f["ok"] is False]
            doctor_text = (f"exit {doctor.returncode}: {sum(f['ok'] is True for f in findings)} 通过，"
                           f"{len(bad)} 未通过，{sum(f['ok'] is None for f in findings)} 未检测"
                           + (f"（{'；'.join(bad)}）" if bad else ""))
        except (ValueError, KeyError):
            doctor_text = f"exit {doctor.returncode}: {(doctor.stdout + doctor.stderr).strip()[-300:]}"
        claims = self.config.work_dir / "claims"
        kinds = {k: sum(d.kind == k for d in hostile) for k in HOSTILE if any(d.kind == k for d in hostile)}
        return [
            ("rounds; service starts; kills", f"{self.rounds}; {self.starts}; service {self.kills['service']}, "
                                              f"soffice.bin {self.kills['soffice']}"),
            ("drafts in", f"{len(self.drops)} (good {len(self.goods())}, of which GBK-named "
                          f"{sum(d.kind == 'gbk-name' for d in self.drops)}; hostile {len(hostile)}: "
                          + ", ".join(f"{k} {n}" for k, n in kinds.items()) + ")"),
            ("issued (records)", f"{len(records)}; good drafts issued exactly once: "
                                 f"{sum(originals.count(w) == 1 for w in wanted)}/{len(wanted)}"),
            ("rejected (with notes)", f"{len(rejected)} ({len(notes)} notes); hostile files to answer: "
                                      f"{len(expected_rejected)}"),
            ("numbers", f"{numbers}; live {len(live)}, voided {len(voided)} "
                        f"(all with a reason: {all(d.void_reason for d in voided)})"),
            ("gaps (漏号)", str(len(gaps)) + (f": {gaps[:3]}" if gaps else "")),
            ("duplicates", f"content numbered twice {len(live) - len({d.content_hash for d in live})}, "
                           f"one draft in two records {len(originals) - len(set(originals))}"),
            ("lost / half-done", f"drafts lost {len(wanted - set(originals))}, claims left "
                                 f"{sum(1 for p in claims.rglob('*') if p.is_file()) if claims.exists() else 0}, "
                                 f"half-filed records {len(list(self.config.archive_dir.glob('*/*/.tmp-*')))}, "
                                 f"unfinished in the register {len(pending)}"),
            ("register chain", "verified" if chain.first is None else chain.summary()),
            ("service stop (SIGTERM)", f"exit {stop_rc}"),
            ("doctor", doctor_text),
        ]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.soak_watch", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: chosen and printed)")
    ap.add_argument("--keep", type=Path, default=None, help="run in this folder and keep it")
    ap.add_argument("--finish-timeout", type=float, default=1200.0)
    ap.add_argument("--write", action="store_true", help="also write the figures into docs/benchmarks.md")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    root = args.keep or Path(tempfile.mkdtemp(prefix="gongwen-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    soak = Soak(root, random.Random(seed))
    t0 = time.perf_counter()
    print(f"soak: {args.rounds} rounds, seed {seed}, in {root}", flush=True)
    try:
        for n in range(args.rounds):
            print(soak.round(n), flush=True)
        rc = soak.finish(args.finish_timeout)
        rows = soak.figures(rc)
    finally:
        soak.reap()
    width = max(len(k) for k, _ in rows)
    print()
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    elapsed = time.perf_counter() - t0
    print(f"\n{elapsed:.0f} s")
    if args.write:
        from bench.__main__ import commit, machine, markdown, write_section

        stamp = (f"Measured {time.strftime('%Y-%m-%d')} on commit {commit()}; {machine()}; "
                 f"`python -m bench.soak_watch --rounds {args.rounds} --seed {seed}` took {elapsed:.0f} s.")
        write_section("soak", markdown([(f"soak: {args.rounds} rounds, seed {seed}", ["what", "result"],
                                         [list(r) for r in rows])], stamp))
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
