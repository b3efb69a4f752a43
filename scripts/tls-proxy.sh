#!/usr/bin/env bash
# TLS in front of `readsync serve`: nginx terminates HTTPS and passes the
# requests to the server on loopback, which speaks plain HTTP only.
#
#   scripts/tls-proxy.sh DIR LISTEN BACKEND
#   scripts/tls-proxy.sh ./tls 127.0.0.1:8443 http://127.0.0.1:8080
#
# DIR keeps the proxy's files: nginx.conf (written on every run), logs/,
# temp/, and the certificate. With DIR/server.pem and DIR/server.key already
# there (a certificate from a public authority, say), those are used.
# Otherwise a private certificate authority (DIR/ca.pem, its key ca.key) and
# a server certificate it signs (for TLS_PROXY_NAMES, default
# "IP:127.0.0.1,DNS:localhost") are made with openssl; devices then trust
# that authority with `readsync client init --ca-file DIR/ca.pem`.
#
# nginx runs in the foreground (SIGTERM or Ctrl-C stops it). Installs
# nginx (Debian's nginx-light) and openssl if they are missing. The
# end-to-end test TLSProxyTests runs this very script.
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 DIR LISTEN BACKEND   (e.g. $0 ./tls 127.0.0.1:8443 http://127.0.0.1:8080)" >&2
    exit 2
fi
dir=$1 listen=$2 backend=$3
case "$backend" in
    http://*) ;;
    *) echo "tls-proxy: BACKEND must be the http:// address readsync serve listens on, not '$backend'" >&2; exit 2 ;;
esac

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
    echo "tls-proxy: installing ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
nginx="$(command -v nginx || echo /usr/sbin/nginx)"

mkdir -p "$dir/logs" "$dir/temp"
dir=$(cd "$dir" && pwd)
# Started as root, nginx's workers run as nobody: they need to reach temp/
# (request bodies it buffers). The keys stay 0600, read by the master only.
chmod 755 "$dir"
chmod 777 "$dir/temp"

if [ ! -f "$dir/server.pem" ] || [ ! -f "$dir/server.key" ]; then
    names=${TLS_PROXY_NAMES:-IP:127.0.0.1,DNS:localhost}
    (
        umask 077
        cd "$dir"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
            -subj "/CN=readsync private CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout ca.key -out ca.pem 2>/dev/null
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj "/CN=readsync server" -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$names" > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
            -extfile server.ext -out server.pem 2>/dev/null
        rm -f server.csr server.ext
        chmod 644 ca.pem server.pem  # certificates are public; the keys are not
    )
    echo "tls-proxy: made a private certificate authority $dir/ca.pem and a certificate for $names" >&2
fi

cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    # readsync refuses bodies over 16 MB itself, with a JSON answer.
    client_max_body_size 17m;
    server {
        listen $listen ssl;
        ssl_certificate $dir/server.pem;
        ssl_certificate_key $dir/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass $backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            # A client waits up to 120 s for one answer; so does the proxy.
            proxy_read_timeout 120s;
        }
    }
}
EOF
"$nginx" -t -q -p "$dir" -c "$dir/nginx.conf"
echo "tls-proxy: https on $listen -> $backend (config $dir/nginx.conf)" >&2
exec "$nginx" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
