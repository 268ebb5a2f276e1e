#!/usr/bin/env bash
# npm run demo: VS Code (code-server) in the browser with LM Lens and the sample workspace (test/e2e/sample).
# Prints the URL and runs until Ctrl+C. Env: DEMO_PORT (default 8790), DEMO_WORKSPACE (default test/e2e/sample).
# `npm run demo` builds first; after another build, restart the demo (the extension's dist/ is a copy).
set -euo pipefail
source "$(dirname "$0")/env.sh"
PORT=${DEMO_PORT:-8790}
WS=${DEMO_WORKSPACE:-$ROOT/test/e2e/sample}
bash "$ROOT/test/e2e/install.sh"
trap 'echo; echo "stopping"; bash "$ROOT/test/e2e/server.sh" stop "$PORT"' EXIT
trap 'exit 0' INT TERM
bash "$ROOT/test/e2e/server.sh" start "$PORT" "$WS"
RUN=$(run_dir "$PORT")
cat <<MSG

  LM Lens demo: open http://127.0.0.1:$PORT/?folder=$WS
  (from another machine: ssh -L $PORT:127.0.0.1:$PORT <this machine>, then the same URL)
  Try: hover "bank" in README.md; F1 > "LM Lens: Show Models"; F1 > "LM Lens: Embed Word at Cursor".
  Extension log: $RUN/data/logs/*/exthost1/lm-lens.lm-lens/LM Lens.log
  Ctrl+C stops it.

MSG
# wait for Ctrl+C, or for the server to exit by itself
while kill -0 "$(cat "$RUN/server.pid" 2>/dev/null || echo 0)" 2>/dev/null; do sleep 1; done
echo "code-server exited; its log: $RUN/server.log"
