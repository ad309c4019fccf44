"""De-identification throughput against the floors and the Python peers, side by side.

Run: ``.venv/bin/python benchmarks/bench_deid.py [--ct 500] [--dx 30] [--corpora DIR]
[--workers N] [--repeat 3]``

For each generated corpus (``corpora.py``: 500 CT slices of 512x512, 30 X-rays of 10 MB) and on
a warm cache, runs every contender as its own process and measures wall time and the peak
resident memory of its whole process tree (RSS summed over the process and its children,
sampled every 20 ms; shared pages of forked workers are counted once per process, so this
over-estimates). Contenders:

* ``cp -r`` (the I/O floor);
* ``pydicom loop``: one process, ``dcmread`` + ``save_as`` per file, nothing changed;
* ``dicognito`` and ``dicom-anonymizer``: the peers' CLIs, from a separate venv
  (``benchmarks/.venv-peers``, created on first use with pip; never project dependencies);
* ``ours``: ``deidentify_batch`` with one worker per core (verification included).

Reports files/s, MB/s, peak memory, CPU seconds of the whole process tree (of the fastest
run; system time apart), the CPU seconds all other processes used meanwhile (whether a second
worker had a free core: the machine is shared), and the ratios against the pydicom loop and
dicognito, and writes JSON into ``benchmarks/results/``. Not a test: numbers depend on the
machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS_VENV = HERE / ".venv-peers"
PEER_PACKAGES = ("dicognito>=0.17", "dicom-anonymizer>=1.0")
sys.path.insert(0, str(ROOT))

from benchmarks.corpora import corpus_size, ensure_corpus, flat_view  # noqa: E402


@dataclass(frozen=True)
class Measurement:
    corpus: str
    contender: str
    files: int
    megabytes: float
    seconds: float
    files_per_s: float
    mb_per_s: float
    peak_tree_rss_mb: float
    ok: bool
    note: str = ""
    cpu_seconds: float = 0.0
    sys_seconds: float = 0.0
    others_cpu_seconds: float = 0.0


def _tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _children_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


_TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (user, nice, system, irq,
    softirq, steal: everything but idle and I/O wait)."""
    with open("/proc/stat") as stat:
        fields = [int(f) for f in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / _TICK


@dataclass(frozen=True)
class Run:
    """One timed run of a contender: wall seconds, peak tree RSS (MB), return code, stderr
    tail, CPU seconds of its whole tree (user + system, and system alone), and the CPU
    seconds every other process on the machine used meanwhile: on the shared 2-core machine
    that says whether our second worker had a core to run on."""

    seconds: float
    peak_mb: float
    code: int
    err: str
    cpu: float
    sys: float
    others: float


def run_measured(command: list[str]) -> Run:
    user_before, sys_before = _children_cpu()
    busy_before = _machine_busy()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - start
    busy = _machine_busy() - busy_before
    done.set()
    sampler.join()
    user_after, sys_after = _children_cpu()
    cpu = user_after - user_before + sys_after - sys_before
    return Run(seconds, peak / 1024, process.returncode, err.decode(errors="replace")[-300:],
               cpu, sys_after - sys_before, max(0.0, busy - cpu))


def ensure_peers() -> Path:
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def contenders(workers: int) -> dict[str, list[str]]:
    """name -> command template with ``{src}`` and ``{out}``."""
    peers = ensure_peers()
    me = [sys.executable, str(Path(__file__).resolve())]
    return {
        "cp -r": ["cp", "-r", "{src}", "{out}"],
        "pydicom loop": [*me, "--run", "pydicom", "{src}", "{out}"],
        "dicognito": [str(peers), "-m", "dicognito", "--quiet", "-o", "{out}", "{src}"],
        # dicom-anonymizer silently does nothing unless its output folder already exists
        "dicom-anonymizer": ["sh", "-c", 'mkdir -p "$1" && exec "$0" "$2" "$1"',
                             str(PEERS_VENV / "bin" / "dicom-anonymizer"), "{out}", "{src}"],
        "ours": [*me, "--run", "ours", "--workers", str(workers), "{src}", "{out}"],
        "ours w=1": [*me, "--run", "ours", "--workers", "1", "{src}", "{out}"],
    }


def _run_pydicom_loop(src: Path, out: Path) -> None:
    from pydicom import dcmread

    out.mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(sorted(p for p in src.rglob("*") if p.is_file())):
        dcmread(path).save_as(out / f"{index}.dcm")


def _run_ours(src: Path, out: Path, workers: int) -> None:
    from nccid_desktop.dicom.deid.one_file import DeidContext
    from nccid_desktop.dicom.deid.pipeline import deidentify_batch
    from nccid_desktop.dicom.scan.sources import iter_sources
    from nccid_desktop.keys import SiteKeys

    keys = SiteKeys(site="RSH", secret=bytes(range(32)), controller_public_key=b"")
    report = deidentify_batch(list(iter_sources([src])), out, DeidContext(keys=keys),
                              quarantine_dir=out.parent / (out.name + "-quarantine"),
                              workers=workers)
    if report.counts.get("deidentified", 0) != len(report.outcomes):
        sys.exit(f"not every file was de-identified: {report.counts}")


def measure(corpus: str, src: Path, commands: dict[str, list[str]], scratch: Path,
            repeat: int) -> list[Measurement]:
    files, size = corpus_size(src)
    megabytes = size / 1e6
    results = []
    subprocess.run(["cat", *map(str, sorted(src.rglob("*")))], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # warm the page cache
    for name, template in commands.items():
        best: Run | None = None
        for _ in range(repeat):
            out = scratch / f"{corpus}-{name.replace(' ', '_')}"
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(out.parent / (out.name + "-quarantine"), ignore_errors=True)
            command = [c.format(src=src, out=out) for c in template]
            os.sync()  # the previous run's writes and deletions settle before this one starts
            run = run_measured(command)
            written = sum(1 for p in out.rglob("*") if p.is_file()) if out.exists() else 0
            if written != files and run.code == 0:  # a silent no-op must not look fast
                run = replace(run, code=1, err=f"wrote {written} of {files} files")
            shutil.rmtree(out, ignore_errors=True)
            if best is None or run.seconds < best.seconds:
                best = run
        assert best is not None
        seconds, ok = best.seconds, best.code == 0
        results.append(Measurement(corpus, name, files, round(megabytes, 1), round(seconds, 3),
                                   round(files / seconds, 1), round(megabytes / seconds, 1),
                                   round(best.peak_mb, 1), ok, "" if ok else best.err,
                                   round(best.cpu, 3), round(best.sys, 3),
                                   round(best.others, 3)))
        print(f"  {name:<17} {files / seconds:9.1f} files/s {megabytes / seconds:9.1f} MB/s "
              f"{best.peak_mb:8.1f} MB peak {best.cpu:6.2f} s CPU ({best.sys:.2f} sys) "
              f"others {best.others:5.2f} s CPU{'' if ok else '  FAILED: ' + best.err}",
              flush=True)
    return results


def ratios(results: list[Measurement]) -> dict[str, dict[str, float]]:
    by = {(m.corpus, m.contender): m for m in results}
    out: dict[str, dict[str, float]] = {}
    for corpus in sorted({m.corpus for m in results}):
        ours, loop, dicognito = (by.get((corpus, n)) for n in ("ours", "pydicom loop",
                                                                "dicognito"))
        if ours and loop and dicognito:
            out[corpus] = {
                "files_per_s_vs_pydicom_loop": round(ours.files_per_s / loop.files_per_s, 2),
                "mb_per_s_vs_pydicom_loop": round(ours.mb_per_s / loop.mb_per_s, 2),
                "files_per_s_vs_dicognito": round(ours.files_per_s / dicognito.files_per_s, 2),
                "cpu_vs_pydicom_loop": round(ours.cpu_seconds / loop.cpu_seconds, 2),
                "peak_tree_rss_mb": ours.peak_tree_rss_mb,
            }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", choices=["pydicom", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--ct", type=int, default=500)
    parser.add_argument("--dx", type=int, default=30)
    parser.add_argument("--corpora", type=Path,
                        default=Path(tempfile.gettempdir()) / "nccid-bench-corpora")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.run == "pydicom":
        _run_pydicom_loop(Path(args.paths[0]), Path(args.paths[1]))
        return 0
    if args.run == "ours":
        _run_ours(Path(args.paths[0]), Path(args.paths[1]), args.workers)
        return 0

    args.corpora.mkdir(parents=True, exist_ok=True)
    commands = contenders(args.workers)
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="nccid-bench-out-") as scratch:
        for corpus, count in (("ct512", args.ct), ("dx", args.dx)):
            if count <= 0:
                continue
            src = flat_view(ensure_corpus(corpus, args.corpora, count))
            print(f"{corpus}: {count} files", flush=True)
            results.extend(measure(corpus, src, commands, Path(scratch), args.repeat))
    summary = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "cores": os.cpu_count(),
               "workers": args.workers, "repeat": args.repeat,
               "results": [asdict(m) for m in results], "ratios": ratios(results)}
    print(json.dumps(summary["ratios"], indent=2))
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"deid-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
