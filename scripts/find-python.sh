#!/usr/bin/env bash
# Print the path of a Python interpreter of the wanted version, or explain how to get one.
#   scripts/find-python.sh 3.10   -> exactly 3.10 (Rasa 3.6 supports 3.8-3.10 only)
#   scripts/find-python.sh 3.11+  -> 3.11 or newer (the app)
set -u
want="$1"

is_ok() {  # is_ok <python> : does it run and have the wanted version?
  local v
  v=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 1
  case "$want" in
    3.10) [ "$v" = "3.10" ] ;;
    3.11+) [ "${v%%.*}" = 3 ] && [ "${v#*.}" -ge 11 ] ;;
  esac
}

if [ "$want" = "3.10" ]; then candidates=(python3.10); else candidates=(python3.11 python3.12 python3.13 python3); fi
for c in "${candidates[@]}"; do
  if command -v "$c" >/dev/null 2>&1 && is_ok "$c"; then command -v "$c"; exit 0; fi
done

if command -v pyenv >/dev/null 2>&1; then
  prefix=${want%+}
  for v in $(pyenv versions --bare 2>/dev/null | grep -E "^3\.[0-9]+\.[0-9]+$" | sort -t. -k2,2nr -k3,3nr); do
    p="$(pyenv root)/versions/$v/bin/python"
    if [ -x "$p" ] && is_ok "$p"; then
      case "$want" in 3.10) [ "${v%.*}" = "$prefix" ] && { echo "$p"; exit 0; } ;; *) echo "$p"; exit 0 ;; esac
    fi
  done
fi

if [ "$want" = "3.10" ]; then
  echo "error: Rasa 3.6 needs Python 3.10 and none was found." >&2
  echo "  Install it with pyenv:  pyenv install 3.10.13" >&2
  echo "  or with apt:            apt-get install python3.10 python3.10-venv" >&2
else
  echo "error: the app needs Python 3.11 or newer and none was found (apt-get install python3.11 python3.11-venv)." >&2
fi
exit 1
