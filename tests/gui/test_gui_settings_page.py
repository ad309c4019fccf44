"""The Settings page: policy locks for every field, Test connection against a real HTTPS front
with its own CA (trusted and not), and Save diagnostics, both through the worker pool."""

from __future__ import annotations

import zipfile

import pytest
from PySide6.QtWidgets import QFileDialog

from nccid_desktop import config
from nccid_desktop.gui.settings_page import SettingsPage
from tests.support.network import issue_server_pair, make_authority, tls_front


@pytest.fixture(autouse=True)
def _no_machine_policy_or_proxy(monkeypatch, tmp_path):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "policy.toml"))


@pytest.fixture(scope="module")
def https_front(service, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    authority = make_authority("Settings Page Test CA")
    cert, key = issue_server_pair(authority, folder)
    with tls_front(service.url, cert, key) as front:
        yield f"https://localhost:{front.port}", authority.write_pem(folder / "ca.pem")


def _page(qtbot, pool) -> SettingsPage:
    page = SettingsPage(pool, config.resolve())
    qtbot.addWidget(page)
    page.show()
    return page


def _test_connection(qtbot, page: SettingsPage) -> str:
    form = page.form
    form.testButton.click()
    assert not form.testButton.isEnabled() and not form.diagnosticsButton.isEnabled()
    qtbot.waitUntil(lambda: form.testButton.isEnabled(), timeout=20_000)
    return form.connectionReport.toPlainText()


def test_test_connection_checks_the_fields_as_typed_without_saving(qtbot, pool, https_front):
    url, ca_file = https_front
    page = _page(qtbot, pool)
    page.form.server.setText(url)
    page.form.caBundle.setText(str(ca_file))
    report = _test_connection(qtbot, page)
    assert "PASS  Secure connection: The certificate is trusted: issued to localhost (NCCID Test " \
           "Service) by Settings Page Test CA (NCCID Test)." in report
    assert "PASS  Service: The NCCID collection service answered" in report
    assert page.form.supportMessage.text() == "The connection works."
    assert not config.settings_path().exists()


def test_test_connection_names_an_untrusted_certificate_and_what_to_ask_it(qtbot, pool,
                                                                            https_front):
    url, _ca_file = https_front
    page = _page(qtbot, pool)
    page.form.server.setText(url)
    report = _test_connection(qtbot, page)
    assert "FAIL  Secure connection: This computer does not trust a certificate presented for " \
           "localhost: issued to localhost (NCCID Test Service) by Settings Page Test CA" in report
    assert "Next step: Ask IT to add the CA that issued it" in report
    assert page.form.supportMessage.text().startswith("The connection does not work yet")


def test_every_policy_field_can_be_locked_and_linking_is_saved(qtbot, pool, tmp_path):
    policy = tmp_path / "policy.toml"
    (tmp_path / "trust.pem").write_text("")
    policy.write_text(f'linking = "nhs"\nca_bundle = "{tmp_path / "trust.pem"}"\nproxy = "none"\n'
                      'hospital_pattern = "RR[0-9]{8}"\n'
                      'locked = ["linking", "ca_bundle", "proxy", "hospital_pattern"]\n')
    page = _page(qtbot, pool)
    form = page.form
    for edit, lock in (page.fields["linking"], page.fields["ca_bundle"], page.fields["proxy"],
                       page.fields["hospital_pattern"]):
        locked = not edit.isEnabled() if edit is form.linking else edit.isReadOnly()
        assert locked and lock.isVisible(), edit.objectName()
    assert form.linking.currentData() == "nhs" and form.proxy.text() == "none"
    assert form.server.isEnabled() and not form.serverLock.isVisible()
    form.site.setText("rxx")
    form.saveButton.click()
    assert form.message.text().startswith("Settings saved")
    assert config.read_user_settings() == {"site": "rxx"}  # locked fields are not saved
    assert config.resolve().settings().site == "RXX"
    policy.write_text('site = "RSH"\n')
    page = _page(qtbot, pool)
    page.form.linking.setCurrentIndex(page.form.linking.findData("nhs"))
    page.form.saveButton.click()
    assert config.resolve().value("linking") == "nhs"
    assert config.resolve().source("linking") == "user"


def test_save_diagnostics_writes_the_zip_in_the_background(qtbot, pool, tmp_path, monkeypatch):
    chosen = tmp_path / "for-it"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(chosen), "Zip files (*.zip)")))
    page = _page(qtbot, pool)
    page.form.diagnosticsButton.click()
    # the progress line also starts "Diagnostics saved"; the result names the file
    qtbot.waitUntil(lambda: str(tmp_path / "for-it.zip") in page.form.supportMessage.text(),
                    timeout=20_000)
    assert page.form.supportMessage.text().startswith("Diagnostics saved")
    with zipfile.ZipFile(tmp_path / "for-it.zip") as bundle:
        assert {"versions.json", "configuration.json", "queue.json"} <= set(bundle.namelist())


def test_a_folder_that_cannot_be_written_is_explained(qtbot, pool, tmp_path):
    page = _page(qtbot, pool)
    page.save_diagnostics_to(tmp_path / "absent" / "d.zip")
    qtbot.waitUntil(lambda: page.form.diagnosticsButton.isEnabled(), timeout=10_000)
    assert page.form.supportMessage.text() == f"The folder {tmp_path / 'absent'} does not exist."


def test_the_app_signs_in_with_the_policy_server_proxy_and_ca_bundle(qapp, tmp_path):
    from nccid_desktop.gui.controller import AppController

    bundle = tmp_path / "trust.pem"
    bundle.write_text("")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'server_url = "https://nccid.example.nhs.uk"\nlinking = "nhs"\n'
                      f'proxy = "http://proxy.trust.nhs.uk:8080"\nca_bundle = "{bundle}"\n'
                      'locked = ["server_url"]\n')
    controller = AppController(qapp)
    try:
        options = controller.options()
        assert (options.server_url, options.linking) == ("https://nccid.example.nhs.uk", "nhs")
        http, problem = controller.http_settings()
        assert (http.proxy, http.ca_bundle, problem) == ("http://proxy.trust.nhs.uk:8080",
                                                         str(bundle), "")
        bundle.unlink()
        http, problem = controller.http_settings()
        assert http.ca_bundle is None and http.proxy == "http://proxy.trust.nhs.uk:8080"
        assert problem == f"The CA bundle file {bundle} (set by the machine policy) does not exist."
    finally:
        assert controller.pool.shutdown(10_000)
