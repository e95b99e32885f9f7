#!/usr/bin/env bash
# The gettext workflow (docs/TRANSLATIONS.md). Messages are marked N_(key, english) in the
# code; the key is the msgctxt. Run from the repository root with the dev tools installed.
#   scripts/translations.sh extract   code -> pos_app/locale/pos_app.pot
#   scripts/translations.sh update    .pot -> every <lang>/LC_MESSAGES/pos_app.po (new: empty,
#                                     changed English: fuzzy, for the translator to check)
#   scripts/translations.sh compile   .po -> .mo (committed; a test checks they match)
#   scripts/translations.sh init LANG a catalogue for a new language
#   scripts/translations.sh all       extract, update, compile
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=".venv/bin/pybabel"
locale="pos_app/locale"
template="$locale/pos_app.pot"

extract() {
  "$pybabel" extract -F babel.cfg --no-default-keywords -k N_:1c,2 --sort-by-file \
    --omit-header --no-wrap -o "$template" .
}
update() {
  "$pybabel" update -i "$template" -d "$locale" -D pos_app --no-wrap --ignore-obsolete
}
compile() {
  "$pybabel" compile -d "$locale" -D pos_app --statistics
}

case "${1:-}" in
  extract) extract ;;
  update) update ;;
  compile) compile ;;
  init) "$pybabel" init -i "$template" -d "$locale" -D pos_app -l "${2:?language code}" ;;
  all) extract && update && compile ;;
  *) echo "usage: $0 extract|update|compile|init LANG|all" >&2; exit 2 ;;
esac
