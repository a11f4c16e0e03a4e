/* SPDX-License-Identifier: MIT */
/* URLs for discovery and download (doc/manifest.md, "Where devices find it"): the domain check that
 * guards every name learned from the network, the expansion of the
 * `local-url` / `manufacturer-url` templates, RFC 3986 reference resolution
 * for `firmwareLocation`, and the http/https restriction.  Pure string
 * work: no I/O, no allocation except the returned strings. */
#pragma once
#include <stdbool.h>
#include "core/err.h"

#define SFU_URL_LABEL_MAX 63            /* one DNS label */
#define SFU_URL_DOMAIN_MAX 253          /* a whole name, without the trailing dot */
#define SFU_URL_MAX 4096                /* any URL accepted, built or returned */
#define SFU_URL_SEGMENT_MAX 255         /* manufacturer / model before encoding */

/* True when name is a host name made of LDH labels (letters, digits,
 * hyphen; no hyphen at either end of a label), each 1..63 characters and
 * at most 253 in all; one trailing dot is allowed and not counted.  A name
 * whose last label is all digits (or 0x + hex digits), i.e. one that
 * resolvers would read as an IPv4 literal, is refused, as is anything with
 * other characters (no '_', no non-ASCII: internationalised names must
 * arrive in their xn-- form). */
bool sfu_url_domain_valid(const char *name);

/* True when url's scheme is http or https (case-insensitive). */
bool sfu_url_scheme_allowed(const char *url);

/* Replaces {domain}, {manufacturer} and {model} in tmpl.  The domain must
 * pass sfu_url_domain_valid() (its trailing dot is dropped); manufacturer
 * and model are percent-encoded as one path segment each (only RFC 3986
 * unreserved characters stay as they are; "", "." and ".." are refused).
 * A placeholder whose value is NULL, an unknown {placeholder}, a stray
 * brace, characters outside RFC 3986 in the template, or a result that is
 * not an http:// or https:// URL are errors (SFU_ERR_PARSE; SFU_ERR_SIZE
 * beyond SFU_URL_MAX).  *ret is a new string. */
int sfu_url_expand_template(const char *tmpl, const char *domain, const char *manufacturer,
                            const char *model, char **ret, struct sfu_err *err) _wur_;

/* RFC 3986 section 5.2 (strict parser) resolution of ref against base,
 * with remove_dot_segments.  base must be an absolute http(s) URL with a
 * host.  ref and base may contain only RFC 3986 characters with valid
 * %HH escapes (no spaces, control characters, backslashes, non-ASCII).
 * The result must be http or https with a non-empty host: "file:",
 * "data:", "javascript:" ... are refused (SFU_ERR_POLICY), and so is the
 * strict reading of "http:g" (no host).  Malformed input is SFU_ERR_PARSE,
 * over-long input or result SFU_ERR_SIZE.  *ret is a new string. */
int sfu_url_resolve(const char *base, const char *ref, char **ret, struct sfu_err *err) _wur_;

/* ---------------------------------------------------------------------
 * URL paths and files: how a static web server maps a URL path to a file
 * below its document root.  For laying out such a tree. */

/* True when s can be a path segment as it is: non-empty, not "." or "..",
 * only RFC 3986 unreserved characters (letters, digits, "-._~"), so that
 * the segment in a URL and the name of the directory agree. */
bool sfu_url_segment_unreserved(const char *s);

/* s percent-encoded as one path segment: RFC 3986 unreserved characters
 * stay, every other byte becomes %HH (upper case).  -E2BIG beyond
 * SFU_URL_MAX, -ENOMEM; nothing recorded.  *ret is a new string. */
int sfu_url_segment_encode(const char *s, char **ret) _wur_;

/* Where the file that ref names lies below a web server's document root,
 * when ref appears in the document at base_path (an absolute URL path
 * such as "/.well-known/firmware/acme/gw1/manifest.json"): ref is merged
 * with base_path and its dot segments are removed as in RFC 3986 section
 * 5.2, then every segment is percent-decoded.  *ret is the relative file
 * path ("a/b c.img"), a new string.  An absolute URI or a network-path
 * reference ("//host/...") gives -EREMOTE and records nothing.  Refused
 * (SFU_ERR_PARSE, or SFU_ERR_POLICY for climbing): an empty reference, a
 * query or fragment, characters a URI may not contain or a bad escape, a
 * ".." that climbs above the root (a server would not serve the file
 * where the reference points), a path that names a directory, an empty
 * segment, and a segment that decodes to '/', a control character, "."
 * or "..". */
int sfu_url_local_path(const char *base_path, const char *ref, char **ret, struct sfu_err *err) _wur_;
