#!/usr/bin/env bash
# Runs every benchmark section in one go on this machine and writes docs/benchmarks.md.
#   bench/run.sh [build-dir] [section-name-filter]
# Each section (bench/sections/NN-*.sh) starts what it measures, peers included,
# in the same session on the same disk, and prints its part of the Markdown.
set -euo pipefail
build_dir="${1:-build/release}"
filter="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p build
work="$(mktemp -d "${root}/build/bench-XXXXXX")"   # on the project's disk, like data/
trap 'rm -rf "$work"' EXIT

sections=""
for section in bench/sections/*.sh; do
  if [ -n "$filter" ] && [[ "$section" != *"$filter"* ]]; then continue; fi
  echo "== $(basename "$section")" >&2
  mkdir -p "$work/$(basename "$section" .sh)"
  sections+="$(bash "$section" "$build_dir" "$work/$(basename "$section" .sh)")"$'\n\n'
done

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
cat > docs/benchmarks.md <<DOC
# Benchmarks

Produced by \`make bench\` (\`bench/run.sh\`) on $(date -u +%Y-%m-%d). Every figure in a table comes from
the same run on the same machine, so ratios compare like with like. Numbers move by ±10–15% from
run to run on a shared 2-core virtual machine, where load generators and servers share the cores.

## Machine

| | |
|---|---|
| CPU | ${cpu} |
| Cores | $(nproc) |
| Memory | $(free -g | awk '/^Mem:/ {print $2 " GiB"}') |
| Data disk | $(df -T "$work" | awk 'NR==2 {print $2 " on " $1}') |
| Kernel | $(uname -r) |
| Commit | $(git rev-parse --short HEAD 2>/dev/null || echo unknown) |

${sections}
Reproduce: \`make bench\` (\`BENCH_SECONDS\`, \`BENCH_IN_FLIGHT\`, \`BENCH_PAYLOAD_BYTES\` vary the write run;
\`bash bench/run.sh build/release NAME\` runs only the sections whose file name contains NAME, and
rewrites the page with just those).
DOC
echo "bench: wrote docs/benchmarks.md" >&2
