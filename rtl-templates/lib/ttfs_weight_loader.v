`default_nettype none
// ttfs_weight_loader: fills a weight memory (ttfs_weight_spram's write port)
// from a byte stream at power-up; SPRAM has no bitstream initialisation.
//
// Stream format: WORDS words in address order 0 .. WORDS-1, each as
// NB = ceil(DATA_W / 8) bytes, least significant byte first (bits past
// DATA_W in the last byte are ignored). Several loaders chain: once this one
// is done, further bytes pass through to out_* unchanged (out_valid =
// in_valid, in_ready = out_ready), so the next memory's loader sits behind
// it and one byte stream fills every memory in order.
//
// While loading, in_ready = 1 (one byte per cycle). The word assembled from
// its NB-th byte is written in the next cycle (wr_en, wr_addr, wr_data are
// registers); `done` rises the cycle after the last word's write edge, so a
// reader that waits for `done` never meets a write.
// Reset (synchronous, active high) restarts the load at address 0.
// WORDS <= 2^ADDR_W.
module ttfs_weight_loader #(
    parameter integer DATA_W = 64,
    parameter integer WORDS = 16,
    parameter integer ADDR_W = 14
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              in_valid,
    output wire              in_ready,
    input  wire [7:0]        in_data,
    output wire              out_valid,
    input  wire              out_ready,
    output wire [7:0]        out_data,
    output reg               wr_en,
    output reg  [ADDR_W-1:0] wr_addr,
    output reg  [DATA_W-1:0] wr_data,
    output reg               done
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (DATA_W < 1) begin : g_check_data_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_weight_loader_DATA_W_must_be_1_or_more;
`else
            $error("ttfs_weight_loader: DATA_W must be 1 or more");
            ttfs_weight_loader_DATA_W_must_be_1_or_more stop ();
`endif
        end
        if (WORDS < 1) begin : g_check_words
`ifdef __ICARUS__
            localparam integer STOP = ttfs_weight_loader_WORDS_must_be_1_or_more;
`else
            $error("ttfs_weight_loader: WORDS must be 1 or more");
            ttfs_weight_loader_WORDS_must_be_1_or_more stop ();
`endif
        end
        if (ADDR_W < 1 || ADDR_W > 32 || ((WORDS - 1) >> ADDR_W) != 0) begin : g_check_addr_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_weight_loader_ADDR_W_must_be_1_to_32_and_hold_WORDS_minus_1;
`else
            $error("ttfs_weight_loader: ADDR_W must be 1 to 32 and hold WORDS minus 1");
            ttfs_weight_loader_ADDR_W_must_be_1_to_32_and_hold_WORDS_minus_1 stop ();
`endif
        end
    endgenerate

    localparam integer NB = (DATA_W + 7) / 8;
    localparam integer BW = (NB > 1) ? $clog2(NB) : 1;
    localparam integer LAST_BYTE_I = NB - 1;
    localparam [BW-1:0] LAST_BYTE = LAST_BYTE_I[BW-1:0];
    localparam integer LAST_WORD_I = WORDS - 1;
    localparam [ADDR_W-1:0] LAST_WORD = LAST_WORD_I[ADDR_W-1:0];

    reg [NB*8-1:0]   shreg;   // bytes of the word being assembled, newest on top
    reg [BW-1:0]     nbyte;   // bytes of it so far
    reg [ADDR_W-1:0] addr;    // address of the word being assembled
    reg              loading; // words remain

    assign in_ready = loading ? 1'b1 : (done && out_ready);
    assign out_valid = done && in_valid;
    assign out_data = in_data;

    wire take = loading && in_valid;
    // The word with this byte on top; bits past DATA_W (padding of the last
    // byte) are dropped.
    wire [NB*8-1:0] word;
    generate
        if (NB > 1) begin : g_multi
            assign word = {in_data, shreg[NB*8-1:8]};
        end else begin : g_single
            assign word = in_data;
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */
    wire [NB*8-1:0] word_unused = word; // padding bits and, for NB = 1, shreg
    wire [NB*8-1:0] shreg_unused = shreg;
    /* verilator lint_on UNUSEDSIGNAL */

    always @(posedge clk) begin
        if (rst) begin
            wr_en <= 1'b0;
            wr_addr <= {ADDR_W{1'b0}};
            wr_data <= {DATA_W{1'b0}};
            done <= 1'b0;
            shreg <= {(NB * 8){1'b0}};
            nbyte <= {BW{1'b0}};
            addr <= {ADDR_W{1'b0}};
            loading <= 1'b1;
        end else begin
            wr_en <= 1'b0;
            if (wr_en && wr_addr == LAST_WORD) done <= 1'b1;
            if (take) begin
                shreg <= word;
                if (nbyte == LAST_BYTE) begin
                    nbyte <= {BW{1'b0}};
                    wr_en <= 1'b1;
                    wr_addr <= addr;
                    wr_data <= word[DATA_W-1:0];
                    addr <= addr + 1'b1;
                    if (addr == LAST_WORD) loading <= 1'b0;
                end else begin
                    nbyte <= nbyte + 1'b1;
                end
            end
        end
    end

endmodule
`default_nettype wire
