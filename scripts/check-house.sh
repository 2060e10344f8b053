#!/usr/bin/env bash
# The house's structure, checked from the imports (run by `make test`, or alone as
# `make check-house`): every arrow between folders is one .dependency-cruiser.cjs allows (the
# engine's floors point one way, the plugin sees only the API contract, production code imports
# no test support, no import loops), and no export is left that nothing imports (knip.json).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "# house: dependency rules (.dependency-cruiser.cjs)"
npx --no-install depcruise src test bench --config .dependency-cruiser.cjs --output-type err || status=1
echo "# house: unused files and exports (knip.json)"
npx --no-install knip --exports --files --no-progress && echo "✔ no unused files or exports" || status=1
exit $status
