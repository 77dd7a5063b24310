// The interface language in the browser (#30): Django's JavaScript catalogue (/jsi18n/, a
// classic script loaded before these modules) translates; without it, the English as written.
// The names are gettext's, so makemessages -d djangojs finds the sentences.

export function gettext(text) {
  return window.gettext ? window.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (window.ngettext) return window.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// "%(name)s" filled from `values`, as Django's interpolate(..., true) does.
export function interpolate(format, values) {
  return format.replace(/%\((\w+)\)s/g, (_match, name) => String(values[name]));
}
