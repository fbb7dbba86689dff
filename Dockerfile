# The key server image: compiled with dev dependencies in a build stage, run from a distroless Node LTS image as
# uid 65534 with only the compiled server and production node_modules. No shell, no package manager, no
# certificates: the Deployment mounts the TLS Secret and passes every flag as args to the ENTRYPOINT.
#
#   docker build -t "$(node -p "require('./versions.json').images.keyServer.repository")":$(node -p "require('./package.json').version") .
#
# Node 22 is an LTS line; keep the build and runtime majors equal (test/delivery/dockerfile.test.ts checks it).
# For reproducible builds pin both images by digest (image@sha256:...) in your registry mirror.

# Stage 1: install everything and compile TypeScript, exactly as `npm ci && npm run build` does on a workstation.
FROM docker.io/library/node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
# versions.json: the constructs read their default images from it (constructs/images.ts).
COPY tsconfig.json main.ts versions.json ./
COPY server ./server
COPY constructs ./constructs
COPY imports ./imports
RUN npx tsc -p tsconfig.json

# Stage 2: production dependencies only (no TypeScript, jest or cdk8s-cli in the image).
FROM docker.io/library/node:22-bookworm-slim AS production-dependencies
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Stage 3: the runtime. Distroless has no shell; everything the server needs is node, its code and its modules.
FROM gcr.io/distroless/nodejs22-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=production-dependencies /src/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/lib/server ./lib/server
# 65534 (nobody), the uid and gid the Deployment's securityContext runs as; files stay root-owned and read-only.
USER 65534:65534
# https (keys, /health, /ready, /metrics) and metrics (/metrics only), as the Deployment's container ports.
EXPOSE 1123 9464
# --max-semi-space-size=4 (MiB): V8 otherwise grows its young generation to 2 x 16 MiB semi-spaces under load, and
# RSS at 200 connections reaches ~103 MB, above the Deployment's 96Mi request; with 4 it stays near 82 MB at the
# same throughput and CPU per request (bench/RESULTS.md). The benchmark and the image tests read this line.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "/app/lib/server/cli.js"]
