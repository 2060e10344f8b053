# Wisp's build. `make run` and `make test` are the README's two commands; both install what
# they need first. Generated files go to out/ (BPF objects, skeletons, compiled TS), build/
# folders (node-gyp) and dist/ (the Grafana plugin), all ignored by git.

.PHONY: all deps build run test clean bpf addon ts plugin

all: build

deps:
	@bash scripts/install-deps.sh

build: deps bpf addon ts plugin

# --- bpf: BPF objects and their libbpf skeletons (owned by the capture stage) ---
bpf:

# --- addon: the N-API addon that loads the BPF objects ---
addon:

# --- ts: the engine, CLI, tests and benches ---
ts:
	npx tsc -p tsconfig.json

# --- plugin: the Grafana datasource plugin into dist/ ---
plugin:

run: build
	bin/wisp tail

test: build
	bash scripts/test.sh

clean:
	rm -rf out dist src/engine/capture/build
