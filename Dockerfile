# syntax=docker/dockerfile:1
# Build stage: compile TypeScript to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY daemon ./daemon
COPY parsers ./parsers
COPY rules ./rules
COPY db ./db
RUN npm run build

# Runtime stage: production dependencies only, compiled code (with its migrations), examples.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MAILROOM_SMTP_HOST=0.0.0.0 \
    MAILROOM_HTTP_HOST=0.0.0.0 \
    MAILROOM_DATA_DIR=/var/lib/mailroom
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/mailroom --create-home mailroom
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples ./examples
USER mailroom
EXPOSE 2525 8025
VOLUME ["/var/lib/mailroom"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:8025/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini as PID 1 forwards SIGTERM; give the container a stop grace period above 45 s (the shutdown timeout).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/mailroom.js"]
CMD ["start"]
