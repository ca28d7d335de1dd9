#!/usr/bin/env bash
# Installs the open FPGA tools ttfs-hdl drives (Verilator and g++ for
# co-simulation; Yosys, nextpnr-ice40 and IceStorm for synthesis; Icarus for
# the test benches) from Debian/Ubuntu packages when any is missing. Rust
# itself is the only other requirement. Safe to run again.
set -euo pipefail

tools=(verilator yosys nextpnr-ice40 icepack iverilog g++)
missing=()
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing the HDL tools (missing: ${missing[*]})"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq verilator yosys nextpnr-ice40 fpga-icestorm iverilog g++ >/dev/null
fi
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is still missing after the install" >&2; exit 1; }
done
