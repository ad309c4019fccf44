"""A thin test client for the service's HTTP API (plain requests, real sockets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from tests.collector.service_setup import PASSWORD


@dataclass
class Api:
    url: str
    token: str | None = None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def sign_in(self, username: str, password: str = PASSWORD) -> requests.Response:
        response = requests.post(self.url + "/api/v1/session",
                                 json={"username": username, "password": password}, timeout=30)
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, headers=self._headers(), timeout=30)

    def post(self, path: str, json: Any = None, data: Any = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        return requests.post(self.url + path, json=json, data=data,
                             headers=self._headers(headers), timeout=60)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self.url + path, headers=self._headers(), timeout=30)


def signed_in(url: str, username: str) -> Api:
    api = Api(url)
    response = api.sign_in(username)
    assert response.status_code == 200, response.text
    return api
