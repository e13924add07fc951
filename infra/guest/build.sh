#!/bin/sh
# Builds the counter guest: counter.asm (a boot sector) -> counter.img (a 1.44 MB floppy image).
# Usage: infra/guest/build.sh [output-image] ; DEFAULT_TARGET=<ticks> overrides the built-in target.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/counter.img"}
target=${DEFAULT_TARGET:-3000}

command -v nasm >/dev/null 2>&1 || { echo "build.sh: nasm not found; install it (apt-get install nasm)" >&2; exit 1; }

tmp=$(mktemp "${out}.XXXXXX")
trap 'rm -f "$tmp" "$tmp.bin"' EXIT
nasm -f bin -DDEFAULT_TARGET="$target" -o "$tmp.bin" "$here/counter.asm"
# A floppy-sized image so SeaBIOS boots it as drive A: without geometry guesses.
dd if=/dev/zero of="$tmp" bs=512 count=2880 status=none
dd if="$tmp.bin" of="$tmp" conv=notrunc status=none
chmod 644 "$tmp"
mv "$tmp" "$out"
echo "$out"
