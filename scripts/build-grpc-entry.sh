#!/bin/sh
# Compiles the gRPC shim's entry (bin/grpc-server.ts) and everything under bin/ and lambdas/ into OUTDIR (default
# dist): what the Dockerfile's build stage runs, and what test/artifacts/grpc-entry.test.ts starts. One script, so
# the test cannot drift from the image.
#
# Transpile file by file (no bundling) so every module keeps its place and __dirname-relative paths (proto files,
# the state machine, config) resolve exactly as under tsx; other files beside the sources are copied.
# import.meta is mapped for CommonJS output.
set -eu
OUTDIR="${1:-dist}"
ESBUILD="${ESBUILD:-npx esbuild}"
# shellcheck disable=SC2046 # one argument per source file
$ESBUILD $(find bin lambdas -name '*.ts' ! -name '*.d.ts') \
  --outdir="$OUTDIR" --outbase=. --platform=node --format=cjs --target=node22 --sourcemap --log-level=warning \
  --define:import.meta.dirname=__dirname --define:import.meta.filename=__filename \
  --define:import.meta.url=__importMetaUrl \
  "--banner:js=const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;"
find bin lambdas -type f ! -name '*.ts' -exec sh -c 'mkdir -p "$2/$(dirname "$1")" && cp "$1" "$2/$1"' copy {} "$OUTDIR" \;
