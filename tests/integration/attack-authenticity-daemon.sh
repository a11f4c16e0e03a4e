#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: attack-authenticity.sh with every cycle run by the real daemon's first poll
# instead of secfud --once (ATT_DAEMON=1; see "daemon mode" in attack-lib.sh).
ATT_DAEMON=1 exec "$(dirname "$0")/attack-authenticity.sh" "$@"
