"""Write the README's table of test likelihoods from results/*.json (never typed in by hand).

    python scripts/readme_results.py          # rewrite the table between the README's markers
    python scripts/readme_results.py --check  # exit 1 if the README's table differs from the results

tests/test_readme_results.py runs the check, so the README cannot drift from the results files.
"""

from __future__ import annotations

import argparse
import re
import sys

from dgm.paths import REPO_ROOT
from dgm.recipes import BOOK_FLOW, FLOW_RUNS
from dgm.results import read_result
from dgm.units import bits_per_dim

START, END = "<!-- results:start (scripts/readme_results.py) -->", "<!-- results:end -->"


def _trained(m: dict) -> str:
    hardware = m["train_hardware"]
    where = re.sub(r"^CPU .*?, (\d+) cores,.*$", r"\1-core CPU", hardware) if hardware.startswith("CPU") else hardware
    steps, seconds = f"{m['train_steps']:,}", m["train_seconds"]
    start = m
    while "warm_start" in start:  # runs that each started from the previous one's weights
        start = start["warm_start"]
        steps, seconds = f"{start['train_steps']:,} + {steps}", start["train_seconds"] + seconds
    return f"{steps} steps of {m['batch_size']}, {seconds / 60:.0f} min, {where}"


def _value(stat: dict) -> str:
    return f"{stat['mean']:.3f} ± {stat['sem']:.3f}"


def rows() -> list[tuple[str, str, str, str, str]]:
    """(model, bits/dim, what is measured, test images, training) for each headline likelihood."""
    out = []
    vae = read_result("vae_mnist_8bit_z32")["metrics"]
    vae_bpd = {"mean": vae["test_nll_bits_per_dim"], "sem": bits_per_dim(vae["test_nll_nats"]["sem"], 784)}
    out.append(("VAE, 32 latents, discretized Gaussian decoder (ch. 2)", _value(vae_bpd),
                f"IWAE bound, k = {vae['k_for_nll']}", f"{vae['test_images']:,}", _trained(vae)))
    for name in dict.fromkeys(["flow_mnist_continued", BOOK_FLOW]):  # chapter 3's uniform flow, then the book's flow
        flow = read_result(name)["metrics"]
        dequantization = "uniform" if FLOW_RUNS[name].config.dequantizer is None else "variational"
        model = f"multi-scale flow, {dequantization} dequantization (ch. 3)"
        out.append((model, _value(flow["test_bits_per_dim"]), f"one-draw bound, mean of {flow['dequantization_draws']} "
                    "draws", f"{flow['test_images']:,}", _trained(flow)))
        iw = flow["test_bits_per_dim_importance_weighted"]
        out.append((model, _value(iw), f"importance-weighted over {iw['draws']} draws", f"{flow['test_images']:,}",
                    _trained(flow)))
    ddpm = read_result("ddpm_mnist")["metrics"]
    out.append(("DDPM, eps-prediction, L_simple (ch. 6)", _value(ddpm["bound_bits_per_dim"]),
                f"variational bound, all {ddpm['T'] + 1} terms", f"{ddpm['test_images']:,}", _trained(ddpm)))
    try:
        strat = read_result("ddpm_mnist_stratified")["metrics"]
    except FileNotFoundError:
        strat = None
    if strat is not None:
        out.append(("DDPM, eps-prediction, L_simple (ch. 6)", _value(strat["bound_bits_per_dim"]),
                    f"variational bound, {len(strat['strata'])} strata of t", f"{strat['test_images']:,}",
                    _trained(strat)))
    return out


def table() -> str:
    lines = [START, "", "| model | bits/dim | measured as | test images | trained |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows()]
    lines += ["", END]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the README is out of date")
    args = parser.parse_args()
    path = REPO_ROOT / "README.md"
    text = path.read_text()
    if START not in text or END not in text:
        sys.exit(f"{path} has no results markers; add the lines {START!r} and {END!r} where the table goes")
    current = text[text.index(START) : text.index(END) + len(END)]
    if args.check:
        if current != table():
            sys.exit(f"the results table in {path} is out of date; run python scripts/readme_results.py")
        print("README results table is up to date")
        return
    path.write_text(text.replace(current, table()))
    print(f"wrote the results table into {path}")


if __name__ == "__main__":
    main()
