# Clock constraint of {{ v.top }} (ttfs-hdl {{ v.version }}), for flows that read SDC or XDC.
{%- if asic %}
# The inputs arrive and the outputs leave a fifth of the period after the
# edge (set the real figures of the chip's surroundings here).
create_clock -name clk -period {{ period_ns }} [get_ports clk]
set_input_delay -clock clk {{ io_delay_ns }} [all_inputs -no_clocks]
set_output_delay -clock clk {{ io_delay_ns }} [all_outputs]
{%- else %}
# nextpnr-ice40 takes the clock as --freq instead (see README.md).
create_clock -name clk -period {{ period_ns }} [get_ports clk]
{%- endif %}
