#!/bin/sh
# Recompile every corpus program: corpus/<family>/<name>.c -> <name>.o, next to its source.
#
# Usage: corpus/build.sh [files.c...]    (default: every corpus/*/*.c)
#
# The command is exactly:
#   cd corpus/<family> && clang-16 -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu [extra] -c name.c -o name.o
# where [extra] comes from an optional line `// cflags: ...` in the source (e.g. -mcpu=v3).
# Headers: <linux/bpf.h> from linux-libc-dev, <bpf/bpf_helpers.h> from libbpf-dev (Debian 12).
# The .o files are committed, so tests never need clang; rebuild only after editing a .c and
# then re-measure with corpus/kernel-check.sh.

set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then set -- "$here"/*/*.c; fi
for src in "$@"; do
    extra=$(sed -n 's|^// cflags:[[:space:]]*||p' "$src" | head -n 1)
    dir=$(dirname "$src")
    base=$(basename "$src" .c)
    # Compile from the source's folder, so the debug info names the file without a host path.
    # shellcheck disable=SC2086
    (cd "$dir" && clang-16 -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu $extra \
        -c "$base.c" -o "$base.o")
    echo "built $(basename "$dir")/$base.o"
done
