`default_nettype none
// ttfs_shift_add_mul: p = a * q (mod 2^AW) in logic, for lanes past the
// device's DSP budget: one partial product (a << b) per set bit b of q,
// summed by a balanced tree of adders (depth ceil(log2(QW))) rather than a
// chain, so that the critical path is a few carry chains instead of QW of
// them (the chain of the first version limited the UP5K MNIST design to
// 23 MHz).
//
// a is any AW-bit two's-complement (or unsigned) number, q an unsigned
// QW-bit number; with AW >= width(a) + QW the product is exact, otherwise it
// is the product modulo 2^AW (which is what a potential accumulated modulo
// 2^VW needs). Purely combinational; the caller registers p.
module ttfs_shift_add_mul #(
    parameter integer AW = 17,
    parameter integer QW = 8
) (
    input  wire [AW-1:0] a,
    input  wire [QW-1:0] q,
    output wire [AW-1:0] p
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (AW < 1) begin : g_check_aw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_shift_add_mul_AW_must_be_1_or_more;
`else
            $error("ttfs_shift_add_mul: AW must be 1 or more");
            ttfs_shift_add_mul_AW_must_be_1_or_more stop ();
`endif
        end
        if (QW < 1) begin : g_check_qw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_shift_add_mul_QW_must_be_1_or_more;
`else
            $error("ttfs_shift_add_mul: QW must be 1 or more");
            ttfs_shift_add_mul_QW_must_be_1_or_more stop ();
`endif
        end
    endgenerate

    // Leaves: N = 2^ceil(log2(QW)) partial products, zero past QW. The tree
    // is stored heap-ordered in one flat vector: node k (0 = root) has
    // children 2k+1 and 2k+2; leaves are nodes N-1 .. 2N-2.
    localparam integer LOGN = (QW > 1) ? $clog2(QW) : 0;
    localparam integer N = 1 << LOGN;

    // split_var: Verilator sees one variable per node (no false loop).
    wire [(2*N-1)*AW-1:0] node /* verilator split_var */;

    genvar i;
    generate
        for (i = 0; i < N; i = i + 1) begin : g_leaf
            if (i < QW) begin : g_pp
                wire [AW-1:0] shifted = a << i;
                assign node[(N - 1 + i)*AW +: AW] = q[i] ? shifted : {AW{1'b0}};
            end else begin : g_zero
                assign node[(N - 1 + i)*AW +: AW] = {AW{1'b0}};
            end
        end
        for (i = 0; i < N - 1; i = i + 1) begin : g_sum
            assign node[i*AW +: AW] = node[(2*i + 1)*AW +: AW] + node[(2*i + 2)*AW +: AW];
        end
    endgenerate

    assign p = node[0 +: AW];

endmodule
`default_nettype wire
