`default_nettype none
// ttfs_weight_spram: weight memory in the iCE40 UP5K's single-port RAMs.
//
// 16384 words of DATA_W bits, built from K = ceil(DATA_W / 16) SB_SPRAM256KA
// side by side (K in 1..4; word bits [16k +: 16] live in SPRAM k; when DATA_W
// is not a multiple of 16 the top SPRAM's spare bits are written as 0 and
// ignored). SPRAM has no initial contents: a loader writes every word at
// power-up through the write port before the first read.
//
// One port at a time (the SPRAM is single-ported):
//   wr_en high at a rising edge: mem[wr_addr] <= wr_data (all bits). Writes
//     win: a read requested in the same cycle is dropped, and rd_data is
//     undefined after a write cycle until the next read.
//   rd_en high (wr_en low) at a rising edge: rd_data shows mem[rd_addr] after
//     that edge (registered, 1-cycle latency, the SPRAM's own output register).
//     rd_addr has RD_ADDR_W bits (1..14), the reader's address width: reads
//     reach the first 2^RD_ADDR_W words (the rest are zero-extended away).
//   neither: the SPRAMs are deselected and rd_data holds.
// No reset; STANDBY, SLEEP tied low, POWEROFF (active low) tied high.
module ttfs_weight_spram #(
    parameter integer DATA_W = 64,
    parameter integer RD_ADDR_W = 14
) (
    input  wire              clk,
    input  wire              rd_en,
    input  wire [RD_ADDR_W-1:0] rd_addr,
    output wire [DATA_W-1:0] rd_data,
    input  wire              wr_en,
    input  wire [13:0]       wr_addr,
    input  wire [DATA_W-1:0] wr_data
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (DATA_W < 1 || DATA_W > 64) begin : g_check_data_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_weight_spram_DATA_W_must_be_1_to_64;
`else
            $error("ttfs_weight_spram: DATA_W must be 1 to 64");
            ttfs_weight_spram_DATA_W_must_be_1_to_64 stop ();
`endif
        end
        if (RD_ADDR_W < 1 || RD_ADDR_W > 14) begin : g_check_rd_addr_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_weight_spram_RD_ADDR_W_must_be_1_to_14;
`else
            $error("ttfs_weight_spram: RD_ADDR_W must be 1 to 14");
            ttfs_weight_spram_RD_ADDR_W_must_be_1_to_14 stop ();
`endif
        end
    endgenerate

    localparam integer K = (DATA_W + 15) / 16;
    localparam integer PAD_W = 16 * K;

    wire [13:0] rd_addr14;
    generate
        if (RD_ADDR_W < 14) begin : g_rd_addr_pad
            assign rd_addr14 = {{(14 - RD_ADDR_W){1'b0}}, rd_addr};
        end else begin : g_rd_addr_full
            assign rd_addr14 = rd_addr;
        end
    endgenerate
    wire [13:0] addr = wr_en ? wr_addr : rd_addr14;
    wire        cs = wr_en | rd_en;

    wire [PAD_W-1:0] din;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [PAD_W-1:0] dout; // bits past DATA_W unused when DATA_W % 16 != 0
    /* verilator lint_on UNUSEDSIGNAL */

    generate
        if (PAD_W > DATA_W) begin : g_pad
            assign din = {{(PAD_W - DATA_W){1'b0}}, wr_data};
        end else begin : g_nopad
            assign din = wr_data;
        end
    endgenerate

    assign rd_data = dout[DATA_W-1:0];

    genvar k;
    generate
        for (k = 0; k < K; k = k + 1) begin : g_spram
            SB_SPRAM256KA ram (
                .ADDRESS(addr),
                .DATAIN(din[16*k +: 16]),
                .MASKWREN(4'b1111),
                .WREN(wr_en),
                .CHIPSELECT(cs),
                .CLOCK(clk),
                .STANDBY(1'b0),
                .SLEEP(1'b0),
                .POWEROFF(1'b1),
                .DATAOUT(dout[16*k +: 16])
            );
        end
    endgenerate

endmodule
`default_nettype wire
