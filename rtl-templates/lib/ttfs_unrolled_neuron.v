`default_nettype none
// ttfs_unrolled_neuron: one neuron of the fully unrolled network, the
// baseline that the TTFS design is compared with (`ttfs synth --asic
// --unrolled`): every weight a constant multiplier, one input vector per
// cycle,
//
//     out_v = BIAS + sum_j WEIGHTS[j] * in_q[j]      (exact, signed VW bits)
//
// which is the TTFS neuron's potential at the end of phase 1 (the integer
// closed form of docs/design.md). The weights are parameters, so synthesis
// folds each product into shifts and adds of the input bits (a zero weight
// costs nothing) and the whole sum into one adder tree.
//
// Exactness: the sum is computed modulo 2^VW; it equals the true sum when
// that lies in the signed VW range, which the generator guarantees by
// taking VW from the network's potential width (|V| <= |b| + sum |W| * T).
//
// Timing: the inputs are combinational; out_v is registered: a vector on
// in_q with in_valid appears on out_v one cycle later with out_valid.
// Reset (rst, synchronous, active high) clears out_valid only.
//
// Parameters:
//   N_IN     inputs (>= 1)
//   QW_IN    bits of each unsigned input code (>= 1; less than VW)
//   WB       bits of each signed weight (>= 2; less than VW)
//   VW       width of the signed potential
//   WEIGHTS  the weights, input j's at [j*WB +: WB], two's complement
//   BIAS     the bias, two's complement in VW bits
module ttfs_unrolled_neuron #(
    parameter integer N_IN = 4,
    parameter integer QW_IN = 8,
    parameter integer WB = 8,
    parameter integer VW = 20,
    parameter [N_IN*WB-1:0] WEIGHTS = {N_IN{8'h01}},
    parameter [VW-1:0] BIAS = {VW{1'b0}}
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     in_valid,
    input  wire [N_IN*QW_IN-1:0]    in_q,
    output reg                      out_valid,
    output reg  signed [VW-1:0]     out_v
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (N_IN < 1) begin : g_check_n_in
`ifdef __ICARUS__
            localparam integer STOP = ttfs_unrolled_neuron_N_IN_must_be_1_or_more;
`else
            $error("ttfs_unrolled_neuron: N_IN must be 1 or more");
            ttfs_unrolled_neuron_N_IN_must_be_1_or_more stop ();
`endif
        end
        if (WB < 2 || WB >= VW) begin : g_check_wb
`ifdef __ICARUS__
            localparam integer STOP = ttfs_unrolled_neuron_WB_must_be_2_to_VW_minus_1;
`else
            $error("ttfs_unrolled_neuron: WB must be 2 to VW minus 1");
            ttfs_unrolled_neuron_WB_must_be_2_to_VW_minus_1 stop ();
`endif
        end
        if (QW_IN < 1 || QW_IN >= VW) begin : g_check_qw_in
`ifdef __ICARUS__
            localparam integer STOP = ttfs_unrolled_neuron_QW_IN_must_be_1_to_VW_minus_1;
`else
            $error("ttfs_unrolled_neuron: QW_IN must be 1 to VW minus 1");
            ttfs_unrolled_neuron_QW_IN_must_be_1_to_VW_minus_1 stop ();
`endif
        end
    endgenerate

    // Partial sums: acc[j] = BIAS + the products of inputs 0 .. j-1. Written
    // as a chain; synthesis (Yosys's alumacc) gathers it into one
    // multiply-accumulate and builds a balanced adder tree.
    wire signed [VW-1:0] acc [0:N_IN] /* verilator split_var */;
    assign acc[0] = $signed(BIAS);

    genvar j;
    generate
        for (j = 0; j < N_IN; j = j + 1) begin : g_tap
            // Both operands in VW bits: the weight sign-extended, the code
            // zero-extended, so the product is exact modulo 2^VW.
            localparam [WB-1:0] W = WEIGHTS[j*WB +: WB];
            wire signed [VW-1:0] w_ext = $signed({{(VW - WB){W[WB-1]}}, W});
            wire signed [VW-1:0] q_ext = $signed({{(VW - QW_IN){1'b0}}, in_q[j*QW_IN +: QW_IN]});
            assign acc[j + 1] = acc[j] + w_ext * q_ext;
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
        end else begin
            out_valid <= in_valid;
        end
    end
    always @(posedge clk) begin
        if (in_valid) out_v <= acc[N_IN];
    end

endmodule
`default_nettype wire
