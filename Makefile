# Wisp's build. `make run` and `make test` are the README's two commands; both install what
# they need first. Generated files go to out/ (BPF objects, skeletons, compiled TS), build/
# folders (node-gyp) and dist/ (the Grafana plugin), all ignored by git.

.PHONY: all deps build run test clean bpf addon ts plugin fuzz native-tests check-house

all: build

deps:
	@bash scripts/install-deps.sh

build: deps bpf addon ts plugin

# --- bpf: BPF objects and their libbpf skeletons (owned by the capture stage) ---
# vmlinux.h comes from the running kernel's BTF (CO-RE relocates against any other kernel).
BPF_OUT := out/bpf
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -I$(BPF_OUT) -Ibpf -Wall

bpf: $(BPF_OUT)/socket_trace.bpf.o $(BPF_OUT)/socket_trace.skel.h

$(BPF_OUT)/vmlinux.h:
	@mkdir -p $(@D)
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	mv $@.tmp $@

$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(BPF_OUT)/vmlinux.h
	clang $(BPF_CFLAGS) -c $< -o $@

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	bpftool gen skeleton $< name $* > $@.tmp
	mv $@.tmp $@

# --- addon: the N-API addon that loads the BPF objects ---
# Plain cc against Node's own headers (node-gyp would try to download them); the skeleton
# embeds the BPF object, so the .node file is the single artifact.
ADDON := out/capture/wisp_capture.node
NODE_INCLUDE := $(shell node -p "require('path').resolve(process.execPath, '../../include/node')")
# The native code of the HTTP stage (src/engine/http/native) and of the connections stage
# (src/engine/conns/native, which reads TLS records through the HTTP stage's reassembly), and
# what both share (src/engine/native), is linked in; their fuzz harnesses and unit tests are not.
SHARED_NATIVE_SRC := $(wildcard src/engine/native/*.c)
HTTP_NATIVE_SRC := $(filter-out src/engine/http/native/fuzz_%.c src/engine/http/native/%_test.c,$(wildcard src/engine/http/native/*.c))
CONNS_NATIVE_SRC := $(filter-out src/engine/conns/native/fuzz_%.c src/engine/conns/native/%_test.c,$(wildcard src/engine/conns/native/*.c))
CONNS_NATIVE_DEPS := src/engine/http/native/reassembly.c $(SHARED_NATIVE_SRC)
NATIVE_HEADERS := $(wildcard src/engine/native/*.h src/engine/http/native/*.h src/engine/conns/native/*.h) bpf/socket_trace.h
ADDON_SRC := $(wildcard src/engine/capture/addon/*.c) $(HTTP_NATIVE_SRC) $(CONNS_NATIVE_SRC) $(SHARED_NATIVE_SRC)

addon: $(ADDON)

$(ADDON): $(ADDON_SRC) $(wildcard src/engine/capture/addon/*.h) $(NATIVE_HEADERS) $(BPF_OUT)/socket_trace.skel.h
	@mkdir -p $(@D)
	cc -std=gnu11 -O2 -g -Wall -Wextra -fPIC -shared -fvisibility=hidden -pthread -I$(NODE_INCLUDE) -I$(BPF_OUT) -Ibpf \
		$(ADDON_SRC) -o $@ -lbpf -lelf -lz

# --- fuzz: libFuzzer harnesses of the native code, with AddressSanitizer and UBSan ---
# Each src/engine/{http,conns}/native/fuzz_X.c links its stage's sources and the shared ones
# (src/engine/native); `make test` runs them all for a bounded time (scripts/fuzz.sh) from seeds
# written from the recorded exchanges and handshakes.
FUZZ_OUT := out/fuzz
FUZZERS := $(patsubst src/engine/http/native/fuzz_%.c,$(FUZZ_OUT)/fuzz_%,$(wildcard src/engine/http/native/fuzz_*.c)) \
	$(patsubst src/engine/conns/native/fuzz_%.c,$(FUZZ_OUT)/fuzz_%,$(wildcard src/engine/conns/native/fuzz_*.c))
SANITIZE := -std=gnu11 -g -O1 -fno-sanitize-recover=all -Ibpf
FUZZ_CFLAGS := $(SANITIZE) -fsanitize=fuzzer,address,undefined

fuzz: $(FUZZERS)

$(FUZZ_OUT)/fuzz_%: src/engine/http/native/fuzz_%.c $(HTTP_NATIVE_SRC) $(SHARED_NATIVE_SRC) $(NATIVE_HEADERS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Isrc/engine/http/native $< $(HTTP_NATIVE_SRC) $(SHARED_NATIVE_SRC) -o $@

$(FUZZ_OUT)/fuzz_%: src/engine/conns/native/fuzz_%.c $(CONNS_NATIVE_SRC) $(CONNS_NATIVE_DEPS) $(NATIVE_HEADERS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Isrc/engine/conns/native $< $(CONNS_NATIVE_SRC) $(CONNS_NATIVE_DEPS) -o $@

# Unit tests of the native code (src/engine/{http,conns}/native/*_test.c), built with the same sanitizers.
NATIVE_TESTS := $(patsubst src/engine/http/native/%_test.c,$(FUZZ_OUT)/%_test,$(wildcard src/engine/http/native/*_test.c)) \
	$(patsubst src/engine/conns/native/%_test.c,$(FUZZ_OUT)/%_test,$(wildcard src/engine/conns/native/*_test.c))

native-tests: $(NATIVE_TESTS)

$(FUZZ_OUT)/%_test: src/engine/http/native/%_test.c $(HTTP_NATIVE_SRC) $(SHARED_NATIVE_SRC) $(NATIVE_HEADERS)
	@mkdir -p $(@D)
	clang $(SANITIZE) -fsanitize=address,undefined -Isrc/engine/http/native $< $(HTTP_NATIVE_SRC) $(SHARED_NATIVE_SRC) -o $@

$(FUZZ_OUT)/%_test: src/engine/conns/native/%_test.c $(CONNS_NATIVE_SRC) $(CONNS_NATIVE_DEPS) $(NATIVE_HEADERS)
	@mkdir -p $(@D)
	clang $(SANITIZE) -fsanitize=address,undefined -Isrc/engine/conns/native $< $(CONNS_NATIVE_SRC) $(CONNS_NATIVE_DEPS) -o $@

# --- ts: the engine, CLI, tests and benches ---
ts:
	npx tsc -p tsconfig.json

# --- plugin: the Grafana datasource plugin into dist/ ---
# Type-check, bundle dist/ (webpack + swc, AMD), then build the plugin's tests and browser
# harness into out/ (esbuild). See src/plugin/README.md and test/plugin/README.md.
plugin:
	npx tsc -p src/plugin/tsconfig.json
	node src/plugin/build.mjs
	node test/plugin/build.mjs

run: build
	bin/wisp demo

test: build fuzz native-tests
	bash scripts/test.sh

# The docs' examples alone (test/docs, part of make test; test/README.md says what each block gets).
.PHONY: test-docs
test-docs: build
	node --test --test-concurrency=1 out/test/docs/docs.test.js

# The allowed arrows between folders (.dependency-cruiser.cjs) and no unused exports (knip.json);
# make test runs it first.
check-house: deps
	bash scripts/check-house.sh

clean:
	rm -rf out dist src/engine/capture/build

# --- bench-query: dashboard queries over 10 M rows, Wisp vs DuckDB (owned by the executor) ---
.PHONY: bench-query
bench-query: deps ts
	node --expose-gc --max-old-space-size=16384 out/bench/query/run.js $(BENCH_QUERY_ARGS)

# --- bench-capture: capture cost and coverage against nginx and Node, with and without the engine ---
.PHONY: bench-capture
bench-capture: build
	node out/bench/capture/run.js $(BENCH_CAPTURE_ARGS)

# --- bench-soak: a live engine under capture load with the dashboard open, for 10 minutes ---
# BENCH_SOAK_ARGS="--duration 2m" for a shorter run; see bench/soak/run.ts for every flag.
.PHONY: bench-soak
bench-soak: build
	node out/bench/soak/run.js $(BENCH_SOAK_ARGS)

# --- bench-procstats: CPU of a process_stats sample per 1 000 processes (owned by meta) ---
.PHONY: bench-procstats
bench-procstats: deps ts
	node out/bench/procstats/run.js $(BENCH_PROCSTATS_ARGS)

# --- bench-stream: rows/s a streaming client receives against the capture rate, and the engine's CPU per streamed row ---
.PHONY: bench-stream
bench-stream: build
	node out/bench/stream/run.js $(BENCH_STREAM_ARGS)

# --- bench-scale: the broker over 1, 2 and 4 engines, partial aggregation vs shipping raw rows (owned by the broker) ---
.PHONY: bench-scale
bench-scale: deps ts
	node --max-old-space-size=8192 out/bench/scale/run.js $(BENCH_SCALE_ARGS)
