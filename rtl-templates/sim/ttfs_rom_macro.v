`default_nettype none
// ttfs_rom_macro: behavioural model of the ROM macro that an ASIC design's
// large weight memories instantiate (`ttfs generate --target asic`). It is
// a placeholder: the ASIC flow puts a real macro of the same ports and
// timing in its place (a mask ROM, or an SRAM written at power-up), listed
// in the design's manifest.json under memory_macros; `ttfs synth --asic`
// reads this file as a black box. For simulation it is ttfs_weight_rom:
// DEPTH words of DATA_W bits from INIT_FILE, read registered with one cycle
// of latency under rd_en.
module ttfs_rom_macro #(
    parameter integer ADDR_W = 8,
    parameter integer DATA_W = 16,
    parameter integer DEPTH = 256,
    parameter INIT_FILE = ""
) (
    input  wire              clk,
    input  wire              rd_en,
    input  wire [ADDR_W-1:0] rd_addr,
    output wire [DATA_W-1:0] rd_data
);

    ttfs_weight_rom #(
        .ADDR_W(ADDR_W),
        .DATA_W(DATA_W),
        .DEPTH(DEPTH),
        .INIT_FILE(INIT_FILE)
    ) u_model (
        .clk(clk), .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(rd_data));

endmodule
`default_nettype wire
