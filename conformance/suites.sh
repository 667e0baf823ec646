#!/usr/bin/env bash
# Called by conformance/run (inside telcdr_world.py exec, so CONFORMANCE_WORLD is set):
# run the selected suites, report each, fail if any failed. Extra arguments go to pytest.
set -uo pipefail
status=0
results=()
if [[ -n "${CONF_PYTEST_TARGETS:-}" ]]; then
  printf '\n== conformance: pytest (%s)\n' "$CONF_PYTEST_TARGETS"
  # shellcheck disable=SC2086
  (cd "$CONF_HERE/python" && "$CONF_VENV/bin/python" -m pytest $CONF_PYTEST_TARGETS "$@")
  rc=$?; results+=("pytest: exit $rc"); [[ $rc -ne 0 ]] && status=1
fi
if [[ "${CONF_NODE:-0}" == 1 ]]; then
  printf '\n== conformance: node --test (Node SDK)\n'
  (cd "$CONF_HERE/node" && NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=ExperimentalWarning" node --test --test-concurrency=1 --test-reporter=spec)
  rc=$?; results+=("node --test: exit $rc"); [[ $rc -ne 0 ]] && status=1
fi
printf '\n== conformance summary: %s\n' "${results[*]}"
exit $status
