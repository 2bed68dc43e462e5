# syntax=docker/dockerfile:1
# The gRPC shim (bin/grpc-server.ts) for the Fargate task, linux/arm64.
# `cdk synth` only stages this build context (no Docker needed); `cdk deploy` builds and pushes the image.
# Local try-out: docker build --platform linux/arm64 -t settlement-grpc . && docker run -p 50056:50056 settlement-grpc

# Public ECR mirror of the official Node image: no Docker Hub rate limits during deploys.
ARG NODE_IMAGE=public.ecr.aws/docker/library/node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts stay off: the `node` package would download a second Node, and esbuild runs without its own.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY lambdas ./lambdas
# Transpile file by file into dist/ (scripts/build-grpc-entry.sh says how; test/artifacts/grpc-entry.test.ts runs the
# same script and starts the result).
COPY scripts/build-grpc-entry.sh ./scripts/
RUN sh scripts/build-grpc-entry.sh dist

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    GRPC_PORT=50056
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/ ./
COPY proto ./proto
COPY statemachines ./statemachines
COPY config ./config
COPY infra/grpc-shim/health-probe.cjs ./health-probe.cjs
USER node
EXPOSE 50056
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "health-probe.cjs"]
CMD ["node", "--enable-source-maps", "bin/grpc-server.js"]
