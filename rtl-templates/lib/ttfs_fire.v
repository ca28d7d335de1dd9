`default_nettype none
// ttfs_fire: the firing rule of a hidden TTFS neuron for a constant beta,
//
//     q = clamp(floor(V / BETA), 0, T),   T = 2^QW - 1,
//
// i.e. q = 0 for V < BETA (negative V included), q = T for V >= T*BETA.
// (The neuron spikes at tick T - q of its window; q = 0 means no spike.)
//
// Pipelined restoring division by the constant BETA, no `/` operator:
//   stage 0 clamps V to V' in [0, T*BETA] (V' = T*BETA gives exactly q = T)
//           and splits it into the partial remainder R = V' >> QW (< BETA,
//           because T*BETA < 2^QW*BETA) and the dividend bits L = V'[QW-1:0];
//   then QW long-division steps, most significant quotient bit first:
//           X = {R, msb(L)};  if X >= BETA then R = X - BETA, bit = 1
//           else R = X, bit = 0;  L = {L << 1, bit}.
//   After QW steps L holds q. X < 2*BETA, so X - BETA fits RB + 1 bits as a
//   signed number and its sign bit is the comparison (one subtractor/step).
// SPS steps are done per pipeline stage (combinationally chained), so there
// are NS = ceil(QW / SPS) division stages.
//
// Widths are sized from the parameters: RB = bits of BETA (remainder), the
// clamp compares in max(VW, QW + RB) + 1 bits, constants are built in that
// width (T*BETA is never computed in 32-bit integer arithmetic).
// Registers per instance: (NS + 1) * (RB + QW) data bits plus (NS + 1) *
// (1 + TAG_W) valid/tag bits.
//
// Timing: LATENCY = NS + 1 clock-enabled cycles. A beat presented on in_* in
// a cycle with ce = 1 appears on out_* exactly LATENCY cycles with ce = 1
// later (out_valid marks it; out_q/out_tag are meaningful when out_valid).
// One input per cycle, no back-pressure: tie ce to 1'b1 for a free-running
// pipeline; ce = 0 freezes every stage (used by ttfs_dense_layer to stall its
// fire path while the event serializer is busy).
// Reset (rst, synchronous, active high) clears the valid bits only.
//
// Parameters:
//   VW     width of the signed potential in_v (>= 1)
//   QW     output bits (>= 1), T = 2^QW - 1
//   BETA   positive integer scale (1 .. 2^31 - 1)
//   SPS    division steps per pipeline stage (>= 1; QW or more: one stage);
//          1 is the fastest clock
//   TAG_W  width of the user tag carried alongside (>= 1)
module ttfs_fire #(
    parameter integer VW = 24,
    parameter integer QW = 8,
    parameter integer BETA = 1003,
    parameter integer SPS = 1,
    parameter integer TAG_W = 1
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 ce,
    input  wire                 in_valid,
    input  wire signed [VW-1:0] in_v,
    input  wire [TAG_W-1:0]     in_tag,
    output wire                 out_valid,
    output wire [QW-1:0]        out_q,
    output wire [TAG_W-1:0]     out_tag
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (VW < 1) begin : g_check_vw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_fire_VW_must_be_1_or_more;
`else
            $error("ttfs_fire: VW must be 1 or more");
            ttfs_fire_VW_must_be_1_or_more stop ();
`endif
        end
        if (QW < 1) begin : g_check_qw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_fire_QW_must_be_1_or_more;
`else
            $error("ttfs_fire: QW must be 1 or more");
            ttfs_fire_QW_must_be_1_or_more stop ();
`endif
        end
        if (BETA < 1) begin : g_check_beta
`ifdef __ICARUS__
            localparam integer STOP = ttfs_fire_BETA_must_be_1_or_more;
`else
            $error("ttfs_fire: BETA must be 1 or more");
            ttfs_fire_BETA_must_be_1_or_more stop ();
`endif
        end
        if (SPS < 1) begin : g_check_sps
`ifdef __ICARUS__
            localparam integer STOP = ttfs_fire_SPS_must_be_1_or_more;
`else
            $error("ttfs_fire: SPS must be 1 or more");
            ttfs_fire_SPS_must_be_1_or_more stop ();
`endif
        end
        if (TAG_W < 1) begin : g_check_tag_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_fire_TAG_W_must_be_1_or_more;
`else
            $error("ttfs_fire: TAG_W must be 1 or more");
            ttfs_fire_TAG_W_must_be_1_or_more stop ();
`endif
        end
    endgenerate

    // Number of division stages and the fixed latency.
    // (SPS < 1 is refused above; NS = QW then only keeps the elaboration
    // going until the check has spoken.)
    localparam integer NS = (SPS >= 1) ? (QW + SPS - 1) / SPS : QW;
    localparam integer LATENCY = NS + 1;

    // Bits of BETA: every partial remainder (< BETA) fits in RB bits.
    localparam integer RB = $clog2(BETA + 1);
    // Clamped dividend V' in [0, T*BETA] fits in DW bits.
    localparam integer DW = QW + RB;
    // Signed comparison width for the clamp, strictly wider than VW and DW.
    localparam integer CW = ((VW > DW) ? VW : DW) + 1;

    // An integer (>= 0, < 2^31) as a W-bit vector, without 32-bit truncation
    // or width mismatches.
    function [CW-1:0] widen_cw;
        input integer x;
        integer k; // not `i`: that is the genvar of the division steps
        begin
            widen_cw = {CW{1'b0}};
            for (k = 0; k < CW && k < 31; k = k + 1) widen_cw[k] = x[k];
        end
    endfunction

    function [RB:0] widen_rb1;
        input integer x;
        integer k;
        begin
            widen_rb1 = {(RB + 1){1'b0}};
            for (k = 0; k < RB + 1 && k < 31; k = k + 1) widen_rb1[k] = x[k];
        end
    endfunction

    localparam [CW-1:0] BETA_CW = widen_cw(BETA);
    localparam [CW-1:0] T_CW = {{(CW - QW){1'b0}}, {QW{1'b1}}};
    localparam [CW-1:0] TBETA_CW = T_CW * BETA_CW;
    localparam [RB:0] BETA_RB1 = widen_rb1(BETA);

    // The data registers move only while something is in flight: an idle
    // unit toggles nothing (and costs nothing in a cycle-based simulator).
    // Outputs are meaningful only with out_valid, so what they hold while
    // idle does not matter.
    reg  [LATENCY-1:0] vpipe;
    wire               ce_data = ce && (in_valid || (vpipe != {LATENCY{1'b0}}));

    // ---- stage 0: clamp to [0, T*BETA], split into R and L -----------------
    wire signed [CW-1:0] v_ext = $signed({{(CW - VW){in_v[VW-1]}}, in_v});
    wire v_neg = v_ext[CW-1];
    wire v_sat = !v_neg && (v_ext >= $signed(TBETA_CW));
    wire [CW-1:0] v_cl = v_neg ? {CW{1'b0}} : (v_sat ? TBETA_CW : $unsigned(v_ext));

    reg [RB-1:0] r0;
    reg [QW-1:0] l0;
    always @(posedge clk) begin
        if (ce_data) begin
            r0 <= v_cl[DW-1:QW];
            l0 <= v_cl[QW-1:0];
        end
    end

    // Low bits of v_cl are all used above; its top bits (>= DW) are zero for
    // a clamped value and are only kept for the comparison.
    wire unused_v_cl_top = ^v_cl[CW-1:DW];

    // ---- division steps ----------------------------------------------------
    // rw[i] / lw[i]: state before step i (i = 0 .. QW - 1).
    wire [RB-1:0] rw [0:QW-1] /* verilator split_var */;
    wire [QW-1:0] lw [0:QW-1] /* verilator split_var */;
    wire [QW-1:0] q_final;

    assign rw[0] = r0;
    assign lw[0] = l0;

    genvar i;
    generate
        for (i = 0; i < QW; i = i + 1) begin : g_step
            // X = {R, msb(L)}; D = X - BETA in RB + 1 bits (signed, exact).
            wire [RB:0] x = {rw[i], lw[i][QW-1]};
            wire [RB:0] d = x - BETA_RB1;
            wire        bit_q = !d[RB];
            wire [QW-1:0] l_next;
            if (QW == 1) begin : g_l1
                assign l_next = bit_q;
            end else begin : g_ln
                assign l_next = {lw[i][QW-2:0], bit_q};
            end

            if (i == QW - 1) begin : g_last
                // Last step: only the quotient is needed.
                reg [QW-1:0] l_q;
                always @(posedge clk) begin
                    if (ce_data) l_q <= l_next;
                end
                assign q_final = l_q;
                wire unused_rem = ^d[RB-1:0];
            end else begin : g_mid
                wire [RB-1:0] r_next = bit_q ? d[RB-1:0] : x[RB-1:0];
                if (((i + 1) % SPS) == 0) begin : g_reg
                    reg [RB-1:0] r_q;
                    reg [QW-1:0] l_q;
                    always @(posedge clk) begin
                        if (ce_data) begin
                            r_q <= r_next;
                            l_q <= l_next;
                        end
                    end
                    assign rw[i + 1] = r_q;
                    assign lw[i + 1] = l_q;
                end else begin : g_comb
                    assign rw[i + 1] = r_next;
                    assign lw[i + 1] = l_next;
                end
            end
        end
    endgenerate

    assign out_q = q_final;

    // ---- valid / tag pipeline (LATENCY stages) -----------------------------
    reg [LATENCY*TAG_W-1:0] tpipe;
    always @(posedge clk) begin
        if (rst) begin
            vpipe <= {LATENCY{1'b0}};
        end else if (ce) begin
            vpipe <= {vpipe[LATENCY-2:0], in_valid};
        end
    end
    always @(posedge clk) begin
        if (ce_data) tpipe <= {tpipe[(LATENCY-1)*TAG_W-1:0], in_tag};
    end

    assign out_valid = vpipe[LATENCY-1];
    assign out_tag = tpipe[LATENCY*TAG_W-1:(LATENCY-1)*TAG_W];

endmodule
`default_nettype wire
