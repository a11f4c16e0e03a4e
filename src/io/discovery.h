/* SPDX-License-Identifier: MIT */
/* Learning the local domain for `domain = auto` (secfud.conf(5), [discovery] domain): the
 * local firmware server is `_firmware.<domain>`.  Sources, first that
 * yields a valid name wins:
 *   1. systemd-networkd DHCP lease files (DOMAINNAME=), by interface index;
 *   2. systemd-resolved's link domains (D-Bus, 1 s at most);
 *   3. dhclient lease files (the last lease of a file, newest file first);
 *   4. resolv.conf (`domain`, else the first `search` entry).
 * Every candidate is checked with sfu_url_domain_valid(); an invalid one
 * is reported through on_invalid and the search goes on.  Nothing here
 * logs. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"

#define SFU_DISCOVERY_FILE_MAX (64u * 1024u)            /* any lease or resolv.conf file */
#define SFU_DISCOVERY_DIR_ENTRIES_MAX 1024u             /* lease files looked at in the networkd dir */
#define SFU_DISCOVERY_GLOB_FILES_MAX 256u               /* dhclient lease files looked at */
#define SFU_DISCOVERY_RESOLVED_DOMAINS_MAX 256u         /* entries read from resolved's Domains */
#define SFU_DISCOVERY_RESOLVED_TIMEOUT_USEC (1000u * 1000u)
#define SFU_DISCOVERY_CANDIDATE_SHOWN_MAX 80u           /* bytes of a bad candidate passed to on_invalid */

#define SFU_DISCOVERY_NETWORKD_LEASES_DIR "/run/systemd/netif/leases"
#define SFU_DISCOVERY_RESOLV_CONF "/etc/resolv.conf"

/* Called for every candidate that fails sfu_url_domain_valid().  source
 * names where it came from (as ret_source below); candidate is a printable
 * copy (bytes outside ASCII 0x20..0x7e replaced by '?', cut to
 * SFU_DISCOVERY_CANDIDATE_SHOWN_MAX with "..."), safe to log.  Both
 * strings are valid only during the call. */
typedef void (*sfu_discovery_invalid_fn)(const char *source, const char *candidate, void *userdata);

struct sfu_discovery_paths {
        const char *networkd_leases_dir;                /* NULL: source off */
        bool use_resolved;                              /* ask systemd-resolved over the system bus */
        uint64_t resolved_timeout_usec;                 /* whole D-Bus exchange, connect included; 0: 1 s */
        const char *const *dhclient_leases_globs;       /* NULL-terminated glob(3) patterns; NULL: off */
        const char *resolv_conf;                        /* NULL: source off; may be a symlink */
        sfu_discovery_invalid_fn on_invalid;            /* may be NULL */
        void *userdata;
};

/* The system's paths: the defines above, dhclient's lease files (Debian's
 * dhclient*.leases in /var/lib/dhcp and any *.leases in /var/lib/dhclient),
 * resolved on with a 1 s limit, no callback. */
void sfu_discovery_paths_default(struct sfu_discovery_paths *ret);

/* Finds the local domain.  On success *ret_domain is a new string (valid
 * per sfu_url_domain_valid(), without a trailing dot) and *ret_source (if
 * ret_source is non-NULL) names its source, e.g. "systemd-networkd lease
 * /run/systemd/netif/leases/2", "systemd-resolved (link 2)", "dhclient
 * lease /var/lib/dhcp/dhclient.eth0.leases", "/etc/resolv.conf"; that
 * string lives in thread-local storage and stays valid until the next call
 * in the same thread.  paths NULL means the defaults.
 * Returns -ENOENT when no source has a valid domain (no local server; err
 * untouched); other negative errno values (out of memory) are recorded in
 * err.  Unreadable, oversized, non-regular or symlinked lease files, and
 * an absent bus or resolved, are skipped quietly. */
int sfu_discovery_domain(const struct sfu_discovery_paths *paths, char **ret_domain, const char **ret_source,
                         struct sfu_err *err) _wur_;
