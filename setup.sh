#!/usr/bin/env bash
# Installs the open FPGA tools ttfs-hdl drives (Verilator and g++ for
# co-simulation; Yosys, nextpnr-ice40 and IceStorm for synthesis; Icarus for
# the test benches) from Debian/Ubuntu packages when any is missing, and the
# Python tools only the tests run (slang, the strict SystemVerilog front end,
# from the pyslang wheel; FuseSoC, which runs the generated core's targets),
# pinned, into .venv-tools of this checkout. Rust itself is the only other
# requirement. Safe to run again: it installs only what is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"

tools=(verilator yosys nextpnr-ice40 icepack iverilog g++ make python3)
missing=()
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
# Debian's python3 makes virtual environments only with python3-venv.
command -v python3 >/dev/null 2>&1 && python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=("python3-venv")
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing the HDL tools (missing: ${missing[*]})"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq verilator yosys nextpnr-ice40 fpga-icestorm iverilog g++ make python3 python3-venv >/dev/null
fi
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is still missing after the install" >&2; exit 1; }
done

# The Python tools, pinned (ttfs_tools::Tool::{Slang, Fusesoc} look in
# .venv-tools/bin). The stamp records what was installed, so a second run
# only checks it.
venv="$root/.venv-tools"
pins="pyslang==12.1.0 fusesoc==2.4.7 edalize==0.6.8"
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ] || [ ! -x "$venv/bin/fusesoc" ] || [ ! -x "$venv/bin/slang" ]; then
    echo "installing the Python test tools into $venv ($pins)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086 # the pins are words
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
    # The wheel has slang's driver but no program: generator/tools/slang.py is one.
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$venv/bin/python" "$root/generator/tools/slang.py" > "$venv/bin/slang"
    chmod +x "$venv/bin/slang"
    echo "$pins" > "$venv/.pins"
fi
"$venv/bin/slang" --version >/dev/null || { echo "error: slang does not run from $venv" >&2; exit 1; }
