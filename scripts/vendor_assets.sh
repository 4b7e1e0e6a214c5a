#!/usr/bin/env bash
# Regenerate book/assets/vendor/: the web assets the HTML book serves itself instead of loading
# them from CDNs (MathJax 3 for the math, RequireJS and the Jupyter widgets HTML manager for the
# widgets). Versions are pinned in book/assets/package.json and package-lock.json.
#
#   bash scripts/vendor_assets.sh        (needs npm; the result is committed)
set -euo pipefail
cd "$(dirname "$0")/../book/assets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json "$tmp"/
(cd "$tmp" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
nm=$tmp/node_modules

rm -rf vendor
mkdir -p vendor/mathjax/output/chtml/fonts vendor/mathjax/input/tex vendor/html-manager vendor/LICENSES
# MathJax: the combined TeX+MathML -> CommonHTML component, its fonts, and what it loads on demand
# (TeX extensions through autoload, the menu and assistive MathML).
mj=$nm/mathjax/es5
cp "$mj/tex-mml-chtml.js" vendor/mathjax/
cp -r "$mj/output/chtml/fonts/woff-v2" vendor/mathjax/output/chtml/fonts/
cp -r "$mj/input/tex/extensions" vendor/mathjax/input/tex/
cp -r "$mj/ui" "$mj/a11y" vendor/mathjax/
cp "$nm/mathjax/LICENSE" vendor/LICENSES/mathjax-LICENSE
# Widgets: RequireJS and the self-contained embed-amd bundle of the HTML widget manager.
cp "$nm/requirejs/require.js" vendor/require.js
# require.js carries its MIT licence in its header comment; the package ships no separate file.
cp "$nm/@jupyter-widgets/html-manager/dist/embed-amd.js" vendor/html-manager/
cp "$nm/@jupyter-widgets/html-manager/dist/"*.woff2 vendor/html-manager/  # its icon fonts (see widgets-offline.js)
cp "$nm/@jupyter-widgets/html-manager/LICENSE" vendor/LICENSES/html-manager-LICENSE
du -sh vendor
