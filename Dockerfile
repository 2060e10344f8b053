# The Wisp image: `wisp engine`, `wisp broker`, `wisp query` and the demo workload in one image.
#
#   docker build -t wisp:0.1.0 .                    # the engine/broker image (the last stage)
#   docker build --target grafana -t wisp-grafana . # Grafana with the plugin (docker-compose.yaml)
#
# Stage "build" compiles everything `make build` does except installing test peers: the BPF
# object and its skeleton, the N-API addon that embeds it, the TypeScript, and the plugin.
# vmlinux.h is dumped from the build host's BTF (/sys/kernel/btf/vmlinux, visible inside
# `docker build`); the object is CO-RE, so libbpf relocates it against each node's kernel.
FROM node:20-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool linux-libc-dev pkg-config make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Same fallback as scripts/install-deps.sh: npm ci rejects the lock's missing optional
# platform packages on some registries; npm install from the same lock pins the same versions.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund --no-save
COPY . .
RUN make bpf addon ts plugin
# Production dependencies only, for the runtime stage.
RUN npm prune --omit=dev --no-audit --no-fund

# Grafana with the plugin baked in, so `docker compose up` needs nothing built on the host.
FROM grafana/grafana:13.2.2 AS grafana
COPY --from=build /src/dist /var/lib/grafana/plugins/wisp-ebpf-datasource

# The runtime: Node 20 and the shared libraries the addon links (libbpf, libelf, zlib).
FROM node:20-bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/wisp
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/out/src ./out/src
COPY --from=build /src/out/capture ./out/capture
EXPOSE 7070 7071
ENTRYPOINT ["bin/wisp"]
CMD ["engine", "--listen", "0.0.0.0:7070"]
