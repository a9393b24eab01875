# Substrate: `make demo` and `make test` work on a fresh Debian machine with Swift installed.
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev liblapacke-dev pkg-config
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps build test demo bench quality clean

## deps: install the BLAS/LAPACK packages with apt-get when they are missing (says so when it does).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing missing packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "make deps: $(APT_PACKAGES) already installed"; fi

## build: optimised build of the library and the vst tool.
build: deps
	$(SWIFT) build -c release

## test: build optimised and run every test (Swift Testing).
test: deps
	$(SWIFT) test -c release --disable-xctest

## demo: the BLAS build and its speed, then a first SVD and regime look at the bundled digits, with a report in vst-report/.
demo: build
	$$($(SWIFT) build -c release --show-bin-path)/vst info
	$$($(SWIFT) build -c release --show-bin-path)/vst tour --report vst-report --force

## bench: the benchmark suite (package-benchmark) and the side-by-side comparison with numpy.
bench: build
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark
	python3 Benchmarks/compare/compare.py

## quality: train every generative family on digits and a lifted toy, score the samples (vst evaluate --reference)
## beside the Gaussian baseline; writes quality/quality.md and quality/quality.json (under 15 min on 2 cores; not in make test).
quality: build
	VST="$$($(SWIFT) build -c release --show-bin-path)/vst" scripts/quality.sh

clean:
	rm -rf .build .build-* Benchmarks/.build
