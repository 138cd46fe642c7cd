#!/usr/bin/env bash
# scripts/check-docs.sh: checks the documentation, as CI does.
#
# 1. Every relative link in README.md, docs/**/*.md and
#    examples/*/README.md points to a file or folder that exists, resolved
#    from the page's own folder. Relative links must be anchor-free (no
#    "#section": anchors cannot be checked here and rot silently) and not
#    absolute ("/x" means something else on every host). Links with a
#    scheme (https:, mailto:) are not followed. Text in fenced code blocks
#    and `code spans` is not a link.
# 2. Every public function (a name spry_... followed by "(" on a line of
#    include/spry/*.h that declares it with SPRY_API) is mentioned in
#    docs/api/*.md.
#
# Prints one line per problem and exits 1 if there is any. Bash, grep and
# sed only.
set -euo pipefail
cd "$(dirname "$0")/.."

problems=0
problem() {
  echo "check-docs: $*" >&2
  problems=$((problems + 1))
}

# ---- 1. links --------------------------------------------------------

pages=()
[[ -f README.md ]] && pages+=(README.md)
if [[ -d docs ]]; then
  while IFS= read -r f; do pages+=("$f"); done < <(find docs -type f -name '*.md' | sort)
else
  problem "docs/ is missing"
fi
for f in examples/*/README.md; do
  [[ -f $f ]] && pages+=("$f")
done

# links FILE: prints "LINE<TAB>TARGET" for every markdown link in FILE.
# Fenced code blocks are blanked (keeping line numbers), code spans are
# removed; then inline links [text](target "title") and reference
# definitions [label]: target are extracted.
links() {
  sed -e '/^[[:space:]]*```/,/^[[:space:]]*```/s/.*//' \
      -e 's/`[^`]*`//g' "$1" |
    grep -n -o -e '\]([^)]*)' -e '^[[:space:]]*\[[^]]*\]:[[:space:]]*[^[:space:]]*' |
    sed -e 's/^\([0-9]*\):\](\(.*\))$/\1\t\2/' \
        -e 's/^\([0-9]*\):[[:space:]]*\[[^]]*\]:[[:space:]]*/\1\t/' \
        -e 's/\t[[:space:]]*/\t/' \
        -e 's/\t<\([^>]*\)>.*/\t\1/' \
        -e 's/\t\([^[:space:]]*\)[[:space:]].*/\t\1/' || true
}

nlinks=0
for page in "${pages[@]}"; do
  dir=$(dirname "$page")
  while IFS=$'\t' read -r line target; do
    [[ -z ${line} ]] && continue
    nlinks=$((nlinks + 1))
    where="$page:$line"
    if [[ -z $target ]]; then
      problem "$where: empty link target"
      continue
    fi
    if [[ $target =~ ^[A-Za-z][A-Za-z0-9+.-]*: ]]; then
      continue # https:, mailto: ...: not checked here
    fi
    if [[ $target == *'#'* ]]; then
      problem "$where: link '$target' has an anchor; link to the file only"
      continue
    fi
    if [[ $target == /* ]]; then
      problem "$where: link '$target' is absolute; make it relative to $dir/"
      continue
    fi
    if [[ ! -e "$dir/$target" ]]; then
      problem "$where: link '$target' points to '$dir/$target', which does not exist"
    fi
  done < <(links "$page")
done

# ---- 2. every public function is documented ---------------------------

headers=(include/spry/*.h)
funcs=()
while IFS= read -r decl; do
  file=${decl%%:*}
  text=${decl#*:}
  name=$(printf '%s\n' "$text" | grep -o 'spry_[a-z0-9_]*[[:space:]]*(' | head -n1 | sed 's/[[:space:]]*($//' || true)
  if [[ -z $name ]]; then
    problem "$file: cannot find the function name in a SPRY_API line: $text"
    continue
  fi
  funcs+=("$name")
  if ! grep -q -w -- "$name" docs/api/*.md 2>/dev/null; then
    problem "$name (declared in $file) is not mentioned in docs/api/*.md"
  fi
done < <(grep -H '^[[:space:]]*SPRY_API[[:space:]]' "${headers[@]}")

if ((problems > 0)); then
  echo "check-docs: $problems problem(s)" >&2
  exit 1
fi
echo "check-docs: ${#pages[@]} pages, $nlinks links, ${#funcs[@]} public functions: ok"
