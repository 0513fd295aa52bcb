#!/usr/bin/env bash
# Mutation testing of the verdict path with gremlins (pinned in scripts/get-tools.sh): each
# comparison, condition and arithmetic operator of the files below is changed one at a time and
# the tests of its package are run; a mutant that no test kills ("LIVED") is a boundary that no
# test pins. Run by `make mutation`; the figures in the README's "Fails closed" section come from it.
#
#   scripts/mutation.sh [PKG:FILE[,FILE]:TESTS[:TESTPKG] ...]   (default: the list below)
#
# TESTS is the -run pattern of the tests that judge these files (the whole engine suite builds
# images for minutes; these are the tests of the verdict, waivers, fail_on and fail-closed paths),
# in TESTPKG (default: PKG itself, or its parent when PKG has no tests: ext4 is tested through
# internal/filesystem). The credential rule is judged by the engine's end-to-end tests. Results go to .tools/mutation/PKG.json and a summary on stdout; the exit status is
# non-zero when a mutant lived.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
gremlins="$root/.tools/bin/gremlins"
[ -x "$gremlins" ] || scripts/get-tools.sh gremlins
out="$root/.tools/mutation"
mkdir -p "$out"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(
    "internal/plan:plan.go,outputs.go:."
    "internal/engine:check.go:^(TestFailOn|TestWaiver|TestCleanImageIsCompliant|TestDirtyImageViolates|TestContentScanOff|TestCorruptImageIsAnInspectError|TestUnreachableClamd|TestFailingClamd|TestDeepNesting)"
    "internal/rules:credentials.go:^(TestIssue24|TestUnopenedContainer|TestDeepNesting|TestUnreachableClamd|TestFailingClamd|TestContentScanOff|TestCase|TestCleanImageIsCompliant|TestDirtyImageViolates):internal/engine"
    "internal/scan:scan.go:."
    "internal/filesystem/ext4:ext4.go:."
  )
fi

lived=0
for t in "${targets[@]}"; do
  IFS=: read -r pkg files tests testpkg <<<"$t"
  excludes=()
  for f in "$pkg"/*.go; do
    base="$(basename "$f")"
    case ",$files," in *",$base,"*) continue ;; esac
    excludes+=(-E "${base//./\\.}\$") # gremlins matches the pattern against the file name
  done
  # a package without tests of its own (ext4) is judged by the tests of its parent package
  if [ -n "$testpkg" ]; then
    testpkg="./$testpkg"
  elif ls "$pkg"/*_test.go >/dev/null 2>&1; then
    testpkg="./$pkg"
  else
    testpkg="./$(dirname "$pkg")"
  fi
  name="$(echo "$pkg" | tr / -)"
  echo "== $pkg ($files; tests $testpkg -run '$tests')"
  start=$(date +%s)
  GOFLAGS="${GOFLAGS:-} -run=$tests" "$gremlins" unleash --workers 1 --timeout-coefficient 4 \
    --coverpkg "./$pkg" "${excludes[@]}" -o "$out/$name.json" "$testpkg" >"$out/$name.log" 2>&1 || true
  grep -E "^ +(LIVED|TIMED OUT|NOT VIABLE)" "$out/$name.log" || true
  grep -E "^(Killed|Timed out|Test efficacy|Mutator coverage)" "$out/$name.log" || { cat "$out/$name.log"; exit 1; }
  echo "   ($(( $(date +%s) - start ))s)"
  if grep -qE "^ +LIVED" "$out/$name.log"; then lived=1; fi
done
exit $lived
