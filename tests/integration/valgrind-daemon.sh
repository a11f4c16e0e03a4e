#!/bin/bash
# secfud's main paths under valgrind: a full stage (--once), a refused
# manifest, an up-to-date check, and the daemon answering secfuctl then
# exiting on SIGTERM. No definite or indirect leaks, no memory errors.
# Skipped in the sanitizer build (valgrind cannot run ASan binaries).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
command -v valgrind >/dev/null || skip_all "valgrind not installed"
if nm -D "$SECFUD" 2>/dev/null | grep -q __asan_init || nm "$SECFUD" 2>/dev/null | grep -q __asan_init; then
        skip_all "sanitizer build: valgrind does not run ASan binaries"
fi
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-fds=no
    --suppressions="$top_srcdir/tests/integration/valgrind.supp")

dev_setup
dev_publish 1.1.0
vg_once() {
        "${VG[@]}" --log-file="$D/vg-$1.log" "$SECFUD" -c "$CONF" --once >"$D/once.out" 2>"$D/once.log"
        VG_STATUS=$?
}

vg_once stage
ok $(( VG_STATUS == 0 ? 0 : 1 )) "stage under valgrind exits 0 (status $VG_STATUS)"
ok $(( $(grep -c "ERROR SUMMARY\|definitely lost\|indirectly lost\|Invalid" "$D/vg-stage.log") == 0 ? 0 : 1 )) "no leaks or errors while staging"
slot_b_is "$D/img-1.1.0.img"; ok $? "and slot B holds the image"

vg_once uptodate
ok $(( VG_STATUS == 0 ? 0 : 1 )) "a second cycle (staged already) under valgrind exits 0"

# a manifest signed by the attacker: refused, still no leaks
KEY=attacker dev_publish 1.2.0
vg_once refused
ok $(( VG_STATUS == 1 ? 0 : 1 )) "refused manifest under valgrind exits 1 without memory errors (status $VG_STATUS)"
[ -s "$D/vg-refused.log" ] && sed 's/^/# /' "$D/vg-refused.log" | head -20

# the daemon: start, answer status over the socket, stop on SIGTERM
if [ -x "$SECFUCTL" ]; then
        "${VG[@]}" --log-file="$D/vg-daemon.log" "$SECFUD" -c "$CONF" >"$D/daemon.log" 2>&1 &
        SECFUD_PID=$!
        for _ in $(seq 200); do [ -S "$D/run/secfud.sock" ] && break; sleep 0.1; done
        "$SECFUCTL" -s "$D/run/secfud.sock" status >/dev/null 2>&1
        ok $? "daemon under valgrind answers status"
        "$SECFUCTL" -s "$D/run/secfud.sock" --json status >/dev/null 2>&1
        kill -TERM "$SECFUD_PID"
        wait "$SECFUD_PID"
        status=$?
        SECFUD_PID=""
        ok $(( status == 0 ? 0 : 1 )) "daemon under valgrind exits cleanly on SIGTERM (status $status)"
        [ "$status" -ne 0 ] && sed 's/^/# /' "$D/vg-daemon.log" | head -30
fi
tap_done
