`default_nettype none
// ttfs_mac_lanes: the P multipliers of a layer's accumulate pipeline, shared
// by ttfs_dense_layer and ttfs_conv_layer.
//
// Lane l multiplies the signed WB-bit weight w_word[l*WB +: WB] by the
// unsigned QIN_W-bit value q and registers the product at an edge with
// en = 1 (the edge that moves an accumulate op from the layer's stage R to
// its stage M); prod_v shows the products of the op in M, each as a signed
// VW-bit number, and holds them until the next edge with en = 1.
// Products go to VW bits by sign extension or truncation: a layer
// accumulates modulo 2^VW and only its final potentials must fit (the
// generator's bound), so truncating is exact.
//
// MUL_OPERATOR = 1 writes the product with the `*` operator (synth_ice40
// -dsp maps it to SB_MAC16, synth_ecp5 to MULT18X18D); 0 builds it as a
// shift-and-add in logic (never a DSP), split across the two stages: the
// low and high halves of q are multiplied at en (two adder trees,
// registered) and added on the way out, which keeps both paths short.
//
// IN_REG = 1 registers w_word and q first, at an edge with en_in = 1 (for a
// layer with a stage X between R and M: en_in moves the op from R to X, en
// from X to M), so the multipliers start from registers instead of the
// weight memory's output. IN_REG = 0: en_in is unused (tie it low).
//
// Parameters: P lanes (>= 1), WB weight bits, QIN_W value bits, VW output
// bits (all >= 1), MUL_OPERATOR, IN_REG.
module ttfs_mac_lanes #(
    parameter integer P = 2,
    parameter integer WB = 8,
    parameter integer QIN_W = 8,
    parameter integer VW = 24,
    parameter integer MUL_OPERATOR = 1,
    parameter integer IN_REG = 0
) (
    input  wire              clk,
    input  wire              en_in,
    input  wire              en,
    input  wire [P*WB-1:0]   w_word,
    input  wire [QIN_W-1:0]  q,
    output wire [P*VW-1:0]   prod_v
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (P < 1) begin : g_check_p
`ifdef __ICARUS__
            localparam integer STOP = ttfs_mac_lanes_P_must_be_1_or_more;
`else
            $error("ttfs_mac_lanes: P must be 1 or more");
            ttfs_mac_lanes_P_must_be_1_or_more stop ();
`endif
        end
        if (WB < 1 || QIN_W < 1 || VW < 1) begin : g_check_widths
`ifdef __ICARUS__
            localparam integer STOP = ttfs_mac_lanes_WB_QIN_W_and_VW_must_be_1_or_more;
`else
            $error("ttfs_mac_lanes: WB QIN_W and VW must be 1 or more");
            ttfs_mac_lanes_WB_QIN_W_and_VW_must_be_1_or_more stop ();
`endif
        end
    endgenerate

    localparam integer PW = WB + QIN_W + 1;          // signed product width

    // The multipliers' operands: the inputs, or registered copies.
    wire [P*WB-1:0]  w_op;
    wire [QIN_W-1:0] q_op;
    generate
        if (IN_REG != 0) begin : g_in_reg
            reg [P*WB-1:0]  w_r;
            reg [QIN_W-1:0] q_r;
            always @(posedge clk) begin
                if (en_in) begin
                    w_r <= w_word;
                    q_r <= q;
                end
            end
            assign w_op = w_r;
            assign q_op = q_r;
        end else begin : g_in_direct
            assign w_op = w_word;
            assign q_op = q;
            wire unused_en_in = en_in;
        end
    endgenerate

    genvar l;
    generate
        for (l = 0; l < P; l = l + 1) begin : g_lane
            wire [WB-1:0] w_lane = w_op[l*WB +: WB];
            wire [PW-1:0] w_ext = {{(PW - WB){w_lane[WB-1]}}, w_lane};
            wire [PW-1:0] prod;
            if (MUL_OPERATOR != 0) begin : g_mul
                wire [PW-1:0] q_ext = {{(PW - QIN_W){1'b0}}, q_op};
                reg  [PW-1:0] prod_r;
                always @(posedge clk) begin
                    if (en) prod_r <= $unsigned($signed(w_ext) * $signed(q_ext));
                end
                assign prod = prod_r;
            end else if (QIN_W >= 2) begin : g_shift_add
                localparam integer QL = QIN_W / 2;
                wire [PW-1:0] lo_next;
                wire [PW-1:0] hi_next;
                reg  [PW-1:0] lo;
                reg  [PW-1:0] hi;
                ttfs_shift_add_mul #(.AW(PW), .QW(QL)) u_lo (.a(w_ext), .q(q_op[QL-1:0]), .p(lo_next));
                ttfs_shift_add_mul #(.AW(PW), .QW(QIN_W - QL)) u_hi (.a(w_ext), .q(q_op[QIN_W-1:QL]), .p(hi_next));
                always @(posedge clk) begin
                    if (en) begin
                        lo <= lo_next;
                        hi <= hi_next;
                    end
                end
                assign prod = lo + (hi << QL);
            end else begin : g_shift_add_1
                // One-bit q: the product is W or 0.
                reg [PW-1:0] prod_r;
                always @(posedge clk) begin
                    if (en) prod_r <= q_op[0] ? w_ext : {PW{1'b0}};
                end
                assign prod = prod_r;
            end
            if (VW > PW) begin : g_prod_wide
                assign prod_v[l*VW +: VW] = {{(VW - PW){prod[PW-1]}}, prod};
            end else begin : g_prod_narrow
                /* verilator lint_off UNUSEDSIGNAL */
                wire [PW-1:0] prod_all = prod; // bits above VW: modulo arithmetic
                /* verilator lint_on UNUSEDSIGNAL */
                assign prod_v[l*VW +: VW] = prod_all[VW-1:0];
            end
        end
    endgenerate

endmodule
`default_nettype wire
