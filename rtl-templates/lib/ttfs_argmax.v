`default_nettype none
// ttfs_argmax: the class of a vector of logits in one cycle, for the fully
// unrolled network (`ttfs synth --asic --unrolled`):
//
//     out_class = the first index of the maximum of in_v (ties go to the
//                 lower index, as in the TTFS readout)
//     out_v     = in_v, delayed to stay beside its class
//
// A tournament tree: the N values sit at the leaves of a complete binary
// tree of P = 2^ceil(log2 N) leaves (missing leaves never win); each node
// keeps its left child unless the right one is strictly greater. The left
// subtree always holds the lower indices, so the first maximum wins, in
// ceil(log2 N) comparator levels rather than N - 1 in a row.
//
// Timing: combinational tree, registered outputs: a vector on in_v with
// in_valid appears on out_class/out_v one cycle later with out_valid.
// Reset (rst, synchronous, active high) clears out_valid only.
//
// Parameters:
//   N      values (>= 1)
//   VW     width of each signed value (>= 1), value i at [i*VW +: VW]
//   CLS_W  width of the class (1 .. 31, holds N - 1)
module ttfs_argmax #(
    parameter integer N = 10,
    parameter integer VW = 16,
    parameter integer CLS_W = 4
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire [N*VW-1:0]      in_v,
    output reg                  out_valid,
    output reg  [CLS_W-1:0]     out_class,
    output reg  [N*VW-1:0]      out_v
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (N < 1) begin : g_check_n
`ifdef __ICARUS__
            localparam integer STOP = ttfs_argmax_N_must_be_1_or_more;
`else
            $error("ttfs_argmax: N must be 1 or more");
            ttfs_argmax_N_must_be_1_or_more stop ();
`endif
        end
        if (VW < 1) begin : g_check_vw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_argmax_VW_must_be_1_or_more;
`else
            $error("ttfs_argmax: VW must be 1 or more");
            ttfs_argmax_VW_must_be_1_or_more stop ();
`endif
        end
        if (CLS_W < 1 || CLS_W > 31 || (N > 1 && (N - 1) >= (1 << CLS_W))) begin : g_check_cls_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_argmax_CLS_W_must_be_1_to_31_and_hold_N_minus_1;
`else
            $error("ttfs_argmax: CLS_W must be 1 to 31 and hold N minus 1");
            ttfs_argmax_CLS_W_must_be_1_to_31_and_hold_N_minus_1 stop ();
`endif
        end
    endgenerate

    // Leaves P .. 2P-1, inner nodes 1 .. P-1 (node k's children: 2k, 2k+1).
    localparam integer LEVELS = (N > 1) ? $clog2(N) : 0;
    localparam integer P = 1 << LEVELS;

    // Word 0 is unused and tied off: with N = 1 the arrays would otherwise
    // have one word, which Icarus 11 takes for an alias of in_v and aborts on.
    wire signed [VW-1:0]    node_v   [0:2*P-1] /* verilator split_var */;
    wire [CLS_W-1:0]        node_idx [0:2*P-1] /* verilator split_var */;
    wire                    node_ok  [0:2*P-1] /* verilator split_var */;
    assign node_v[0] = {VW{1'b0}};
    assign node_idx[0] = {CLS_W{1'b0}};
    assign node_ok[0] = 1'b0;

    genvar k;
    generate
        for (k = 0; k < P; k = k + 1) begin : g_leaf
            if (k < N) begin : g_value
                assign node_v[P + k] = $signed(in_v[k*VW +: VW]);
                assign node_ok[P + k] = 1'b1;
            end else begin : g_missing
                assign node_v[P + k] = {VW{1'b0}};
                assign node_ok[P + k] = 1'b0;
            end
            assign node_idx[P + k] = k[CLS_W-1:0];
        end
        for (k = 1; k < P; k = k + 1) begin : g_node
            wire right = node_ok[2*k + 1] && (!node_ok[2*k] || (node_v[2*k + 1] > node_v[2*k]));
            assign node_v[k] = right ? node_v[2*k + 1] : node_v[2*k];
            assign node_idx[k] = right ? node_idx[2*k + 1] : node_idx[2*k];
            assign node_ok[k] = node_ok[2*k] || node_ok[2*k + 1];
        end
    endgenerate

    // The root: node 1, or the only leaf when N = 1 (P = 1).
    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
        end else begin
            out_valid <= in_valid;
        end
    end
    always @(posedge clk) begin
        if (in_valid) begin
            out_class <= node_idx[1];
            out_v <= in_v;
        end
    end

    // The winner's value and flag are only needed inside the tree.
    wire unused_root = ^{node_v[1], node_ok[1], node_v[0], node_idx[0], node_ok[0]};

endmodule
`default_nettype wire
