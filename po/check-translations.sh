#!/bin/sh
# Checks every translation in LINGUAS: valid (msgfmt --check) and complete
# for the strings the sources mark today, none untranslated or fuzzy.
# After adding strings: ninja -C _build twinlock-update-po, then translate.
# Usage: check-translations.sh SOURCE_ROOT
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the same extraction as meson's i18n.gettext (preset glib)
xgettext --package-name=twinlock -p "$tmp" -D "$src" -f "$src/po/POTFILES.in" \
  --from-code=UTF-8 --add-comments \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  -o twinlock.pot

status=0
for lang in $(sed -e 's/#.*//' "$src/po/LINGUAS"); do
  echo "$lang:"
  msgfmt --check --statistics -o /dev/null "$src/po/$lang.po" || status=1
  msgcmp "$src/po/$lang.po" "$tmp/twinlock.pot" || status=1
done
exit $status
