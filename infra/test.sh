#!/usr/bin/env bash
# The project's test command (README, .ci/run): everything a new machine needs beyond the Rust
# toolchain, Python 3 and Node is installed here from the package registries.
#   1. a Python venv with moto server, cfn-lint and the SAM CLI (infra/local/requirements.txt)
#   2. moto on 127.0.0.1, provisioned from template.yaml (infra/local/moto.sh)
#   3. the template lints and checks, the cost model's tests, formatting, lints, and every
#      test of the workspace, with the AWS adapters' suites running against moto;
#   4. the client tests: toot, Mastodon.py and feedparser (from the same venv), headless
#      Chromium (apt, installed here when missing) and the Fedify peer (npm ci) against
#      `petrel serve`; then the template as a CloudFormation stack in moto, operated with
#      `petrel --stack` (infra/tests/test_stack_moto.py);
#   5. `sam build`: the five functions cross-compiled for arm64 by one cargo-lambda build
#      (infra/lambda/Makefile), as a deploy builds them (about 10 minutes cold on 2 cores, seconds
#      when nothing changed; PETREL_SKIP_SAM_BUILD=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."

export MOTO_PORT="${MOTO_PORT:-5000}"
started_moto=0
if ! python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null 2>&1; then
  started_moto=1
fi
# Assigned first: `eval "$(…)"` would go on (set -e does not see a failed substitution there)
# when moto cannot start, and fail later on a missing AWS_ENDPOINT_URL.
moto_env="$(bash infra/local/moto.sh --env)"
eval "$moto_env"
if [ "$started_moto" = 1 ]; then
  trap 'kill "$(cat .venv/moto.pid)" 2>/dev/null || true' EXIT
fi

echo "== cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
echo "== sam validate --lint"
SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml
echo "== template checks (least privilege, data safety, routing, the guided deploy, the docs' facts) and the cost model"
.venv/bin/python -m pytest infra/tests infra/cost -q -p no:cacheprovider --ignore=infra/tests/test_stack_moto.py
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace
# The page tests render in headless Chromium (Debian's package); install it when missing.
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium (apt-get) for the page tests"
  if [ "$(id -u)" = 0 ]; then
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >/dev/null \
      || echo "!! chromium could not be installed: the page tests will be SKIPPED" >&2
  else
    echo "!! chromium is missing and this is not root: the page tests will be SKIPPED" >&2
  fi
fi
echo "== npm ci: the Fedify 2.3.6 federation peer (tests/federation/peer)"
(cd tests/federation/peer && npm ci --no-audit --no-fund --loglevel=error)
echo "== client tests (toot, Mastodon.py, OAuth over HTTP, federation with Fedify, feeds, pages in Chromium)"
cargo build --quiet -p petrel-cli
.venv/bin/python -m pytest tests/clients -q -p no:cacheprovider
echo "== the template as a stack in moto's CloudFormation, driven by petrel --stack (restore steps included)"
.venv/bin/python -m pytest infra/tests/test_stack_moto.py -q -p no:cacheprovider
if [ "${PETREL_SKIP_SAM_BUILD:-0}" = 1 ]; then
  echo "== sam build: SKIPPED (PETREL_SKIP_SAM_BUILD=1)"
else
  echo "== sam build (cargo-lambda, arm64): the deploy artefacts"
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
  PATH="$PWD/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0 sam build </dev/null
  for f in WebFunction InboxFunction OutboxFanoutFunction MediaFunction FeedFunction; do
    # ELF e_machine 183 is AArch64.
    python3 -c 'import sys; b=open(sys.argv[1],"rb").read(20); sys.exit(b[:4]!=b"\x7fELF" or int.from_bytes(b[18:20],"little")!=183)' \
      ".aws-sam/build/$f/bootstrap" || { echo "!! $f: no arm64 bootstrap" >&2; exit 1; }
  done
fi
