`default_nettype none
// ttfs_block_serializer: the output end of a layer, shared by
// ttfs_dense_layer and ttfs_conv_layer: takes one block of P potentials at
// a time and emits its selected lanes as output beats, one per cycle, then
// (after an image's last block) the `last` beat.
//
// Taking a block: at an edge with take = 1 (the caller asserts it only while
// busy = 0) the serializer holds blk_v (lane l at [l*VW +: VW], signed), the
// lanes to emit and blk_base, the output index of lane 0. Lanes emitted:
// those with blk_lanes[l] = 1 (lanes that hold a neuron) and, in a hidden
// layer (HIDDEN = 1), V >= BETA (exactly the neurons with q > 0); in the
// output layer every lane of blk_lanes. blk_last = 1 adds the `last` beat
// after the block's lanes.
// Emitting: lowest lane first; lane l's beat has out_idx = blk_base +
// l*LANE_STRIDE (modulo 2^IDX_OUT_W; the caller's indices fit), out_q =
// clamp(floor(V / BETA), 0, 2^QOUT_W - 1) (hidden; 0 otherwise) and out_v = V
// (output layer; 0 otherwise). The `last` beat has out_last = 1 and
// meaningless idx/q/v.
// busy = 1 while lanes or the `last` beat of the held block are still to be
// emitted: the caller's pipeline stalls then (no buffer is needed). A block
// with nothing to emit leaves busy = 0: it costs the take cycle only.
// Timing: a beat leaves the selection in the cycle after the take (or after
// the previous beat), passes an emit register and, in a hidden layer, one
// ttfs_fire (LAT_FIRE = ceil(QOUT_W / FIRE_SPS) + 1 cycles); out_* are
// registers, held while out_valid && !out_ready, and the whole path (the
// selection, the emit register and the fire pipeline) stalls while they
// wait.
//
// Parameters: P (>= 1), VW, IDX_OUT_W (>= 1), LANE_STRIDE (>= 1: 1 for a
// dense layer, the channel stride of a convolution's output indices),
// HIDDEN, QOUT_W, BETA (>= 1 in a hidden layer), FIRE_SPS (ttfs_fire's SPS).
module ttfs_block_serializer #(
    parameter integer P = 2,
    parameter integer VW = 24,
    parameter integer IDX_OUT_W = 4,
    parameter integer LANE_STRIDE = 1,
    parameter integer HIDDEN = 1,
    parameter integer QOUT_W = 8,
    parameter integer BETA = 1,
    parameter integer FIRE_SPS = 1
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   take,
    input  wire [P*VW-1:0]        blk_v,
    input  wire [P-1:0]           blk_lanes,
    input  wire                   blk_last,
    input  wire [IDX_OUT_W-1:0]   blk_base,
    output wire                   busy,
    output wire                   out_valid,
    input  wire                   out_ready,
    output wire                   out_last,
    output wire [IDX_OUT_W-1:0]   out_idx,
    output wire [QOUT_W-1:0]      out_q,
    output wire signed [VW-1:0]   out_v
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (P < 1) begin : g_check_p
`ifdef __ICARUS__
            localparam integer STOP = ttfs_block_serializer_P_must_be_1_or_more;
`else
            $error("ttfs_block_serializer: P must be 1 or more");
            ttfs_block_serializer_P_must_be_1_or_more stop ();
`endif
        end
        if (VW < 1 || IDX_OUT_W < 1 || QOUT_W < 1) begin : g_check_widths
`ifdef __ICARUS__
            localparam integer STOP = ttfs_block_serializer_VW_IDX_OUT_W_and_QOUT_W_must_be_1_or_more;
`else
            $error("ttfs_block_serializer: VW IDX_OUT_W and QOUT_W must be 1 or more");
            ttfs_block_serializer_VW_IDX_OUT_W_and_QOUT_W_must_be_1_or_more stop ();
`endif
        end
        if (LANE_STRIDE < 1) begin : g_check_stride
`ifdef __ICARUS__
            localparam integer STOP = ttfs_block_serializer_LANE_STRIDE_must_be_1_or_more;
`else
            $error("ttfs_block_serializer: LANE_STRIDE must be 1 or more");
            ttfs_block_serializer_LANE_STRIDE_must_be_1_or_more stop ();
`endif
        end
        if (HIDDEN != 0 && (BETA < 1 || FIRE_SPS < 1)) begin : g_check_beta
`ifdef __ICARUS__
            localparam integer STOP = ttfs_block_serializer_BETA_and_FIRE_SPS_must_be_1_or_more_in_a_hidden_layer;
`else
            $error("ttfs_block_serializer: BETA and FIRE_SPS must be 1 or more in a hidden layer");
            ttfs_block_serializer_BETA_and_FIRE_SPS_must_be_1_or_more_in_a_hidden_layer stop ();
`endif
        end
    endgenerate

    localparam integer RB = $clog2(BETA + 1);        // bits of BETA
    localparam integer CW = ((VW > RB) ? VW : RB) + 1;

    function [CW-1:0] to_cw;
        input integer x;
        integer i;
        begin
            to_cw = {CW{1'b0}};
            for (i = 0; i < CW && i < 31; i = i + 1) to_cw[i] = x[i];
        end
    endfunction

    // Lane l's index offset, l * LANE_STRIDE at IDX_OUT_W bits.
    function [IDX_OUT_W-1:0] lane_offset;
        input integer lane;
        integer i;
        integer x;
        begin
            x = lane * LANE_STRIDE;
            lane_offset = {IDX_OUT_W{1'b0}};
            for (i = 0; i < IDX_OUT_W && i < 31; i = i + 1) lane_offset[i] = x[i];
        end
    endfunction

    localparam [CW-1:0] BETA_CW = to_cw(BETA);

    // ---- selection ---------------------------------------------------------
    wire [P-1:0] blk_sel;
    genvar l;
    generate
        for (l = 0; l < P; l = l + 1) begin : g_sel
            if (HIDDEN != 0) begin : g_hid
                // q > 0  <=>  V >= BETA; compared in CW > VW bits.
                wire signed [CW-1:0] v_ext = $signed({{(CW - VW){blk_v[l*VW + VW - 1]}}, blk_v[l*VW +: VW]});
                assign blk_sel[l] = blk_lanes[l] && (v_ext >= $signed(BETA_CW));
            end else begin : g_all
                assign blk_sel[l] = blk_lanes[l];
            end
        end
    endgenerate

    reg [P-1:0]          smask;   // lanes of the held block still to emit
    reg                  spend;   // `last` beat pending after the held block
    reg [P*VW-1:0]       sdata;
    reg [IDX_OUT_W-1:0]  sbase;
    wire                 ser_take;  // the beat on ser_* is taken this cycle

    assign busy = (smask != {P{1'b0}}) || spend;

    always @(posedge clk) begin
        if (rst) begin
            smask <= {P{1'b0}};
            spend <= 1'b0;
        end else if (take) begin
            smask <= blk_sel;
            spend <= blk_last;
        end else if (busy && ser_take) begin
            if (smask != {P{1'b0}}) smask <= smask & (smask - 1'b1);
            else spend <= 1'b0;
        end
    end
    always @(posedge clk) begin
        if (take) begin
            sdata <= blk_v;
            sbase <= blk_base;
        end
    end

    // Lowest pending lane.
    reg [IDX_OUT_W-1:0] sel_off;
    reg [VW-1:0]        sel_val;
    integer li;
    always @(*) begin
        sel_off = {IDX_OUT_W{1'b0}};
        sel_val = sdata[VW-1:0];
        for (li = P - 1; li >= 0; li = li - 1) begin
            if (smask[li]) begin
                sel_off = lane_offset(li);
                sel_val = sdata[li*VW +: VW];
            end
        end
    end

    wire                 ser_valid = busy;
    wire                 ser_last = (smask == {P{1'b0}});
    wire [IDX_OUT_W-1:0] ser_idx = sbase + sel_off;

    // ---- emit register, then fire (hidden) or out_* (output layer) ---------
    wire pce = !out_valid || out_ready;
    assign ser_take = pce;

    reg                 e_valid;
    reg                 e_last;
    reg [IDX_OUT_W-1:0] e_idx;
    reg signed [VW-1:0] e_v;
    always @(posedge clk) begin
        if (rst) e_valid <= 1'b0;
        else if (pce) e_valid <= ser_valid;
    end
    always @(posedge clk) begin
        if (pce) begin
            e_last <= ser_last;
            e_idx <= ser_idx;
            e_v <= $signed(sel_val);
        end
    end

    generate
        if (HIDDEN != 0) begin : g_fire
            ttfs_fire #(
                .VW(VW), .QW(QOUT_W), .BETA(BETA), .SPS(FIRE_SPS),
                .TAG_W(IDX_OUT_W + 1)
            ) u_fire (
                .clk(clk), .rst(rst), .ce(pce),
                .in_valid(e_valid), .in_v(e_v), .in_tag({e_last, e_idx}),
                .out_valid(out_valid), .out_q(out_q), .out_tag({out_last, out_idx}));
            assign out_v = {VW{1'b0}};
        end else begin : g_out
            assign out_valid = e_valid;
            assign out_last = e_last;
            assign out_idx = e_idx;
            assign out_v = e_v;
            assign out_q = {QOUT_W{1'b0}};
        end
    endgenerate

endmodule
`default_nettype wire
