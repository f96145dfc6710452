#!/bin/sh
# tests/check_tours.sh: the guides name code as `dir/file.c:function` (or
# `dir/file.h:function`) in backticks. This checks that every such file
# exists and that it defines the function (a .c file) or declares or
# defines it (a .h file, where a function-like #define counts too).
#
# A definition is a line that starts at column 0 with the return type and
# has the name followed by "(", e.g. "static struct pkt *tap_recv(...)", or
# a line that starts with the name (return type on the line before). In a
# .c file a line ending in ";" is only a prototype and does not count.
#
# Prints one line per broken reference, e.g.
#   README.md: link/tap.c:tap_recv: no such function
# and exits 1 if there is any. Run from anywhere: it works from the top of
# the tree.

cd "$(dirname "$0")/.." || exit 2

broken=$(
	for doc in README.md */README.md */*/README.md; do
		[ -f "$doc" ] || continue
		grep -oE '`[a-z0-9_]+(/[a-z0-9_]+)+\.[ch]:[A-Za-z_][A-Za-z0-9_]*`' "$doc" |
			tr -d '`' | sort -u |
			while IFS=: read -r file fn; do
				if [ ! -f "$file" ]; then
					echo "$doc: $file:$fn: no such file"
					continue
				fi
				def="^([a-z_][^;(]*[^A-Za-z0-9_])?$fn\("
				case "$file" in
				*.c) grep -E "$def" "$file" | grep -qv ';[[:space:]]*$' ;;
				*.h) grep -qE "$def|^#define $fn\(" "$file" ;;
				esac || echo "$doc: $file:$fn: no such function"
			done
	done
)

if [ -n "$broken" ]; then
	echo "$broken"
	echo "check_tours: $(echo "$broken" | wc -l) broken reference(s) in the guides"
	exit 1
fi
echo "check_tours: every file:function in the guides resolves"
