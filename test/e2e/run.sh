#!/usr/bin/env bash
# End-to-end test (npm run test:e2e): install (no-op when done), build, start code-server with LM Lens,
# drive it with headless Chromium (test/e2e/e2e.mjs), stop. Exit code = the driver's.
# Env: E2E_PORT (default 8765), E2E_SKIP_BUILD=1 when dist/ is fresh (npm test builds first).
set -uo pipefail
source "$(dirname "$0")/env.sh"
PORT=${E2E_PORT:-8765}
T0=$(date +%s%N)
cd "$ROOT"
bash test/e2e/install.sh || exit 1
if [ "${E2E_SKIP_BUILD:-}" != 1 ]; then npm run --silent build || exit 1; fi
trap 'bash test/e2e/server.sh stop "$PORT"' EXIT
bash test/e2e/server.sh start "$PORT" || exit 1
RUN=$(run_dir "$PORT")
XDG_CONFIG_HOME=$RUN/xdg-config TMPDIR=$RUN/tmp node test/e2e/e2e.mjs "http://127.0.0.1:$PORT" "$RUN"
rc=$?
echo "test:e2e rc=$rc in $(( ($(date +%s%N) - T0) / 1000000 )) ms (logs in $RUN/data/logs)"
exit $rc
