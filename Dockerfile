# syntax=docker/dockerfile:1
# Build stage: compile TypeScript to dist/.
# Node 24: the current LTS line (mailroom runs on 20 and later).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY daemon ./daemon
COPY parsers ./parsers
COPY rules ./rules
COPY db ./db
RUN npm run build

# Runtime stage: production dependencies only, compiled code (with its migrations), examples and
# the rules' JSON Schema (the examples point editors at it).
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    MAILROOM_SMTP_HOST=0.0.0.0 \
    MAILROOM_HTTP_HOST=0.0.0.0 \
    MAILROOM_DATA_DIR=/var/lib/mailroom
# A fixed numeric UID: Kubernetes' runAsNonRoot can verify it, and volumes can be chowned to it.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mailroom \
    && useradd --system --uid 10001 --gid 10001 --home /var/lib/mailroom --create-home mailroom
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples ./examples
COPY schema ./schema
# `mailroom tickets list` in `docker exec`, as in the README.
RUN ln -s /app/bin/mailroom.js /usr/local/bin/mailroom
USER 10001:10001
EXPOSE 2525 8025
VOLUME ["/var/lib/mailroom"]
# The port the daemon listens on, not a fixed 8025: MAILROOM_HTTP_PORT may move it.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:'+(process.env.MAILROOM_HTTP_PORT||8025)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini as PID 1 forwards SIGTERM; give the container a stop grace period above 45 s (the shutdown timeout).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/mailroom.js"]
CMD ["start"]
