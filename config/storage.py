"""Static files in production: whitenoise's compressed, hashed files, with the `import` paths
of the app's own ES modules (static/js/) rewritten to the hashed names too."""

from __future__ import annotations

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Django 5.2's own patterns for ES module imports and exports (ManifestStaticFilesStorage's
# private `_js_module_import_aggregation_patterns`), written out here rather than read from a
# private attribute: `import … from "./x.js";`, `export … from "./x.js";`, `import "./x.js";`
# and `import("./x.js")`.
MODULE_IMPORTS = (
    (
        r"""(?P<matched>import(?s:(?P<import>[\s\{].*?|\*\s*as\s*\w+))\s*from\s*['"](?P<url>[./].*?)["']\s*;)""",
        'import%(import)s from "%(url)s";',
    ),
    (
        r"""(?P<matched>export(?s:(?P<exports>[\s\{].*?))\s*from\s*["'](?P<url>[./].*?)["']\s*;)""",
        'export%(exports)s from "%(url)s";',
    ),
    (r"""(?P<matched>import\s*['"](?P<url>[./].*?)["']\s*;)""", 'import"%(url)s";'),
    (r"""(?P<matched>import\(["'](?P<url>.*?)["']\))""", 'import("%(url)s")'),
)


class StaticModulesStorage(CompressedManifestStaticFilesStorage):
    """app.js imports its feature modules by relative path ("./live.js"). Served as they are,
    those would be the unhashed files: cached for a minute and possibly a version older or
    newer than the hashed app.js that asks for them. Django rewrites them to hashed names with
    `support_js_module_import_aggregation`, but for every *.js collected, and django-htmx's
    extensions import a bare "htmx" it does not ship, which stops collectstatic. So the same
    rewriting, for our modules only."""

    patterns = (
        *ManifestStaticFilesStorage.patterns,
        ("js/*.js", MODULE_IMPORTS),
    )
