/* SPDX-License-Identifier: MIT */
/* The cost of starting and ending a process that is linked like secfud
 * (tools/bench.sh links this file against every shared library secfud's
 * binary names as NEEDED) and initialises libcurl as secfud does: the part
 * of a `secfud --once` run that no code in secfud can avoid. */
#include <curl/curl.h>

int main(void) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        curl_global_cleanup();
        return 0;
}
