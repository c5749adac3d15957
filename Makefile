# shaobing — two commands from a fresh clone: `make demo` and `make test`.
# Each sets up its own virtualenv, installs the package with the tested pins, and starts the
# local stack (Kafka + Elasticsearch) if it is not running. `make test` stops the stack again
# if it was the one that started it, whatever the outcome of the tests.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SB     := $(BIN)/shaobing
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# the console's front-end libraries (ECharts), installed from the npm lockfile (integrity-checked)
NPM_STAMP := console/node_modules/.installed
# browser tests run Debian's chromium headless (never a browser downloaded by playwright)
BROWSER_PKGS := chromium fonts-wqy-microhei

.PHONY: install prometheus-tools demo test unit stack-up stack-down clean browser

# setup.py builds the one C extension (streams/_speedups.c): editing it rebuilds. It is optional,
# so pip succeeds without a C compiler; then the stamp is not written, so the next `make` tries the
# build again (after `apt-get install gcc python3-dev`, say), and the warning below says why.
$(STAMP): pyproject.toml constraints.txt setup.py streams/_speedups.c
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "shaobing needs Python 3.11+")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	@if $(BIN)/python -c 'import streams._speedups' 2>/dev/null; then touch $(STAMP); else \
	  echo "WARNING: the C extension streams._speedups was not built (no C compiler or Python headers?)." >&2; \
	  echo "WARNING: analysis runs its hot loops in Python, about 1.2x slower, and its unit tests fail." >&2; \
	  echo "WARNING: install gcc and the Python headers (e.g. apt-get install gcc python3-dev), then run make again." >&2; \
	fi

$(NPM_STAMP): console/package.json console/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ with npm (e.g. apt-get install -y npm) to build the console" >&2; exit 1; }
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

install: $(STAMP) $(NPM_STAMP) prometheus-tools

# chromium + a CJK font for the console's browser tests; installed when missing (CI runs as root)
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi wqy; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "the browser tests need: sudo apt-get install -y $(BROWSER_PKGS)" >&2; exit 1; fi; \
	echo "installing $(BROWSER_PKGS) for the browser tests"; \
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q $(BROWSER_PKGS) \
	  || { apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q $(BROWSER_PKGS); }

# The operators' view and the rule tests need the real `prometheus` and `promtool`: Debian's
# packages (docs/operations.md compares them with a Go build). Ours run on their own loopback
# ports; if apt started the distribution's services (:9090, and :9093, Kafka's controller port),
# they are stopped and disabled.
prometheus-tools:
	@if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1 \
	    || ! command -v prometheus-alertmanager >/dev/null 2>&1; then \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  if [ -n "$$sudo" ] && ! command -v sudo >/dev/null 2>&1; then \
	    echo "need root (or sudo) for: apt-get install prometheus prometheus-alertmanager" >&2; exit 1; \
	  fi; \
	  echo "installing Debian's prometheus and prometheus-alertmanager packages"; \
	  $$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q \
	    --no-install-recommends prometheus prometheus-alertmanager >/dev/null || exit 1; \
	  for svc in prometheus prometheus-alertmanager; do \
	    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet $$svc 2>/dev/null; then \
	      $$sudo systemctl disable --now $$svc; \
	    fi; \
	  done; \
	fi

stack-up: install
	$(SB) stack up

stack-down: install
	$(SB) stack down

demo: install
	$(SB) demo

unit: install
	$(BIN)/pytest -m "not integration and not e2e" $(PYTEST_ARGS)

test: install browser
	@started=0; \
	if ! $(SB) stack status >/dev/null 2>&1; then \
	  $(SB) stack up || exit 1; started=1; \
	fi; \
	trap 'if [ $$started = 1 ]; then $(SB) stack down; fi' EXIT INT TERM; \
	$(SB) stack prune || echo "warning: stack prune failed (see above); Elasticsearch may run out of shards"; \
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache console/node_modules build
	rm -f streams/_speedups.*.so
