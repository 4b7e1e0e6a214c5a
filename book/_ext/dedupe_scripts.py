"""Sphinx extension: drop repeated <script> entries from every page.

sphinx-thebe registers its inline configuration script once per read of the sources, and Jupyter
Book reads them more than once, so pages would declare `const THEBE_JS_URL` twice, which is a
JavaScript error. Identical entries (same file, same attributes, same inline body) are kept once.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # a body-only script is registered with filename None or '' depending on the caller
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
