#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` installs Debian's server when it is missing (CI only),
# creates a cluster in DIR listening on 127.0.0.1 at a free port, fsync off, trust auth, and prints its URL;
# `stop DIR` stops it. PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 64
fi

find_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [[ -n "$found" && -x "$found/initdb" ]]; then
    echo "$found"
    return 0
  fi
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

as_owner() {
  # From the cluster's own folder: the postgres user may not be allowed into the caller's working directory.
  if [[ "$(id -u)" == "0" ]]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    if ! bin="$(find_bin)"; then
      # Root installs directly; another user through password-less sudo when it has it.
      apt=()
      if [[ "$(id -u)" == "0" ]]; then apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
      elif sudo -n true 2>/dev/null; then apt=(sudo -n env DEBIAN_FRONTEND=noninteractive apt-get)
      fi
      if [[ "${CI:-}" == "true" && ${#apt[@]} -gt 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "installing postgresql from Debian's packages" >&2
        "${apt[@]}" update -qq >/dev/null 2>&1 || true
        "${apt[@]}" install -y -qq --no-install-recommends postgresql >/dev/null 2>&1 </dev/null
        bin="$(find_bin)" || { echo "postgresql did not install" >&2; exit 1; }
      else
        echo "no PostgreSQL server binaries (initdb) on this machine" >&2
        exit 3
      fi
    fi
    mkdir -p "$dir"
    if [[ "$(id -u)" == "0" ]]; then chown postgres "$dir"; fi
    port="$(node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin="$(find_bin)" || exit 0
    [[ -d "$dir/data" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 64
    ;;
esac
