`default_nettype none
// ttfs_readout: logit stream -> one result beat per image.
//
// Input: N logit beats {in_last = 0, in_idx = i, in_v = V_i (signed, VW bits)}
// in index order i = 0 .. N-1, then one beat with in_last = 1 (in_idx, in_v
// ignored). Output: one beat per image with
//   res_class  = first index of the maximum logit (ties to the lower index),
//   res_logits = all logits, logit i at [i*VW +: VW].
//
// Timing: the argmax is tracked as the logits arrive; res_valid rises the
// cycle after the last beat is accepted. The logit registers are the result
// register: in_ready = !res_valid || res_ready, so the next image's first
// beat can be accepted in the same cycle as the result transfer (N + 1 input
// beats per image, no bubble). After each result transfer the logit
// registers clear to 0.
//
// Malformed input: a beat with in_idx >= N is ignored; a logit that never
// arrives reads 0 (and does not take part in the argmax; an image with no
// logits gives class 0). Indices out of order, in_idx >= N or a number of
// logit beats other than N set `error`, which sticks until rst.
// CLS_W must hold N - 1.
module ttfs_readout #(
    parameter integer N = 10,
    parameter integer VW = 24,
    parameter integer CLS_W = 4
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire               in_last,
    input  wire [CLS_W-1:0]   in_idx,
    input  wire signed [VW-1:0] in_v,
    output reg                res_valid,
    input  wire               res_ready,
    output reg  [CLS_W-1:0]   res_class,
    output reg  [N*VW-1:0]    res_logits,
    output reg                error
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (N < 1) begin : g_check_n
`ifdef __ICARUS__
            localparam integer STOP = ttfs_readout_N_must_be_1_or_more;
`else
            $error("ttfs_readout: N must be 1 or more");
            ttfs_readout_N_must_be_1_or_more stop ();
`endif
        end
        if (VW < 1) begin : g_check_vw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_readout_VW_must_be_1_or_more;
`else
            $error("ttfs_readout: VW must be 1 or more");
            ttfs_readout_VW_must_be_1_or_more stop ();
`endif
        end
        if (CLS_W < 1 || CLS_W > 31 || ((N - 1) >> CLS_W) != 0) begin : g_check_cls_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_readout_CLS_W_must_be_1_to_31_and_hold_N_minus_1;
`else
            $error("ttfs_readout: CLS_W must be 1 to 31 and hold N minus 1");
            ttfs_readout_CLS_W_must_be_1_to_31_and_hold_N_minus_1 stop ();
`endif
        end
    endgenerate

    localparam integer N_I = N;
    localparam [CLS_W:0] N_C = N_I[CLS_W:0];

    reg signed [VW-1:0] best_v;
    reg [CLS_W-1:0]     best_idx;
    reg                 have_best;
    reg [CLS_W:0]       cnt; // logit beats so far in this image (saturates at N)

    assign in_ready = !res_valid || res_ready;

    wire take = in_valid && in_ready;
    wire res_fire = res_valid && res_ready;
    wire logit = take && !in_last;
    wire in_range = {1'b0, in_idx} < N_C;
    wire better = !have_best || (in_v > best_v)
        || ((in_v == best_v) && (in_idx < best_idx));

    genvar g;
    generate
        for (g = 0; g < N; g = g + 1) begin : g_slot
            localparam integer GI = g;
            localparam [CLS_W-1:0] G_IDX = GI[CLS_W-1:0];
            always @(posedge clk) begin
                if (rst) res_logits[g*VW +: VW] <= {VW{1'b0}};
                else if (logit && in_idx == G_IDX) res_logits[g*VW +: VW] <= $unsigned(in_v);
                else if (res_fire) res_logits[g*VW +: VW] <= {VW{1'b0}};
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            res_valid <= 1'b0;
            res_class <= {CLS_W{1'b0}};
            error <= 1'b0;
            best_v <= {VW{1'b0}};
            best_idx <= {CLS_W{1'b0}};
            have_best <= 1'b0;
            cnt <= {(CLS_W + 1){1'b0}};
        end else begin
            if (res_fire) res_valid <= 1'b0;
            if (take && in_last) begin
                res_valid <= 1'b1;
                res_class <= have_best ? best_idx : {CLS_W{1'b0}};
                have_best <= 1'b0;
                cnt <= {(CLS_W + 1){1'b0}};
                if (cnt != N_C) error <= 1'b1;
            end else if (logit) begin
                if ({1'b0, in_idx} != cnt || !in_range) error <= 1'b1;
                if (cnt != N_C) cnt <= cnt + 1'b1;
                if (in_range && better) begin
                    best_v <= in_v;
                    best_idx <= in_idx;
                    have_best <= 1'b1;
                end
            end
        end
    end

endmodule
`default_nettype wire
