`default_nettype none
// SB_SPRAM256KA: small behavioural model of the iCE40 UP5K single-port RAM
// (16384 x 16 bits) for Verilator and Icarus test benches. Same ports and
// semantics as yosys's ice40/cells_sim.v, except as noted:
//
//   CLOCK rising edge, CHIPSELECT high, STANDBY low, powered:
//     WREN low : DATAOUT <= mem[ADDRESS]                      (read, 1 cycle)
//     WREN high: nibble k of mem[ADDRESS] <= DATAIN nibble k for each
//                MASKWREN[k] set; DATAOUT <= x               (write)
//   CHIPSELECT low: DATAOUT holds.
//   STANDBY high  : DATAOUT <= x on the clock, memory kept.
//   SLEEP high or POWEROFF low (POWEROFF is active low): DATAOUT forced to 0
//     asynchronously, no access.
//
// Difference from cells_sim.v: powering off (POWEROFF low) does not clear the
// memory to x here (that would cost a 16 k-word loop); nothing in ttfs-hdl
// powers the SPRAM off. Yosys synthesis must use the real primitive
// (`read_verilog -lib +/ice40/cells_sim.v`), never this file.
module SB_SPRAM256KA (
    input  wire [13:0] ADDRESS,
    input  wire [15:0] DATAIN,
    input  wire [3:0]  MASKWREN,
    input  wire        WREN,
    input  wire        CHIPSELECT,
    input  wire        CLOCK,
    input  wire        STANDBY,
    input  wire        SLEEP,
    input  wire        POWEROFF,
    output reg  [15:0] DATAOUT
);

    reg [15:0] mem [0:16383];
    wire off = SLEEP || !POWEROFF;

    // Write: per-nibble masked read-modify-write of one word.
    wire [15:0] old_word = mem[ADDRESS];
    wire [15:0] bitmask = {{4{MASKWREN[3]}}, {4{MASKWREN[2]}}, {4{MASKWREN[1]}}, {4{MASKWREN[0]}}};
    wire [15:0] new_word = (DATAIN & bitmask) | (old_word & ~bitmask);

    always @(posedge CLOCK) begin
        if (!SLEEP && POWEROFF && !STANDBY && CHIPSELECT && WREN) mem[ADDRESS] <= new_word;
    end

    always @(posedge CLOCK or posedge off) begin
        if (off) begin
            DATAOUT <= 16'h0000;
        end else if (STANDBY) begin
            DATAOUT <= {16{1'bx}};
        end else if (CHIPSELECT) begin
            if (!WREN) DATAOUT <= mem[ADDRESS];
            else DATAOUT <= {16{1'bx}};
        end
    end

endmodule
`default_nettype wire
