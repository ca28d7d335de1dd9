`default_nettype none
// SB_PLL40_PAD: behavioural stand-in for the iCE40 PLL in simulation
// (Verilator and Icarus test benches). The co-simulation counts cycles, not
// nanoseconds, so the output clock is the input clock itself; LOCK rises
// after 16 input clock edges with RESETB high (and falls with RESETB low).
// BYPASS is ignored. Yosys synthesis uses the real primitive
// (`read_verilog -lib +/ice40/cells_sim.v`), never this file; DIVR, DIVF,
// DIVQ and FILTER_RANGE only matter there.
/* verilator lint_off UNUSEDPARAM */
module SB_PLL40_PAD #(
    parameter FEEDBACK_PATH = "SIMPLE",
    parameter [3:0] DIVR = 4'b0000,
    parameter [6:0] DIVF = 7'b0000000,
    parameter [2:0] DIVQ = 3'b000,
    parameter [2:0] FILTER_RANGE = 3'b000
) (
    input  wire PACKAGEPIN,
    output wire PLLOUTCORE,
    output wire PLLOUTGLOBAL,
    output wire LOCK,
    input  wire BYPASS,
    input  wire RESETB
);
    reg [4:0] count;
    initial count = 5'd0;
    always @(posedge PACKAGEPIN) begin
        if (!RESETB) count <= 5'd0;
        else if (!count[4]) count <= count + 1'b1;
    end
    assign PLLOUTCORE = PACKAGEPIN;
    assign PLLOUTGLOBAL = PACKAGEPIN;
    assign LOCK = count[4] && RESETB;
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = BYPASS;
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on UNUSEDPARAM */
`default_nettype wire
