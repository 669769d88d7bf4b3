# syntax=docker/dockerfile:1
#
# Watch room server image: `docker build -t watch-room-server .`, then
#   docker run -d --name watch-room --init -p 3001:3001 \
#     -e AUTH_KEY=<at least 16 characters> -e ALLOWED_ORIGINS=https://tv.example.com watch-room-server
# Every setting is an environment variable (README "Configuration", .env.example).

# --- build: TypeScript -> dist/ ---------------------------------------------------------------
# --ignore-scripts, here and below: the only install scripts are bufferutil's (it ships a prebuilt
# linux-x64 binary, found without the script; elsewhere `ws` falls back to JavaScript instead of
# failing the build for want of a C++ toolchain) and esbuild's (tsx; dist/ needs neither).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- production dependencies only ---------------------------------------------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime --------------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3001
WORKDIR /app
# Owned by root and read-only for the server: it writes nothing to disk (logs go to stdout).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image's unprivileged user (uid 1000).
USER node
EXPOSE 3001
# Liveness only (/ready is for load balancers). The slim image has no curl or wget: node asks.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3001) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server shuts down gracefully on SIGTERM (clients see a transport close and reconnect) and
# exits 0 within SHUTDOWN_TIMEOUT_MS (8 s): give `docker stop` more than that (`-t 15`, compose's
# stop_grace_period). Exec form, so node itself receives the signal; it spawns no children, so
# running as PID 1 is fine (`docker run --init` adds tini if you prefer).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
