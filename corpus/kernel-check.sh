#!/bin/sh
# Re-measure the live kernel's verdict on every corpus case and diff it with the case files.
#
# Usage: corpus/kernel-check.sh [-v] [case files...]    (default: every corpus/*/*.case)
#   -v   also print, for every case, the measured verdict and the kernel's error line
#   BPFCHECK_KEEP_LOGS=dir   keep each case's full bpftool/libbpf output (with the verifier log)
#                            as dir/<family>_<name>.log
#
# Each object is loaded whole with `bpftool -d prog loadall` (libbpf picks the program type and
# expected attach type from the SEC() name), so every object holds exactly one entry program.
# Pins go to a private bpffs mounted in a private mount namespace (unshare -m), which disappears
# with this script: nothing is left pinned and the host's /sys/fs/bpf is never touched.
# Needs root, bpftool (Debian package `bpftool`) and unshare (util-linux).
# Exit status: 0 when every case agrees with the kernel, 1 otherwise.

set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ "${BPFCHECK_CORPUS_NS:-}" != 1 ]; then
    BPFCHECK_CORPUS_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || { echo "cannot mount bpffs" >&2; exit 2; }

verbose=0
if [ "${1:-}" = "-v" ]; then verbose=1; shift; fi
if [ $# -eq 0 ]; then set -- "$here"/*/*.case; fi

fail=0
total=0
tmp=$(mktemp -d)
for case in "$@"; do
    total=$((total + 1))
    dir=$(dirname "$case")
    name=${case#"$here"/}
    # key = value; '#' starts a comment only at the beginning of a line.
    get() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$case" | sed 's/[[:space:]]*$//'; }
    object=$(get object | head -n 1)
    program=$(get program | head -n 1)
    want=$(get kernel | head -n 1)
    verdict=$(get verdict | head -n 1)

    pin=/sys/fs/bpf/corpus_$$    # bpffs refuses names containing a dot
    rm -rf "$pin"; mkdir -p "$pin"
    bpftool -d prog loadall "$dir/$object" "$pin" >"$tmp/out" 2>&1
    rc=$?
    rm -rf "$pin"
    if [ -n "${BPFCHECK_KEEP_LOGS:-}" ]; then
        mkdir -p "$BPFCHECK_KEEP_LOGS"
        cp "$tmp/out" "$BPFCHECK_KEEP_LOGS/$(echo "${name%.case}" | tr / _).log"
    fi
    sed -n '/-- BEGIN PROG LOAD LOG --/,/-- END PROG LOAD LOG --/p' "$tmp/out" \
        | sed '1d;$d' >"$tmp/log"
    if ! grep -q "found program '$program'" "$tmp/out"; then
        got=no_such_program
    elif [ $rc -eq 0 ]; then
        got=accepted
    elif [ -s "$tmp/log" ]; then
        got=rejected
    else
        got=loader_error
    fi
    # The error line: the last log line that is not the statistics trailer (nor the
    # cur/old state dump that follows "infinite loop detected").
    err=""
    if [ "$got" = rejected ]; then
        err=$(grep -v -E '^(verification time|stack depth|processed [0-9]+ insns|cur state:|old state:|$)' \
            "$tmp/log" | tail -n 1)
    fi

    if [ $verbose -eq 1 ]; then printf '%s\t%s\t%s\n' "$name" "$got" "$err"; fi
    if [ "$got" != "$want" ]; then
        echo "MISMATCH $name: case says kernel = $want, kernel says $got${err:+ ($err)}"
        fail=1
    fi
    if [ "$verdict" != "$want" ]; then
        echo "DISAGREE $name: verdict = $verdict but kernel = $want"
        fail=1
    fi
    { get message; get kernel_message; } >"$tmp/msgs"
    while IFS= read -r msg; do
        [ -z "$msg" ] && continue
        if ! grep -qF -- "$msg" "$tmp/log"; then
            echo "MISSING  $name: message not in kernel log: $msg"
            fail=1
        fi
    done <"$tmp/msgs"
    if [ "$got" = loader_error ] || [ "$got" = no_such_program ]; then
        sed 's/^/    /' "$tmp/out" | grep -E 'libbpf|Error' | tail -n 5
    fi
done
rm -rf "$tmp"
if [ $fail -eq 0 ]; then echo "all $total cases agree with the kernel"; fi
exit $fail
