#!/bin/sh
# The local stack's secrets, made at its first start (docker-compose.yaml, service init-secrets)
# instead of being committed. For each argument PATH[:UID]: unless PATH holds a non-empty value
# already, write a random 256-bit token there (64 hex digits), owned by UID (default 0) and
# group 0, mode 0440. An existing value is left exactly as it is, so a restart or a rebuild keeps
# every token; `docker compose down --volumes` drops them and the next start makes new ones.
# Nothing secret is printed.
set -eu
umask 077

if [ "$#" -eq 0 ]; then
  echo "init-secrets: usage: init-secrets.sh PATH[:UID]..." >&2
  exit 2
fi

for arg in "$@"; do
  path=${arg%%:*}
  owner=0
  case $arg in *:*) owner=${arg#*:} ;; esac
  case $owner in '' | *[!0-9]*)
    echo "init-secrets: $arg: the owner after ':' must be a numeric uid" >&2
    exit 2 ;;
  esac
  if [ -s "$path" ]; then
    echo "init-secrets: kept $path"
    continue
  fi
  dir=$(dirname "$path")
  if [ ! -d "$dir" ]; then
    echo "init-secrets: $path: directory $dir does not exist (is its volume mounted?)" >&2
    exit 1
  fi
  token=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  if [ "${#token}" -ne 64 ]; then
    echo "init-secrets: $path: could not read 32 random bytes from /dev/urandom" >&2
    exit 1
  fi
  # Written beside the target and renamed into place: a reader never sees a partial token,
  # and an interrupted run leaves no empty file that would look like a token next time.
  tmp=$(mktemp "$dir/.init-secrets.XXXXXX")
  printf '%s\n' "$token" > "$tmp"
  chmod 0440 "$tmp"
  chown "$owner:0" "$tmp"
  mv -f "$tmp" "$path"
  echo "init-secrets: created $path"
done
