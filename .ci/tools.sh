#!/bin/sh
# Installs what `make test` and `make proto` need on a fresh machine.
# Idempotent and quiet when everything is already there.
set -e
need_apt=""
command -v protoc >/dev/null 2>&1 || need_apt="$need_apt protobuf-compiler"
if [ -n "$need_apt" ]; then
	if [ "$(id -u)" = "0" ]; then
		echo "tools: installing$need_apt from Debian" >&2
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_apt >/dev/null
	else
		echo "tools: please install$need_apt (e.g. sudo apt-get install$need_apt)" >&2
		exit 1
	fi
fi
