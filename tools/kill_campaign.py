"""The kill campaign, long version: a send job of 300 images killed with SIGKILL at random
moments (50 times by default), each kill followed by ``nccid resume``, then every image checked
at a real collection service (exactly once in its database and its warehouse). With
``--fault-rate`` every request also goes through a proxy that fails that share of them
(resets, 500/503/429, slow answers).

    .venv/bin/python tools/kill_campaign.py                      # 50 kills, 300 images
    .venv/bin/python tools/kill_campaign.py --kills 10 --fault-rate 0.2 --json

Exit status 1 when an image is missing or held twice. The engine is
:mod:`tests.faults.kill_campaign` (the suite runs a few kills of a small job).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nccid_desktop.transport.client import CollectorClient
from tests.faults.kill_campaign import run_campaign
from tests.faults.proxy import Fault, FaultProxy, random_plan
from tests.transport.collector_fixture import running_collector


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--slices", type=int, default=10, help="images per patient")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=0.3,
                        help="longest wait (s) from the start of a run to its kill")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="share of requests the proxy fails (0: no proxy)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kill-campaign-")))
        collector = stack.enter_context(running_collector(work / "service"))
        url = collector.url
        proxy = None
        if args.fault_rate > 0:
            host, port = url.removeprefix("http://").split(":")
            proxy = stack.enter_context(FaultProxy(
                (host, int(port)), random_plan(seed=args.seed, rate=args.fault_rate),
                retry_after=1, stall_seconds=4))
            url = proxy.url
        client = CollectorClient(collector.url)
        client.sign_in(collector.account.username, collector.account.password)
        try:
            figures = run_campaign(collector, client, client.site_keys(), work / "run",
                                   patients=args.patients, slices=args.slices,
                                   kills=args.kills, seed=args.seed, max_delay=args.max_delay,
                                   url=url)
        except AssertionError as failed:
            print(f"FAILED: {failed}", file=sys.stderr)
            return 1
        summary = figures.to_json()
        if proxy is not None:
            applied = dict(proxy.applied)
            summary["requests"] = sum(applied.values())
            summary["requests_failed"] = sum(n for f, n in applied.items()
                                             if f is not Fault.PASS)
    print(json.dumps(summary, indent=2) if args.json else
          "\n".join(f"{key}: {value}" for key, value in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
