#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: torn and corrupted bootloader environments.
#
# U-Boot, redundant environment (two 16 KiB copies; the newer, flag 2, holds
# MARK=new, the older, flag 1, MARK=old), at sampled offsets K:
#   torn     the newer copy's bytes from K on are erased (0xff), as a write
#            cut off at K leaves flash
#   flip     one byte of the newer copy at K (not the flag) is changed
#   flag     the newer copy's flag byte is changed: U-Boot's rule decides
#            which copy is current now
# -> secfud reads the copy U-Boot reads (tests/integration/bootsim and
#    fw_printenv say which): the cycle stages, the result carries that copy's
#    MARK, and the copy it read is not overwritten (libubootenv writes the
#    other one).
#   both     both copies torn/corrupted -> secfud refuses with a reason that
#            names the CRC, and no byte of either copy changes (no defaults)
#   short    the newer copy's file is shorter than fw_env.config says ->
#            refused, nothing written
# file backend: a NUL byte at K, the file cut inside a variable name at K, a
#   line without '=' -> refused with a reason, the file not rewritten.
# grub: the block's signature damaged at K -> refused, block unchanged.
#
# TORTURE_RUNS (default 20; make torture: 200), TORTURE_SEED.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/torture/torture-lib.sh
. "$top_srcdir/tests/torture/torture-lib.sh"

torture_init torn-env 20
torture_require

ENV_SIZE=16384
torture_device $((4 * 1024 * 1024)) || bail "device setup failed"
torture_publish 1.1.0 $((1024 * 1024)) || bail "publishing 1.1.0 failed"

flag_of() { od -A n -t u1 -j 4 -N 1 "$1" | tr -d ' '; }
# put_byte FILE OFFSET VALUE(0-255)
put_byte() { printf '%b' "\\x$(printf '%02x' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
get_byte() { od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' '; }
# erase_from FILE OFFSET: 0xff from OFFSET to the end of the copy
erase_from() {
        local n=$((ENV_SIZE - $2))
        head -c "$n" /dev/zero | tr '\0' '\377' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# flip FILE OFFSET: changes the byte at OFFSET (xor with 1..255)
flip() {
        rnd 255
        put_byte "$1" "$2" $(($(get_byte "$1" "$2") ^ (R + 1)))
}
files_snapshot() { sha256sum "$@" >"$D/files.sha256"; }
files_unchanged() { sha256sum --quiet -c "$D/files.sha256" >/dev/null 2>&1; }

# expect_refused PATTERN: the cycle fails naming PATTERN, the environment files
# and the state are left alone.
expect_refused() {
        local pattern=$1
        torture_once 60
        run_log first
        run_expect "secfud --once fails (status $ONCE_STATUS)" test "$ONCE_STATUS" != 0 -a "$ONCE_STATUS" != 137
        run_expect "with a reason that says '$pattern'" grep -qiE -- "$pattern" "$D/once.log"
        run_expect "environment bytes unchanged (no defaults written)" files_unchanged
        state_read
        [ "$ST_OK" = 1 ] || run_fail "state.json: $ST_PROBLEM"
        run_expect "nothing staged (state $ST_STATE, B $ST_B_HEALTH)" test "$ST_STATE" != staged -a "$ST_B_HEALTH" != staged
        run_expect "slot A, canaries, trust store unchanged" never_changed
        # and it stays refused: a second start does not "repair" anything
        torture_once 60
        run_expect "a second start refuses too and writes nothing" files_unchanged
}

# uboot_reads_older_or_current: stage; the environment secfud wrote is the
# copy U-Boot reads now plus the switch; the copy it read is kept.
uboot_stages_from() {
        local before=$1 read_copy=$2
        torture_once 60
        run_log cycle
        run_expect "secfud --once stages (status $ONCE_STATUS)" test "$ONCE_STATUS" = 0
        run_expect "slot B holds the published image (sha256)" slot_b_holds 1.1.0
        local want
        want=$(sed -e '/^BOOT_ORDER=/d' -e '/^BOOT_[AB]_LEFT=/d' "$before"
                printf 'BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n')
        want=$(printf '%s\n' "$want" | LC_ALL=C sort)
        local got
        got=$(env_decode) || run_fail "no valid environment after the cycle"
        [ "$got" = "$want" ] || {
                run_fail "environment after the cycle is not the copy U-Boot read plus the switch"
                run_note "want: $(echo "$want" | tr '\n' ' ')"
                run_note "got:  $(echo "$got" | tr '\n' ' ')"
        }
        run_expect "the copy U-Boot read ($(basename "$read_copy")) is not overwritten" cmp -s "$read_copy" "$D/read-copy"
        run_expect "slot A, canaries, trust store unchanged" never_changed
}

CASES_UBOOT=(torn torn flip flip flag both short)
CASES_OTHER=(file-nul file-cut file-noeq grub-sig)

for ((run = 0; run < RUNS; run++)); do
        reseed "$run"
        run_begin
        rnd 3
        if [ "$R" != 0 ]; then pick "${CASES_UBOOT[@]}"; else pick "${CASES_OTHER[@]}"; fi
        case=$R
        case $case in
        torn | flip | flag | both | short)
                torture_backend uboot
                torture_reset 1.1.0
                e0=$D/uboot/env0 e1=$D/uboot/env1
                if [ "$(flag_of "$e0")" -gt "$(flag_of "$e1")" ]; then newer=$e0 older=$e1; else newer=$e1 older=$e0; fi
                case $case in
                torn)
                        rnd $ENV_SIZE
                        k=$R
                        erase_from "$newer" "$k"
                        what="newer copy torn at byte $k (erased from there)"
                        ;;
                flip)
                        rnd $((ENV_SIZE - 1))
                        k=$R
                        [ "$k" -lt 4 ] || k=$((k + 1)) # not the flag byte
                        flip "$newer" "$k"
                        what="newer copy: byte $k changed"
                        ;;
                flag)
                        k=4
                        rnd 2
                        if [ "$R" = 0 ]; then put_byte "$newer" 4 0; else flip "$newer" 4; fi
                        what="newer copy: flag $(flag_of "$older")/$(flag_of "$newer") (older/newer) after the change"
                        ;;
                both)
                        rnd $ENV_SIZE
                        k=$R
                        erase_from "$newer" "$k"
                        rnd $((ENV_SIZE - 1))
                        k2=$R
                        [ "$k2" -lt 4 ] || k2=$((k2 + 1))
                        flip "$older" "$k2"
                        what="both copies bad: newer torn at $k, older's byte $k2 changed"
                        ;;
                short)
                        rnd $ENV_SIZE
                        k=$R
                        truncate -s "$k" "$newer"
                        what="newer copy's file cut to $k bytes"
                        ;;
                esac
                files_snapshot "$e0" "$e1"
                case $case in
                both) expect_refused "valid CRC" ;;
                short) expect_refused "U-Boot environment|fw_env|libubootenv" ;;
                *)
                        # which copy U-Boot reads now: the one bootsim dumps
                        if ! env_decode >"$D/before-dump"; then
                                run_fail "bootsim and fw_printenv disagree (or find no valid copy) before the run"
                        else
                                if grep -qx 'MARK=old' "$D/before-dump"; then read_copy=$older; else read_copy=$newer; fi
                                cp "$read_copy" "$D/read-copy"
                                what="$what: U-Boot reads the $([ "$read_copy" = "$older" ] && echo older || echo newer) copy"
                                [ "$case" = flag ] || [ "$read_copy" = "$older" ] ||
                                        run_fail "the damaged copy still reads as valid (test bug)"
                                uboot_stages_from "$D/before-dump" "$read_copy"
                        fi
                        ;;
                esac
                ;;
        file-nul | file-cut | file-noeq)
                torture_backend file
                torture_reset 1.1.0
                f=$D/bootenv
                size=$(stat -c %s "$f")
                case $case in
                file-nul)
                        rnd "$size"
                        k=$R
                        put_byte "$f" "$k" 0
                        what="file: NUL byte at $k"
                        pattern="NUL"
                        ;;
                file-cut)
                        # a cut inside a variable name: the last line has no '='
                        mapfile -t cuts < <(awk 'BEGIN { RS = "\n"; off = 0 }
                                { eq = index($0, "="); for (i = 1; i < eq; i++) print off + i; off += length($0) + 1 }' "$f")
                        pick "${cuts[@]}"
                        k=$R
                        truncate -s "$k" "$f"
                        what="file cut at byte $k (inside a name)"
                        pattern="not a KEY=VALUE line"
                        ;;
                file-noeq)
                        rnd 3
                        printf 'garbage line %s\n' "$R" >>"$f"
                        what="file: a line without '='"
                        pattern="not a KEY=VALUE line"
                        ;;
                esac
                files_snapshot "$f"
                expect_refused "$pattern"
                ;;
        grub-sig)
                torture_backend grub
                torture_reset 1.1.0
                rnd 24
                k=$R
                flip "$D/grubenv" "$k"
                what="grubenv: signature byte $k changed"
                files_snapshot "$D/grubenv"
                expect_refused "grub-editenv|grubenv"
                ;;
        esac
        run_end "$case: $what"
done

torture_done
