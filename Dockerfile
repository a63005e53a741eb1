# syntax=docker/dockerfile:1
# pr-creator as a container: `serve` (the default command, HTTP on 8080) or a one-shot `run`.
#   docker build -t pr-creator .
#   docker run -p 8080:8080 -e PR_CREATOR_API_TOKEN=... -v pr-creator-state:/var/lib/pr-creator pr-creator
#   docker run --rm -v "$PWD:/work" -w /work pr-creator run event.json --repo-path .
# At scale (docs/deployment.md, "Running at scale"): stateless `serve` replicas and `worker` processes on PostgreSQL.
#   docker run -p 8080:8080 -e PR_CREATOR_API_TOKEN=... -e PR_CREATOR_DATABASE_URL=postgres://... pr-creator
#   docker run -e PR_CREATOR_DATABASE_URL=postgres://... pr-creator worker --concurrency 8

# --- build: compile TypeScript and the native better-sqlite3 binding, then drop dev dependencies ---------
FROM node:20-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts but better-sqlite3's (its native binding): `prepare` would build before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY schema ./schema
RUN npm run build && npm prune --omit=dev --ignore-scripts

# --- runtime: Node, git (for local commit sources) and the built app, run as the unprivileged `node` user -----
FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  PR_CREATOR_STATE_DIR=/var/lib/pr-creator
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/src/prompts ./src/prompts
COPY --from=build /app/schema ./schema
COPY LICENSE README.md CHANGELOG.md ./
RUN mkdir -p /var/lib/pr-creator && chown node:node /var/lib/pr-creator \
  && chmod +x /app/dist/cli/main.js && ln -s /app/dist/cli/main.js /usr/local/bin/pr-creator
# Mounted repositories belong to another user; git would refuse them as "dubious ownership".
RUN git config --system --add safe.directory '*'
USER node
VOLUME ["/var/lib/pr-creator"]
EXPOSE 8080
# /healthz answers 200 while the process serves (no auth); /readyz adds the agent and the state file.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["tini", "--", "node", "/app/dist/cli/main.js"]
# Listening beyond loopback needs PR_CREATOR_API_TOKEN (serve refuses to start without it).
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
