"""Run the collection service: in the foreground (``nccid-collector serve``) or embedded.

Why embedded: the tests need a real HTTP service on loopback without a second process;
uvicorn runs in a background thread and reports the port it bound. (The app's demo mode runs
``nccid-collector serve --demo --port 0 --ready-file`` as a child process instead: the desktop
package never imports the service.)
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from nccid_collector.app import create_app
from nccid_collector.library_output import capture_library_output
from nccid_collector.service import CollectorService, open_service
from nccid_collector.settings import ServiceSettings
from nccid_desktop.errors import ConfigError

log = logging.getLogger(__name__)
START_TIMEOUT_SECONDS = 20


def _config(service: CollectorService, host: str, port: int) -> uvicorn.Config:
    capture_library_output()
    service.clinical.release_held()
    service.store.sweep_spool(service.settings.clock())
    config = uvicorn.Config(create_app(service), host=host, port=port, log_config=None,
                            access_log=False, server_header=False, lifespan="off",
                            timeout_keep_alive=30, timeout_graceful_shutdown=10)
    # uvicorn's access lines carry query strings; the app logs route templates instead.
    logging.getLogger("uvicorn.access").disabled = True
    return config


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def serve(settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8080,
          on_listening: Callable[[str], None] | None = None) -> None:
    """Serve until Ctrl+C or SIGTERM, then finish in-flight requests and return normally.

    uvicorn re-raises the signal it caught once it has shut down; turning SIGTERM into
    KeyboardInterrupt lets a service manager's stop end with exit status 0. The socket is bound
    here, before uvicorn starts, so ``port=0`` works: ``on_listening`` gets the real address
    (connections made before uvicorn accepts wait in the socket's backlog).
    """
    service = open_service(settings)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    listener = None
    try:
        config = _config(service, host, port)  # the app and its checks loaded before binding
        listener = socket.create_server((host, port))
        if on_listening is not None:
            on_listening(f"http://{host}:{listener.getsockname()[1]}")
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:
        log.info("collection service stopped")
    finally:
        if listener is not None:
            listener.close()
        signal.signal(signal.SIGTERM, previous)
        service.close()


@dataclass
class EmbeddedService:
    service: CollectorService
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def settings(self) -> ServiceSettings:
        return self.service.settings

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.service.close()


def start_embedded(data_dir: Path, db_url: str | None = None, host: str = "127.0.0.1",
                   port: int = 0, settings: ServiceSettings | None = None) -> EmbeddedService:
    """Start the service in a background thread; returns once it accepts connections."""
    settings = settings or ServiceSettings(data_dir=Path(data_dir), db_url=db_url)
    service = open_service(settings)
    server = uvicorn.Server(_config(service, host, port))
    thread = threading.Thread(target=server.run, name="nccid-collector", daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(START_TIMEOUT_SECONDS * 50):
        if server.started:
            started.set()
            break
        if not thread.is_alive():
            break
        started.wait(0.02)
    if not started.is_set():
        server.should_exit = True
        service.close()
        raise ConfigError(f"The collection service could not start on {host}:{port}.")
    bound = server.servers[0].sockets[0].getsockname()[1]
    log.info("collection service listening on %s:%d", host, bound)
    return EmbeddedService(service, server, thread, host, bound)
