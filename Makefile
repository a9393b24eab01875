# Substrate: `make demo` and `make test` work on a fresh Debian machine with Swift installed.
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev liblapacke-dev pkg-config
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps build test demo report-check bench bench-swift bench-baseline bench-check quality scale-out clean

## deps: install the BLAS/LAPACK packages with apt-get when they are missing (says so when it does).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing missing packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "make deps: $(APT_PACKAGES) already installed"; fi

## build: optimised build of the library, the vst tool and the substrate-bench benchmark executable.
build: deps
	$(SWIFT) build -c release

## test: build optimised and run every test (Swift Testing).
test: deps
	$(SWIFT) test -c release --disable-xctest

## demo: the main job — `vst demo` trains flow matching, DDPM and a VAE on the bundled digits, samples them, runs the
## whole vST analysis and writes vst-report/index.html (under 5 minutes on 2 cores; DEMO_ARGS=--quick: under 1).
demo: build
	$$($(SWIFT) build -c release --show-bin-path)/vst info
	$$($(SWIFT) build -c release --show-bin-path)/vst demo --out vst-report --force $(DEMO_ARGS)

## report-check: render vst-report/index.html in headless Chromium (installed if missing) and check the page and figures.
report-check:
	scripts/check-report.sh vst-report

## Benchmarks are tooling, not product: the `substrate-bench` executable (Benchmarks/Sources/SubstrateBench), built
## with the package. BENCH = its path. These targets never change OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE; a benchmark run
## may unset both for every side alike with BENCH_ARGS=--unset-coretype (make bench only).
BENCH_BIN_DIR = $$($(SWIFT) build -c release --show-bin-path)

## bench: the whole suite into bench-results/ (results.json, results.md, plots/): `substrate-bench suite` over
## d = 64…1024 (GEMM floor, log–log slopes, peak RSS) and its peers interleaved on the same inputs (numpy/scipy,
## scikit-learn, PyTorch, JAX), installed from PyPI when missing. BENCH_ARGS passes options to run_suite.py
## (e.g. --quick, --skip jax, --unset-coretype).
bench: build
	BENCH_BIN=$(BENCH_BIN_DIR)/substrate-bench VST_BIN=$(BENCH_BIN_DIR)/vst python3 Benchmarks/compare/run_suite.py $(BENCH_ARGS)

## bench-swift: only the Swift side (`substrate-bench suite`, no peers) into bench-results/.
bench-swift: build
	$(BENCH_BIN_DIR)/substrate-bench suite $(BENCH_ARGS)

## bench-baseline: save this machine's baseline for bench-check (BASELINE, default bench-results/baseline.json).
BASELINE ?= bench-results/baseline.json
TOLERANCE ?= 0.2
bench-baseline: build
	$(BENCH_BIN_DIR)/substrate-bench suite --save-baseline $(BASELINE) $(BENCH_ARGS)

## bench-check: regression guard: exits non-zero naming every workload more than TOLERANCE (20 %) slower than BASELINE.
bench-check: build
	@test -f $(BASELINE) || { echo "make bench-check: no baseline $(BASELINE); run 'make bench-baseline' first (on this machine)"; exit 2; }
	$(BENCH_BIN_DIR)/substrate-bench suite --baseline $(BASELINE) --tolerance $(TOLERANCE) $(BENCH_ARGS)

## quality: train every generative family on digits and a lifted toy, score the samples (vst evaluate --reference)
## beside the Gaussian baseline; writes quality/quality.md and quality/quality.json (under 15 min on 2 cores; not in make test).
quality: build
	VST="$$($(SWIFT) build -c release --show-bin-path)/vst" scripts/quality.sh

## scale-out: the multi-machine path on a local Dask cluster (scheduler + 2 worker processes): installs Dask into a
## venv under .build/, runs the driver's tests, then a 16 × 50 000 × 256 corpus with a killed worker, and prints the
## largest difference from the one-process fit and analysis (scripts/scaleout; under 10 min on 2 cores). Uses VST or
## the vst that `make test` built (builds one only when there is none).
scale-out: deps
	@VST="$${VST:-$$($(SWIFT) build -c release --show-bin-path)/vst}"; \
	if [ ! -x "$$VST" ]; then $(SWIFT) build -c release || exit 1; fi; \
	PY=$$(scripts/scaleout/setup-env.sh) && export VST && \
	$$PY -m unittest discover -s scripts/scaleout -p 'test_*.py' && \
	$$PY scripts/scaleout/check.py --vst "$$VST" --work .build/scaleout $(SCALEOUT_ARGS)

clean:
	rm -rf .build .build-*
