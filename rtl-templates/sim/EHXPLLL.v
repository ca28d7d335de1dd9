`default_nettype none
// EHXPLLL: behavioural stand-in for the ECP5 PLL in simulation (Verilator
// and Icarus test benches), for the board wrappers' use of it (CLKOP fed
// back, no dynamic phase shift). The co-simulation counts cycles, not
// nanoseconds, so CLKOP is the input clock itself; LOCK rises after 16
// input clock edges with RST low and STDBY low (and falls with either).
// Only the ports and parameters the wrappers set are modelled; Yosys
// synthesis uses the real primitive (synth_ecp5's cell library), never
// this file, and the dividers only matter there.
/* verilator lint_off UNUSEDPARAM */
module EHXPLLL #(
    parameter integer CLKI_DIV = 1,
    parameter integer CLKFB_DIV = 1,
    parameter integer CLKOP_DIV = 8,
    parameter integer CLKOP_CPHASE = 0,
    parameter integer CLKOP_FPHASE = 0,
    parameter CLKOP_ENABLE = "ENABLED",
    parameter FEEDBK_PATH = "CLKOP",
    parameter PLLRST_ENA = "DISABLED",
    parameter INTFB_WAKE = "DISABLED",
    parameter STDBY_ENABLE = "DISABLED",
    parameter DPHASE_SOURCE = "DISABLED",
    parameter OUTDIVIDER_MUXA = "DIVA"
) (
    input  wire CLKI,
    input  wire CLKFB,
    input  wire RST,
    input  wire STDBY,
    input  wire PHASESEL0,
    input  wire PHASESEL1,
    input  wire PHASEDIR,
    input  wire PHASESTEP,
    input  wire PHASELOADREG,
    input  wire PLLWAKESYNC,
    input  wire ENCLKOP,
    output wire CLKOP,
    output wire LOCK
);
    reg [4:0] count;
    initial count = 5'd0;
    always @(posedge CLKI) begin
        if (RST || STDBY) count <= 5'd0;
        else if (!count[4]) count <= count + 1'b1;
    end
    assign CLKOP = CLKI;
    assign LOCK = count[4] && !RST && !STDBY;
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, CLKFB, PHASESEL0, PHASESEL1, PHASEDIR, PHASESTEP, PHASELOADREG, PLLWAKESYNC, ENCLKOP};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on UNUSEDPARAM */
`default_nettype wire
