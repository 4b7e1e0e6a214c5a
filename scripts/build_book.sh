#!/usr/bin/env bash
# Install everything into .venv and build the HTML book into _build/html (warnings are errors).
#
#   bash scripts/build_book.sh
#
# PyTorch: an existing torch in .venv is kept. Otherwise torch==2.13.0 is installed first, from
# $TORCH_INDEX_URL if set (e.g. https://download.pytorch.org/whl/cpu for the small CPU-only wheel on
# a machine without a GPU), else from the default index. Then requirements.txt and `pip install -e .`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip_install() { .venv/bin/python -m pip install --disable-pip-version-check -q "$@"; }
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  pip_install torch==2.13.0 ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
fi
pip_install -r requirements.txt
pip_install -e .

rm -rf _build/html
.venv/bin/jupyter-book build . --warningiserror --keep-going
echo "The book is in $(pwd)/_build/html/index.html"
