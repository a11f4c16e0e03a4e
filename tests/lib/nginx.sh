# shellcheck shell=bash
# A private nginx on 127.0.0.1 for tests and the bench: nginx_start WORKDIR
# ROOT serves ROOT (sendfile, ETag/Last-Modified, Range: the real thing) and
# logs "METHOD URI STATUS BYTES" per request to WORKDIR/access.log.
# Sets NGINX_PORT, NGINX_URL, NGINX_PID; nginx_stop stops it.  NGINX_HTTP
# and NGINX_SERVER, when set, are lines added to the http and the server
# block (e.g. the content negotiation of doc/manifest.md).
nginx_start() {
        local dir=$1 root=$2 port user_line= i
        mkdir -p "$dir"
        [ "$(id -u)" -eq 0 ] && user_line="user root root;"   # the worker must read 0700 temp dirs
        for _ in 1 2 3 4 5 6 7 8 9 10; do
                port=$((20000 + RANDOM % 40000))
                cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
$user_line
events { worker_connections 64; }
http {
        log_format brief '\$request_method \$uri \$status \$body_bytes_sent';
        access_log $dir/access.log brief;
        sendfile on;
        tcp_nopush on;
        default_type application/octet-stream;
        client_body_temp_path $dir/body;
        proxy_temp_path $dir/proxy;
        fastcgi_temp_path $dir/fastcgi;
        uwsgi_temp_path $dir/uwsgi;
        scgi_temp_path $dir/scgi;
        ${NGINX_HTTP:-}
        server {
                listen 127.0.0.1:$port;
                root $root;
                ${NGINX_SERVER:-}
        }
}
CONF
                : >"$dir/error.log"
                nginx -c "$dir/nginx.conf" -p "$dir/" -e "$dir/error.log" &
                NGINX_PID=$!
                for ((i = 0; i < 50; i++)); do
                        if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
                                NGINX_PORT=$port
                                NGINX_URL=http://127.0.0.1:$port
                                return 0
                        fi
                        kill -0 "$NGINX_PID" 2>/dev/null || break
                        sleep 0.1
                done
                kill -QUIT "$NGINX_PID" 2>/dev/null
                wait "$NGINX_PID" 2>/dev/null
                NGINX_PID=
                grep -q "in use" "$dir/error.log" || break
        done
        cat "$dir/error.log" >&2
        return 1
}

nginx_stop() {
        [ -n "${NGINX_PID:-}" ] || return 0
        kill -QUIT "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
        NGINX_PID=
}
