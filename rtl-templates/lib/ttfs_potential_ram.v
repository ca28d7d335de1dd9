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
// Contents after configuration are undefined: the layer writes every word
// (its bias load) before it reads one.
//
// Parameters: WORDS (>= 1), WIDTH (>= 1), FORWARD.
module ttfs_potential_ram #(
    parameter integer WORDS = 4,
    parameter integer WIDTH = 16,
    parameter integer FORWARD = 1
) (
    input  wire                                      clk,
    input  wire                                      rd_en,
    input  wire [((WORDS > 1) ? $clog2(WORDS) : 1)-1:0] rd_addr,
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

    (* no_rw_check *)
    reg [WIDTH-1:0] mem [0:WORDS-1];
    reg [WIDTH-1:0] pq;

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
            assign rd_data = fwd ? fdata : pq;
        end else begin : g_plain
            assign rd_data = pq;
        end
    endgenerate

endmodule
`default_nettype wire
