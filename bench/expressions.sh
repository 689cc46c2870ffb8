#!/usr/bin/env bash
# Expression throughput on one thread (release build): plain paths answered in Rust, string
# methods, extension functions and Luxon formats answered by the embedded JavaScript, and the
# cost of a fresh runtime against the thread's warm one. Writes bench/RESULTS-expressions.md.
#   bench/run --expressions            (EXPRESSION_BENCH_MS=2000 per case by default)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo test --release --lib expression_throughput -- --ignored --nocapture --test-threads=1 2>/dev/null \
  | sed -e 's/^test .* \.\.\. //' | sed -n '/^| expression |/,/^Fresh runtime/p')
if [ -z "$out" ]; then
  echo "the expression benchmark printed nothing" >&2
  exit 1
fi
{
  echo "# Expression throughput"
  echo
  echo "One thread, release build, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start, $(date -u +%Y-%m-%d). Each case checks its answer on every evaluation."
  echo
  echo "$out"
} > bench/RESULTS-expressions.md
cat bench/RESULTS-expressions.md
