#!/bin/sh
# Installs what `make test` and `make proto` need on a fresh machine:
# protoc (Debian's protobuf-compiler) for the test that checks the committed
# generated code is current. Idempotent and quiet when everything is there.
set -e
need_apt=""
command -v protoc >/dev/null 2>&1 || need_apt="$need_apt protobuf-compiler"
[ -z "$need_apt" ] && exit 0
if [ "$(id -u)" = "0" ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo="sudo -n"
else
	echo "tools: please install$need_apt (e.g. sudo apt-get install$need_apt)" >&2
	exit 1
fi
echo "tools: installing$need_apt from Debian" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need_apt >/dev/null
