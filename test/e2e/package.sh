#!/usr/bin/env bash
# The packaged extension in a real VS Code (npm run test:e2e:package): builds lm-lens.vsix with `npm run package`
# (unless E2E_VSIX names one already built), installs it into a fresh code-server profile with
# `--install-extension` (server.sh), and drives only the smoke steps: activation from the installed copy (not the
# working tree), the hover on "bank" in two sentences, and one Fill Mask. Exit code = the driver's.
# Env: E2E_PORT (default 8766, beside the full e2e's 8765), E2E_VSIX (an existing .vsix: no packaging).
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
if [ -z "${E2E_VSIX:-}" ]; then
  npm run --silent package || exit 1
  E2E_VSIX=$ROOT/lm-lens.vsix
fi
E2E_VSIX=$E2E_VSIX E2E_STEPS=smoke E2E_SKIP_BUILD=1 E2E_PORT=${E2E_PORT:-8766} bash test/e2e/run.sh
