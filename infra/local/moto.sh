#!/usr/bin/env bash
# Starts a local AWS (moto server) for Petrel and provisions it from template.yaml.
#   bash infra/local/moto.sh            # venv in .venv, moto on 127.0.0.1:${MOTO_PORT:-5000}
# Prints the environment to use it; `eval "$(bash infra/local/moto.sh --env)"` sets it.
# Stop it with: kill "$(cat .venv/moto.pid)"
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT="${MOTO_PORT:-5000}"
VENV="${PETREL_VENV:-.venv}"

# (Re)install when the pinned requirements changed since the venv was made.
if [ ! -x "$VENV/bin/moto_server" ] || ! cmp -s infra/local/requirements.txt "$VENV/petrel-requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r infra/local/requirements.txt >&2
  cp infra/local/requirements.txt "$VENV/petrel-requirements.txt"
fi

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
# Python is on every machine this runs on; curl may not be.
up() { python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1; }
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export PETREL_TABLE="${PETREL_TABLE:-petrel}" PETREL_BUCKET="${PETREL_BUCKET:-petrel-media}"

if ! up; then
  # moto's own server, with DynamoDB requests one at a time (see the script).
  "$VENV/bin/python" infra/local/moto_server.py 127.0.0.1 "$PORT" >"$VENV/moto.log" 2>&1 &
  echo $! >"$VENV/moto.pid"
  for _ in $(seq 1 100); do
    up && break
    sleep 0.1
  done
  up || { echo "moto server did not start; see $VENV/moto.log" >&2; exit 1; }
fi
"$VENV/bin/python" infra/local/provision.py template.yaml >&2

if [ "${1:-}" = "--env" ]; then
  cat <<ENV
export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_REGION=$AWS_REGION AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export PETREL_TABLE=$PETREL_TABLE PETREL_BUCKET=$PETREL_BUCKET
ENV
else
  echo "moto server on $AWS_ENDPOINT_URL (pid $(cat "$VENV/moto.pid" 2>/dev/null || echo '?'))" >&2
fi
