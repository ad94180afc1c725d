#!/usr/bin/env bash
# Coverage-guided fuzzing of the Kernel parsers with libFuzzer (swiftc -sanitize=fuzzer):
#   fuzz/libfuzzer/run.sh safetensors|image [libFuzzer options, e.g. -runs=1000000]
# Builds .build/libfuzzer/kernel-fuzz once (Kernel sources + the entry point), then fuzzes from a copy of
# fuzz/corpus/PARSER/ (new inputs stay in .build/libfuzzer/corpus-PARSER; crashes in .build/libfuzzer/).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${1:-safetensors}"; shift || true
out=.build/libfuzzer
mkdir -p "$out" "$out/corpus-$target"
if [ ! -x "$out/kernel-fuzz" ] || [ -n "$(find Sources/Kernel fuzz/libfuzzer -newer "$out/kernel-fuzz" -name '*.swift')" ]; then
  swiftc -sanitize=fuzzer -parse-as-library -O -module-name Kernel \
    $(find Sources/Kernel -name '*.swift') fuzz/libfuzzer/KernelParsers.swift -o "$out/kernel-fuzz"
fi
cp -n fuzz/corpus/"$target"/* "$out/corpus-$target"/ 2>/dev/null || true
cd "$out"
FUZZ_TARGET="$target" exec ./kernel-fuzz -max_len=65536 -timeout=10 -rss_limit_mb=1024 "$@" "corpus-$target"
