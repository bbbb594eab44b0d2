# Two commands on a fresh machine: `make demo` and `make test` (both set up .venv first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cvkit-installed
DEMO_OUT := demo_out

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@# open3d (point clouds, imported lazily) needs Debian's libusb-1.0-0
	@if ! ldconfig -p 2>/dev/null | grep -q libusb-1.0; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libusb-1.0-0 >/dev/null; \
	  else echo "note: install libusb-1.0-0 (sudo apt-get install libusb-1.0-0) for point-cloud files"; fi; \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the CPU wheel of torch first (on disk here); the package's torch range then installs nothing more
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# every other package at the exact version in constraints.txt (upgrade there, on purpose)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,ray]'
	# OCR models ship inside this wheel; --no-deps keeps its opencv-python requirement out (one cv2 wheel only)
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt rapidocr-onnxruntime==1.4.4
	# semantic-flow's face evaluation reads only the MTCNN state dicts in this wheel; --no-deps keeps torchvision out
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt facenet-pytorch==2.6.0
	touch $(STAMP)

demo: setup
	mkdir -p $(DEMO_OUT)
	$(BIN)/cvkit track assets/demo/clip.mp4 --init-box @assets/demo/init_box.txt \
		-o $(DEMO_OUT)/tracked.mp4 --boxes $(DEMO_OUT)/boxes.csv
	@echo "demo: annotated video $(DEMO_OUT)/tracked.mp4, boxes $(DEMO_OUT)/boxes.csv"

# the whole suite: the tests that assert no model quality in 2 processes (pytest-xdist, 1 torch thread each),
# then the quality tests at 2 torch threads and again at 1 (their results must hold at both thread counts)
test: setup
	CVKIT_TEST_THREADS=1 $(BIN)/python -m pytest -q -ra -n 2 -m "not quality"
	$(BIN)/python -m pytest -q -ra -m quality
	CVKIT_TEST_THREADS=1 $(BIN)/python -m pytest -q -ra -n 2 -m quality

# the inner loop: no slow tests, 2 processes
test-fast: setup
	CVKIT_TEST_THREADS=1 $(BIN)/python -m pytest -q -ra -n 2 -m "not slow"

lint: setup
	$(BIN)/ruff check cvkit cvkit_cli tests benchmarks experiments

bench: setup
	$(BIN)/python benchmarks/bench_track.py --out benchmarks/results/bench_track.json

clean:
	rm -rf $(DEMO_OUT) .pytest_cache
