# Two commands do everything on a fresh Debian machine:
#   make run   - set up, then open NCCID Desktop in demo mode (embedded local collection service)
#   make test  - set up, then run the whole test suite, then the core and workflow tests again
#                in a second venv without Qt (tools/extra_venvs.py, rebuilt only when
#                pyproject.toml changes)
# Set-up creates .venv, installs the project with its test tools, and (when run as root)
# installs the Debian packages the tests drive for real: Orthanc, dcmtk, dicom3tools, Xvfb.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := orthanc orthanc-dicomweb dcmtk dicom3tools xvfb xauth wixl msitools \
	libxcb-icccm4 libxcb-keysyms1 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 \
	libfontconfig1 libdbus-1-3 fonts-dejavu-core
SYSTEM_COMMANDS := Orthanc dcmdump dciodvfy xvfb-run wixl msiinfo

.PHONY: run test test-headless setup system-deps lint screenshots bundle clean

run: setup
	$(BIN)/nccid-desktop --demo

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python tools/extra_venvs.py test

# The core and workflow tests in a venv where PySide6 is not installed (napari's headless run).
test-headless: setup
	$(BIN)/python tools/extra_venvs.py test $(PYTEST_ARGS)

setup: system-deps $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,service]'
	touch $(STAMP)

# Installs only what is missing, so repeated runs stay fast; needs root (CI runs as root).
system-deps:
	@missing=""; for c in $(SYSTEM_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing system packages (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	  else \
	    echo "Missing system commands:$$missing. Run as root, or: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; \
	  fi; \
	fi

lint: setup
	$(BIN)/ruff check nccid_desktop nccid_collector tests benchmarks tools
	$(BIN)/mypy

# Renders every page under Xvfb to PNG files in screenshots/ (git-ignored).
screenshots: setup
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x1024x24" $(BIN)/python tools/screenshots.py

# Builds the PyInstaller onedir bundle in dist/ and runs its self-test.
bundle: setup
	$(BIN)/python tools/build_bundle.py

clean:
	rm -rf $(VENV) .venvs build dist .pytest_cache .mypy_cache .ruff_cache
