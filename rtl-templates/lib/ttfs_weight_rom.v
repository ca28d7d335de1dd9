`default_nettype none
// ttfs_weight_rom: read-only memory (weights or biases) in block RAM.
//
// DEPTH words of DATA_W bits, loaded from INIT_FILE with $readmemh (one hex
// word per line, as generator/hw/src/rom.rs writes them); an empty
// INIT_FILE leaves the memory uninitialised (used by lint runs and test
// benches that fill `mem` themselves).
//
// Read: registered, 1-cycle latency. With rd_en high at a rising edge,
// rd_data shows mem[rd_addr] after that edge; with rd_en low rd_data holds.
// There is no reset on rd_data (the iCE40 block RAM output has none).
// Addresses >= DEPTH read undefined data. ADDR_W, DATA_W >= 1;
// DEPTH 1 .. 2^ADDR_W.
//
// Yosys infers SB_RAM40_4K (synth_ice40): rd_en maps to RCLKE.
module ttfs_weight_rom #(
    parameter integer ADDR_W = 8,
    parameter integer DATA_W = 16,
    parameter integer DEPTH = 256,
    parameter INIT_FILE = ""
) (
    input  wire              clk,
    input  wire              rd_en,
    input  wire [ADDR_W-1:0] rd_addr,
    output reg  [DATA_W-1:0] rd_data
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (ADDR_W < 1) begin : g_check_addr_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_weight_rom_ADDR_W_must_be_1_or_more;
`else
            $error("ttfs_weight_rom: ADDR_W must be 1 or more");
            ttfs_weight_rom_ADDR_W_must_be_1_or_more stop ();
`endif
        end
        if (DATA_W < 1) begin : g_check_data_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_weight_rom_DATA_W_must_be_1_or_more;
`else
            $error("ttfs_weight_rom: DATA_W must be 1 or more");
            ttfs_weight_rom_DATA_W_must_be_1_or_more stop ();
`endif
        end
        if (DEPTH < 1 || ((DEPTH - 1) >> ADDR_W) != 0) begin : g_check_depth
`ifdef __ICARUS__
            localparam integer STOP = ttfs_weight_rom_DEPTH_must_be_1_to_2_to_the_power_ADDR_W;
`else
            $error("ttfs_weight_rom: DEPTH must be 1 to 2 to the power ADDR_W");
            ttfs_weight_rom_DEPTH_must_be_1_to_2_to_the_power_ADDR_W stop ();
`endif
        end
    endgenerate

    reg [DATA_W-1:0] mem [0:DEPTH-1];

    initial begin
        if (INIT_FILE != "") $readmemh(INIT_FILE, mem);
    end

    always @(posedge clk) begin
        if (rd_en) rd_data <= mem[rd_addr];
    end

endmodule
`default_nettype wire
