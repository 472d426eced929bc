# syntax=docker/dockerfile:1.20
# `COPY --parents` (generally available since Dockerfile frontend 1.20) keeps the workspace layout
# when copying only the package manifests, so the `npm ci` layer is reused until a manifest changes.
#
# One image for every service; the command chooses what runs:
#   node dist/services/<service>/src/main.js      the service (Deployment)
#   node dist/services/<service>/src/migrate.js   its migrations (migration Job, MIGRATION_DATABASE_URL)
# Targets:
#   runtime (default, last stage)  production image: compiled dist/, the data files the services read
#                                  and production dependencies only
#   tools                          dev-only image for the Cloud API sandbox and the compose infra job;
#                                  it runs TypeScript sources through tools/ts-register.cjs, which
#                                  needs @swc/core (a dev dependency), so it is never deployed to prod.
# Build: docker build -t wa-gov-platform:<version> --build-arg APP_VERSION=<version> .
#        docker build --target tools -t wa-gov-platform-tools:<version> .

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
COPY --parents libs/*/package.json services/*/package.json ./
# --ignore-scripts: package.json's allowScripts denies every install script; nothing at build or
# run time needs one (swc's native binary arrives as a platform-specific optional dependency).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts

FROM deps AS build
COPY tsconfig.base.json tsconfig.json .swcrc ./
COPY tools ./tools
COPY libs ./libs
COPY services ./services
COPY sandbox ./sandbox
COPY config ./config
RUN npm run build

FROM build AS prod-deps
RUN npm prune --omit=dev --ignore-scripts

FROM build AS tools
# tools/infra.ts writes .local/infra.env; everything else stays read-only for the app user.
RUN mkdir -p /app/.local && chown 1000:1000 /app/.local
ENV NODE_ENV=development
USER 1000:1000
CMD ["node", "-r", "./tools/ts-register.cjs", "sandbox/src/main.ts"]

FROM ${NODE_IMAGE} AS runtime
ARG APP_VERSION=0.0.0-dev
LABEL org.opencontainers.image.title="wa-gov-platform" \
      org.opencontainers.image.description="WhatsApp Cloud API platform for public agencies (all services; pick one with the command)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${APP_VERSION}"
ENV NODE_ENV=production \
    APP_VERSION=${APP_VERSION}
WORKDIR /app
# Files stay root-owned: the app user (1000, `node` in the base image) can read but never modify
# its own code, even where the root filesystem is not mounted read-only.
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Files the services read from disk at run time, relative to WORKDIR (deploy/test/image.spec.ts
# lists each reader in the code and checks it is copied here): the template starter catalog, and
# the sandbox samples a non-production replica (the dev overlay, compose) loads when no file is
# configured: the sandbox tenants, the scheduler's policies, the chatbot's flows and its HTTP
# integrations, the handoff router's sample departments and agents. The agent console's built assets are part of dist/ (npm run build).
COPY --from=build /app/services/template-registry/starter ./services/template-registry/starter
COPY --from=build /app/services/notification-scheduler/config ./services/notification-scheduler/config
COPY --from=build /app/services/chatbot/flows ./services/chatbot/flows
COPY --from=build /app/services/handoff-router/sample ./services/handoff-router/sample
COPY --from=build /app/config ./config
# Numeric, so Kubernetes can enforce runAsNonRoot without resolving a user name.
USER 1000:1000
# Node is PID 1 on purpose: Nest's shutdown hooks handle SIGTERM themselves (no npm wrapper, which
# would swallow the signal). The default command is only a placeholder; manifests always set one.
CMD ["node", "dist/services/webhook-ingress/src/main.js"]
