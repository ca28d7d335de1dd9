`default_nettype none
// ttfs_potential_ram: a layer's potential store in block RAM, shared by
// ttfs_dense_layer and ttfs_conv_layer: WORDS words of WIDTH bits (one
// word holds the P potentials of one block of lanes), read in the layer's
// stage R, written in its stage M.
//
// An edge with rd_en = 1 reads word rd_addr into rd_data, which holds it
// until the next edge with rd_en = 1. An edge with wr_en = 1 writes wr_data
// to word wr_addr. When both happen at one edge on the same word (an op in
// R reads the word the op in M is writing):
//   FORWARD = 1: rd_data shows the word being written (read-after-write
//                order, as the pipeline needs when consecutive ops may touch
//                one word: convolution taps of neighbouring events);
//   FORWARD = 0: the caller promises it never happens (a dense layer's
//                consecutive ops on one block are two or more ops apart), and
//                the read data would be undefined.
// Either way Yosys need not build collision logic into the memory
// ((* no_rw_check *)): a forwarded read ignores the memory's output.
//
// READ_REG = 1 adds a register after the memory's output, for a layer with
// a stage X between R and M (a block RAM's clock-to-output delay is most of
// a cycle; ECP5's DP16KD: 5.8 ns): the word read at an edge with rd_en = 1
// moves into rd_data at the next edge with rd_en2 = 1 (the edge that moves
// the op from X to M) and is held until the following one. A write at that
// second edge to the same word (the op one ahead, in M) is forwarded too
// when FORWARD = 1, so rd_data is always the word as the ops ahead left it;
// with FORWARD = 0 the caller promises ops on one word are three or more
// ops apart. READ_REG = 0: rd_en2 is unused (tie it low).
// Contents after configuration are undefined: the layer writes every word
// (its bias load) before it reads one.
//
// Parameters: WORDS (>= 1), WIDTH (>= 1), FORWARD, READ_REG.
module ttfs_potential_ram #(
    parameter integer WORDS = 4,
    parameter integer WIDTH = 16,
    parameter integer FORWARD = 1,
    parameter integer READ_REG = 0
) (
    input  wire                                      clk,
    input  wire                                      rd_en,
    input  wire [((WORDS > 1) ? $clog2(WORDS) : 1)-1:0] rd_addr,
    input  wire                                      rd_en2,
    output wire [WIDTH-1:0]                          rd_data,
    input  wire                                      wr_en,
    input  wire [((WORDS > 1) ? $clog2(WORDS) : 1)-1:0] wr_addr,
    input  wire [WIDTH-1:0]                          wr_data
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (WORDS < 1) begin : g_check_words
`ifdef __ICARUS__
            localparam integer STOP = ttfs_potential_ram_WORDS_must_be_1_or_more;
`else
            $error("ttfs_potential_ram: WORDS must be 1 or more");
            ttfs_potential_ram_WORDS_must_be_1_or_more stop ();
`endif
        end
        if (WIDTH < 1) begin : g_check_width
`ifdef __ICARUS__
            localparam integer STOP = ttfs_potential_ram_WIDTH_must_be_1_or_more;
`else
            $error("ttfs_potential_ram: WIDTH must be 1 or more");
            ttfs_potential_ram_WIDTH_must_be_1_or_more stop ();
`endif
        end
    endgenerate

    localparam integer AW = (WORDS > 1) ? $clog2(WORDS) : 1;

    (* no_rw_check *)
    reg [WIDTH-1:0] mem [0:WORDS-1];
    reg [WIDTH-1:0] pq;
    wire [WIDTH-1:0] word;   // the word read, with the write at its edge forwarded

    always @(posedge clk) begin
        if (wr_en) mem[wr_addr] <= wr_data;
    end
    always @(posedge clk) begin
        if (rd_en) pq <= mem[rd_addr];
    end

    generate
        if (FORWARD != 0) begin : g_forward
            reg             fwd;
            reg [WIDTH-1:0] fdata;
            always @(posedge clk) begin
                if (rd_en) begin
                    fwd <= wr_en && (wr_addr == rd_addr);
                    if (wr_en && (wr_addr == rd_addr)) fdata <= wr_data;
                end
            end
            assign word = fwd ? fdata : pq;
        end else begin : g_plain
            assign word = pq;
        end
        if (READ_REG != 0) begin : g_read_reg
            reg [AW-1:0]    xaddr;   // the word of the op between the edges
            reg [WIDTH-1:0] rq;
            always @(posedge clk) begin
                if (rd_en) xaddr <= rd_addr;
            end
            if (FORWARD != 0) begin : g_forward2
                always @(posedge clk) begin
                    if (rd_en2) rq <= (wr_en && (wr_addr == xaddr)) ? wr_data : word;
                end
            end else begin : g_plain2
                always @(posedge clk) begin
                    if (rd_en2) rq <= word;
                end
            end
            assign rd_data = rq;
        end else begin : g_direct
            assign rd_data = word;
            wire unused_rd_en2 = rd_en2;
        end
    endgenerate

endmodule
`default_nettype wire
