"""STOW-RS ingest throughput of the collection service, against a bare HTTP sink on loopback.

Why a bare sink: the service's checks of every received instance (the profile check, the
index row, the atomic publish) must cost little next to simply receiving the bytes. The sink
is a Starlette app under the same uvicorn, streaming each request body to one file on the
same disk, nothing parsed, nothing checked: the floor of "accept these bytes over HTTP".
Both run as their own processes, receive the same batches of CT-sized instances (real
workstation outputs: ``deidentify_file`` of 512x512 slices with nested sequences, a fresh
SOP Instance UID each, so the service never answers "already held"), alternately, and the
fastest of ``--repeat`` rounds of each is kept. The result is the ratio service / sink.

With ``--baseline-tree DIR`` (a copy of an earlier version's ``nccid_collector`` and
``nccid_desktop``, e.g. ``git archive main nccid_collector nccid_desktop | tar -x -C DIR``)
that version's service runs too, in the same rounds, so "after / before" is measured in one
run on the same machine.

    .venv/bin/python benchmarks/bench_ingest.py [--instances 300] [--batch 20] [--repeat 3]
        [--baseline-tree DIR]
    .venv/bin/python benchmarks/bench_ingest.py --sink PORT DIR   # (internal) the bare sink
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nccid_collector.demo import DEMO_PASSWORD, DEMO_USER  # noqa: E402
from nccid_desktop.transport.multipart import FilePart, MultipartFileBody  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(url + "/api/v1/health", timeout=5)
            return
        except requests.RequestException:  # not listening yet, or listening but not serving
            time.sleep(0.1)
    process.kill()
    process.wait(timeout=30)
    raise SystemExit(f"{url} did not start")


def _start(args: list[str], port: int, env: dict[str, str] | None = None,
           cwd: Path | None = None) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    _wait(url, process)
    return process, url


def run_sink(port: int, folder: Path) -> None:
    """The bare sink: every POST body streamed to a new file, fsynced, answered 200."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(10**9))

    async def receive(request: Request) -> JSONResponse:
        path = folder / f"{next(counter)}.bin"
        with open(path, "wb") as handle:
            async for chunk in request.stream():
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        return JSONResponse({"ok": True})

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/dicom-web/studies", receive, methods=["POST"]),
                            Route("/api/v1/health", health)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def _outputs(folder: Path, count: int) -> list[Path]:
    """``count`` workstation outputs of distinct CT slices (one patient, one series)."""
    from nccid_desktop.dicom.deid.one_file import DeidContext, deidentify_file
    from nccid_desktop.keys import SiteKeys
    from tests.dicom import builders

    keys = SiteKeys(site="RSH", secret=os.urandom(32), controller_public_key=b"")
    made = []
    for index in range(count):
        source = builders.ct_slice(instance=index + 1, rows=512, columns=512)
        builders.add_nested_sequences(source)
        written = builders.write(source, folder / "source" / f"{index}.dcm")
        outcome = deidentify_file(written, folder / "out", DeidContext(keys))
        assert outcome.output is not None, outcome.message
        made.append(outcome.output)
        written.unlink()
    return made


def _bodies(paths: list[Path], batch: int) -> list[tuple[bytes, str]]:
    bodies = []
    for start in range(0, len(paths), batch):
        parts = [FilePart(p, p.stat().st_size) for p in paths[start:start + batch]]
        body = MultipartFileBody(parts)
        bodies.append((b"".join(iter(lambda b=body: b.read(1 << 20), b"")), body.content_type))
    return bodies


def _post_all(url: str, token: str | None, bodies: list[tuple[bytes, str]]) -> float:
    session = requests.Session()
    headers = {"Accept": "application/dicom+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    for body, content_type in bodies:
        response = session.post(url + "/dicom-web/studies", data=body,
                                headers={**headers, "Content-Type": content_type}, timeout=300)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--batch", type=int, default=20, help="instances per STOW request")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-tree", type=Path, metavar="DIR",
                        help="also run the service of an earlier version from this source copy")
    parser.add_argument("--sink", nargs=2, metavar=("PORT", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.sink:
        run_sink(int(args.sink[0]), Path(args.sink[1]))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    processes: list[subprocess.Popen] = []
    try:
        rounds = [_outputs(work / f"round{r}", args.instances) for r in range(args.repeat)]
        size = sum(p.stat().st_size for p in rounds[0])
        sink_port = _free_port()
        sink, sink_url = _start([sys.executable, __file__, "--sink", str(sink_port),
                                 str(work / "sink")], sink_port)
        processes.append(sink)
        trees = {"service": ROOT}
        if args.baseline_tree:
            trees["baseline"] = args.baseline_tree.resolve()
        urls, tokens = {}, {}
        for name, tree in trees.items():
            port = _free_port()
            process, urls[name] = _start(
                [sys.executable, "-m", "nccid_collector", "serve", "--data",
                 str(work / name), "--port", str(port), "--demo"], port,
                env={**os.environ, "PYTHONPATH": str(tree)}, cwd=work)
            processes.append(process)
            tokens[name] = requests.post(urls[name] + "/api/v1/session", timeout=30, json={
                "username": DEMO_USER, "password": DEMO_PASSWORD}).json()["token"]
        times: dict[str, list[float]] = {name: [] for name in ("sink", *trees)}
        for paths in rounds:
            bodies = _bodies(paths, args.batch)
            times["sink"].append(_post_all(sink_url, None, bodies))
            for name in trees:
                times[name].append(_post_all(urls[name], tokens[name], bodies))
            shutil.rmtree(work / "sink", ignore_errors=True)
            (work / "sink").mkdir()
        best = {name: min(values) for name, values in times.items()}
        results = {
            "instances": args.instances, "batch": args.batch,
            "instance_kb": round(size / args.instances / 1024),
            "rounds": args.repeat,
            **{f"{name}_instances_per_s": round(args.instances / best[name], 1) for name in best},
            "service_mb_per_s": round(size / 2**20 / best["service"], 1),
            "ratio_service_to_sink": round(best["sink"] / best["service"], 2),
            "load_average": round(os.getloadavg()[0], 1),
        }
        if "baseline" in best:
            results["ratio_baseline_to_sink"] = round(best["sink"] / best["baseline"], 2)
            results["ratio_service_to_baseline"] = round(best["baseline"] / best["service"], 2)
        print(json.dumps(results, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return 0
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("NCCID_HOME", tempfile.mkdtemp(prefix="bench-home-"))
    sys.exit(main())
