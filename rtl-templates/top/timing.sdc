# Clock constraint of {{ v.top }} (ttfs-hdl {{ v.version }}), for flows that read SDC or XDC.
# nextpnr-ice40 takes the clock as --freq instead (see README.md).
create_clock -name clk -period {{ period_ns }} [get_ports clk]
