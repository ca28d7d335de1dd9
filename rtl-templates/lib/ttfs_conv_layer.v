`default_nettype none
// ttfs_conv_layer: one hidden 2-D convolution of the event-driven TTFS
// accelerator, with an optional max pooling fused into its fire pass
// (docs/hardware.md).
//
// Semantics (docs/net-json.md, discrete): for output channel co at position
// (oy, ox) of the H_OUT x W_OUT convolution (zero padding PT on top, PL on the
// left, stride SH x SW, kernel KH x KW, group 1),
//   V[co][oy][ox] = b[co] (or the bias map's b[co][oy][ox], BIAS_MAP = 1)
//                 + sum over inputs (c, y, x) of W[co][c][ky][kx] * q[c][y][x]
//   with y = oy*SH + ky - PT, x = ox*SW + kx - PL;
//   then pooling PKH x PKW (stride = window, no padding; 1 x 1 = none) over
//   the POOL_H = floor(H_OUT / PKH) x POOL_W = floor(W_OUT / PKW) windows:
//   q[co][py][px] = clamp(floor(max over the window of V / BETA), 0, 2^QOUT_W - 1)
//   (the first spike of the pool wins: q is monotonic in V, so the largest V
//   gives the largest q). Conv outputs outside every window (the remainder
//   rows and columns when H_OUT or W_OUT is not a multiple of the pool) are
//   never computed: the layer keeps H_USE = POOL_H*PKH by W_USE = POOL_W*PKW
//   positions.
// One output event (index, q) per pooled neuron with q > 0, then one beat
// with out_last = 1 ends the image.
//
// Input events: in_idx packs the coordinates {c, y, x} (x in the low XBI =
// nbits(W_IN) bits, y in the next YBI = nbits(H_IN), c in the top CBI =
// nbits(C_IN); nbits(n) = max(1, clog2(n))), in_q the unsigned value; any
// order; q = 0 events are harmless. Output index: OUT_FLAT = 1 gives the
// flat index (co*POOL_H + py)*POOL_W + px (for a dense layer after a
// flatten); OUT_FLAT = 0 packs {co, py, px} like the input (for another
// convolution).
//
// Organisation: the C_OUT channels are G = ceil(C_OUT / P) blocks of P lanes;
// weights are shared across positions. Per event (c, y, x, q) the layer
// visits the taps (ky, kx) that reach a kept output position (ky from the
// first valid one in steps of SH, then kx likewise) and, for each, the G
// blocks: one operation per block and tap adds the P lane products W*q to
// the block's potentials at that position. An event that reaches no kept
// position costs one cycle. The fire pass visits the pooled positions in
// raster order (py, then px), for each the G blocks, for each the window's
// PKH*PKW positions: each operation reads a block of potentials (and writes
// its bias back, ready for the next image); the lane-wise maximum over the
// window goes to the serializer, which emits the lanes with q > 0, lowest
// first. So output events come in the order (py, px, co).
// Pipeline: input register -> decode register (an event's tap ranges and
// first addresses) ->
// issue (weight address) -> R (weight word, q; potential memory addressed)
// -> X (weight word, q and potentials registered, products computed; bias
// memory addressed) -> M (products, old potentials; new potentials
// written; pool maximum) -> ttfs_block_serializer (selection, emit register, one
// ttfs_fire) -> out_*. The pieces shared with ttfs_dense_layer are
// ttfs_mac_lanes, ttfs_potential_ram (with forwarding: neighbouring events
// touch the same words) and ttfs_block_serializer.
//
// Memories: potentials in a ttfs_potential_ram of H_USE*W_USE*G words of
// P*VW bits (word (oy*W_USE + ox)*G + g); after the fire pass they hold the
// biases again; after reset the layer writes them first (H_USE*W_USE*G
// cycles). Weights: outside the layer (ttfs_weight_rom or ttfs_weight_spram),
// C_IN*KH*KW*G words of P*WB bits, word ((c*KH + ky)*KW + kx)*G + g holding
// the weights from input channel c to block g's P output channels (lane l
// at [l*WB +: WB]), read through w_rd_* like ttfs_dense_layer's (registered
// read, held until the next read). Biases: BIAS_FILE, G words (BIAS_MAP = 0)
// or H_USE*W_USE*G words in the potentials' order (BIAS_MAP = 1, a bias per
// position: exact borders after an input offset was folded into a padded
// convolution) of P*BW bits.
//
// Cycle counts (no output back-pressure, the next input beat valid when the
// layer asks for it), with A = sum over the image's events of
// max(1, taps(event) * G), F = H_USE*W_USE*G fire operations, E = output
// events, LAT_FIRE = ceil(QOUT_W / FIRE_SPS) + 1:
//     LATENCY = A + F + E + LAT_FIRE + 7
//       from the first cycle an image's first beat is valid at the input of
//       an idle layer to the cycle of its `last` output beat, both included
//       (after reset the H_USE*W_USE*G bias-load cycles come first);
//     BUSY = A + F + E + 1
//       between the `last` beats of consecutive images.
// taps(event) = nky * nkx: nky counts ky in [0, KH) with (y + PT - ky)
// divisible by SH and 0 <= (y + PT - ky) / SH < H_USE (likewise nkx).
//
// Parameters: C_IN, H_IN, W_IN, C_OUT, KH, KW (>= 1), SH, SW (powers of
// two), PT < KH, PL < KW, H_OUT, W_OUT (the convolution's output size),
// PKH, PKW (pool, >= 1, at most H_OUT and W_OUT), P lanes (1..C_OUT), WB,
// BW, QIN_W, VW (as ttfs_dense_layer: arithmetic modulo 2^VW, the final
// potentials fit), QOUT_W, BETA, FIRE_SPS, MUL_OPERATOR, BIAS_MAP, OUT_FLAT,
// IDX_IN_W (= CBI + YBI + XBI), IDX_OUT_W (OUT_FLAT = 0: nbits(C_OUT) +
// nbits(POOL_H) + nbits(POOL_W); 1: holds C_OUT*POOL_H*POOL_W - 1),
// BIAS_FILE.
module ttfs_conv_layer #(
    parameter integer C_IN = 1,
    parameter integer H_IN = 4,
    parameter integer W_IN = 4,
    parameter integer C_OUT = 2,
    parameter integer KH = 3,
    parameter integer KW = 3,
    parameter integer SH = 1,
    parameter integer SW = 1,
    parameter integer PT = 1,
    parameter integer PL = 1,
    parameter integer H_OUT = 4,
    parameter integer W_OUT = 4,
    parameter integer PKH = 1,
    parameter integer PKW = 1,
    parameter integer P = 2,
    parameter integer WB = 8,
    parameter integer BW = 16,
    parameter integer QIN_W = 8,
    parameter integer VW = 24,
    parameter integer QOUT_W = 8,
    parameter integer BETA = 1,
    parameter integer FIRE_SPS = 1,
    parameter integer MUL_OPERATOR = 1,
    parameter integer BIAS_MAP = 0,
    parameter integer OUT_FLAT = 0,
    parameter integer IDX_IN_W = 5,
    parameter integer IDX_OUT_W = 5,
    parameter BIAS_FILE = ""
) (
    input  wire                        clk,
    input  wire                        rst,
    // input event stream
    input  wire                        in_valid,
    output wire                        in_ready,
    input  wire                        in_last,
    input  wire [IDX_IN_W-1:0]         in_idx,
    input  wire [QIN_W-1:0]            in_q,
    // output stream
    output wire                        out_valid,
    input  wire                        out_ready,
    output wire                        out_last,
    output wire [IDX_OUT_W-1:0]        out_idx,
    output wire [QOUT_W-1:0]           out_q,
    // weight memory read port (see "Memories" above)
    output wire                        w_rd_en,
    output wire [((C_IN * KH * KW * ((C_OUT + P - 1) / P) > 1) ?
                  $clog2(C_IN * KH * KW * ((C_OUT + P - 1) / P)) : 1) - 1:0] w_rd_addr,
    input  wire [P*WB-1:0]             w_rd_data
);

    // ---- derived constants -------------------------------------------------
    function integer nbits;
        input integer n;
        begin
            nbits = (n > 1) ? $clog2(n) : 1;
        end
    endfunction

    localparam integer G = (P >= 1) ? (C_OUT + P - 1) / P : 1;
    localparam integer POOL_H = (PKH >= 1) ? H_OUT / PKH : 1;
    localparam integer POOL_W = (PKW >= 1) ? W_OUT / PKW : 1;
    localparam integer H_USE = POOL_H * PKH;
    localparam integer W_USE = POOL_W * PKW;
    localparam integer NPOS = H_USE * W_USE;
    localparam integer PWORDS = NPOS * G;
    localparam integer PAW = nbits(PWORDS);
    localparam integer GW = nbits(G);
    localparam integer WDEPTH = C_IN * KH * KW * G;
    localparam integer WAW = nbits(WDEPTH);
    localparam integer BDEPTH = (BIAS_MAP != 0) ? PWORDS : G;
    localparam integer BAW = nbits(BDEPTH);
    localparam integer XBI = nbits(W_IN);
    localparam integer YBI = nbits(H_IN);
    localparam integer CBI = nbits(C_IN);
    localparam integer XBO = nbits(POOL_W);
    localparam integer YBO = nbits(POOL_H);
    localparam integer CBO = nbits(C_OUT);
    localparam integer LSH = $clog2(SH);
    localparam integer LSW = $clog2(SW);
    localparam integer KCW = nbits(((KH > KW) ? KH : KW) + 1);   // tap counts 0..K
    // Signed width of the tap-range arithmetic: holds H_IN + PT, KH and
    // (H_USE - 1) * SH (likewise for x) with a sign.
    localparam integer GEO = nbits(H_IN + W_IN + PT + PL + KH + KW + H_USE * SH + W_USE * SW + 2) + 2;
    localparam integer LAST_LANES = C_OUT - (G - 1) * P;
    localparam integer LANE_STRIDE = (OUT_FLAT != 0) ? POOL_H * POOL_W : (1 << (YBO + XBO));

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (C_IN < 1 || H_IN < 1 || W_IN < 1 || C_OUT < 1) begin : g_check_shape
`ifdef __ICARUS__
            localparam integer STOP = ttfs_conv_layer_C_IN_H_IN_W_IN_and_C_OUT_must_be_1_or_more;
`else
            $error("ttfs_conv_layer: C_IN H_IN W_IN and C_OUT must be 1 or more");
            ttfs_conv_layer_C_IN_H_IN_W_IN_and_C_OUT_must_be_1_or_more stop ();
`endif
        end
        if (KH < 1 || KW < 1 || PT < 0 || PL < 0 || PT >= KH || PL >= KW) begin : g_check_kernel
`ifdef __ICARUS__
            localparam integer STOP = ttfs_conv_layer_KH_and_KW_must_be_1_or_more_and_PT_PL_below_them;
`else
            $error("ttfs_conv_layer: KH and KW must be 1 or more and PT PL below them");
            ttfs_conv_layer_KH_and_KW_must_be_1_or_more_and_PT_PL_below_them stop ();
`endif
        end
        if (SH < 1 || SW < 1 || (SH & (SH - 1)) != 0 || (SW & (SW - 1)) != 0) begin : g_check_stride
`ifdef __ICARUS__
            localparam integer STOP = ttfs_conv_layer_SH_and_SW_must_be_powers_of_two;
`else
            $error("ttfs_conv_layer: SH and SW must be powers of two");
            ttfs_conv_layer_SH_and_SW_must_be_powers_of_two stop ();
`endif
        end
        if (PKH < 1 || PKW < 1 || H_OUT < PKH || W_OUT < PKW) begin : g_check_pool
`ifdef __ICARUS__
            localparam integer STOP = ttfs_conv_layer_PKH_and_PKW_must_be_1_to_H_OUT_and_W_OUT;
`else
            $error("ttfs_conv_layer: PKH and PKW must be 1 to H_OUT and W_OUT");
            ttfs_conv_layer_PKH_and_PKW_must_be_1_to_H_OUT_and_W_OUT stop ();
`endif
        end
        if (P < 1 || P > C_OUT) begin : g_check_p
`ifdef __ICARUS__
            localparam integer STOP = ttfs_conv_layer_P_must_be_1_to_C_OUT;
`else
            $error("ttfs_conv_layer: P must be 1 to C_OUT");
            ttfs_conv_layer_P_must_be_1_to_C_OUT stop ();
`endif
        end
        if (WB < 1 || BW < 1 || QIN_W < 1 || VW < 1 || QOUT_W < 1 || BETA < 1 || FIRE_SPS < 1) begin : g_check_widths
`ifdef __ICARUS__
            localparam integer STOP = ttfs_conv_layer_WB_BW_QIN_W_VW_QOUT_W_BETA_and_FIRE_SPS_must_be_1_or_more;
`else
            $error("ttfs_conv_layer: WB BW QIN_W VW QOUT_W BETA and FIRE_SPS must be 1 or more");
            ttfs_conv_layer_WB_BW_QIN_W_VW_QOUT_W_BETA_and_FIRE_SPS_must_be_1_or_more stop ();
`endif
        end
        if (IDX_IN_W != CBI + YBI + XBI) begin : g_check_idx_in_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_conv_layer_IDX_IN_W_must_be_the_packed_input_coordinates_width;
`else
            $error("ttfs_conv_layer: IDX_IN_W must be the packed input coordinates width");
            ttfs_conv_layer_IDX_IN_W_must_be_the_packed_input_coordinates_width stop ();
`endif
        end
        if ((OUT_FLAT == 0 && IDX_OUT_W != CBO + YBO + XBO)
            || (OUT_FLAT != 0 && (IDX_OUT_W < 1 || IDX_OUT_W > 30 || ((C_OUT * POOL_H * POOL_W - 1) >> IDX_OUT_W) != 0))) begin : g_check_idx_out_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_conv_layer_IDX_OUT_W_must_fit_the_output_index;
`else
            $error("ttfs_conv_layer: IDX_OUT_W must fit the output index");
            ttfs_conv_layer_IDX_OUT_W_must_fit_the_output_index stop ();
`endif
        end
    endgenerate

    // Non-negative integer (< 2^31) to a vector of each width used below.
    function [GEO-1:0] to_geo;
        input integer x;
        integer i;
        begin
            to_geo = {GEO{1'b0}};
            for (i = 0; i < GEO && i < 31; i = i + 1) to_geo[i] = x[i];
        end
    endfunction
    function [WAW-1:0] to_waw;
        input integer x;
        integer i;
        begin
            to_waw = {WAW{1'b0}};
            for (i = 0; i < WAW && i < 31; i = i + 1) to_waw[i] = x[i];
        end
    endfunction
    function [PAW-1:0] to_paw;
        input integer x;
        integer i;
        begin
            to_paw = {PAW{1'b0}};
            for (i = 0; i < PAW && i < 31; i = i + 1) to_paw[i] = x[i];
        end
    endfunction
    function [IDX_OUT_W-1:0] to_idx;
        input integer x;
        integer i;
        begin
            to_idx = {IDX_OUT_W{1'b0}};
            for (i = 0; i < IDX_OUT_W && i < 31; i = i + 1) to_idx[i] = x[i];
        end
    endfunction
    function [KCW-1:0] to_kc;
        input integer x;
        integer i;
        begin
            to_kc = {KCW{1'b0}};
            for (i = 0; i < KCW && i < 31; i = i + 1) to_kc[i] = x[i];
        end
    endfunction
    // Products by constants as sums of shifted copies (never a DSP block:
    // synth_ice40 -dsp and synth_ecp5 would map a `*` to one).
    function [WAW-1:0] cmul_waw;
        input [WAW-1:0] a;
        input integer k;
        integer i;
        begin
            cmul_waw = {WAW{1'b0}};
            for (i = 0; i < WAW && i < 31; i = i + 1)
                if (k[i]) cmul_waw = cmul_waw + (a << i);
        end
    endfunction
    function [PAW-1:0] cmul_paw;
        input [PAW-1:0] a;
        input integer k;
        integer i;
        begin
            cmul_paw = {PAW{1'b0}};
            for (i = 0; i < PAW && i < 31; i = i + 1)
                if (k[i]) cmul_paw = cmul_paw + (a << i);
        end
    endfunction
    // Lanes of the last block that hold channels.
    function [P-1:0] last_mask;
        input integer n;
        integer i;
        begin
            last_mask = {P{1'b0}};
            for (i = 0; i < P; i = i + 1) last_mask[i] = (i < n);
        end
    endfunction

    localparam [P-1:0] LAST_MASK = last_mask(LAST_LANES);
    function [GW-1:0] to_gw;
        input integer x;
        integer i;
        begin
            to_gw = {GW{1'b0}};
            for (i = 0; i < GW && i < 31; i = i + 1) to_gw[i] = x[i];
        end
    endfunction
    function [XBO-1:0] to_xbo;
        input integer x;
        integer i;
        begin
            to_xbo = {XBO{1'b0}};
            for (i = 0; i < XBO && i < 31; i = i + 1) to_xbo[i] = x[i];
        end
    endfunction
    function [YBO-1:0] to_ybo;
        input integer x;
        integer i;
        begin
            to_ybo = {YBO{1'b0}};
            for (i = 0; i < YBO && i < 31; i = i + 1) to_ybo[i] = x[i];
        end
    endfunction
    localparam [GW-1:0] G_LAST = to_gw(G - 1);
    localparam [PAW-1:0] PWORDS_LAST = to_paw(PWORDS - 1);

    localparam [1:0] K_BIAS = 2'd0;
    localparam [1:0] K_ACC = 2'd1;
    localparam [1:0] K_FIRE = 2'd2;

    localparam [1:0] S_LOAD = 2'd0;
    localparam [1:0] S_ACC = 2'd1;
    localparam [1:0] S_FIRE = 2'd2;

    // adv: every pipeline stage moves (the serializer is free); driven by the
    // serializer below.
    wire adv;

    // ---- decode: an event's taps and first addresses -----------------------
    // The tap range along one axis for input coordinate u (y or x): the
    // kernel offsets k in [0, K) with (u + PAD - k) divisible by S and
    // 0 <= (u + PAD - k) / S < USE, from the first (k_s) in steps of S; the
    // first output coordinate o_s = (u + PAD - k_s) / S.
    // The input register: an event waits here one cycle before its decode,
    // so that the decode's adders start from a register, not from the
    // upstream queue's block RAM (whose output alone takes most of a cycle).
    reg                i_valid;
    reg                i_last;
    reg [IDX_IN_W-1:0] i_idx;
    reg [QIN_W-1:0]    i_q;
    wire               i_take;   // the decode register takes the event this cycle

    assign in_ready = !i_valid || i_take;
    always @(posedge clk) begin
        if (rst) i_valid <= 1'b0;
        else if (in_valid && in_ready) i_valid <= 1'b1;
        else if (i_take) i_valid <= 1'b0;
    end
    always @(posedge clk) begin
        if (in_valid && in_ready) begin
            i_last <= in_last;
            i_idx <= in_idx;
            i_q <= in_q;
        end
    end

    wire [CBI-1:0] in_c;
    wire [YBI-1:0] in_y;
    wire [XBI-1:0] in_x;
    assign {in_c, in_y, in_x} = i_idx;

    wire signed [GEO-1:0] ry = $signed({{(GEO - YBI){1'b0}}, in_y}) + $signed(to_geo(PT));
    wire signed [GEO-1:0] rx = $signed({{(GEO - XBI){1'b0}}, in_x}) + $signed(to_geo(PL));
    wire signed [GEO-1:0] ky_lo = ry - $signed(to_geo((H_USE - 1) * SH));
    wire signed [GEO-1:0] kx_lo = rx - $signed(to_geo((W_USE - 1) * SW));
    wire signed [GEO-1:0] ky_min = (ky_lo > 0) ? ky_lo : $signed({GEO{1'b0}});
    wire signed [GEO-1:0] kx_min = (kx_lo > 0) ? kx_lo : $signed({GEO{1'b0}});
    wire signed [GEO-1:0] ky_max = (ry < $signed(to_geo(KH - 1))) ? ry : $signed(to_geo(KH - 1));
    wire signed [GEO-1:0] kx_max = (rx < $signed(to_geo(KW - 1))) ? rx : $signed(to_geo(KW - 1));
    wire signed [GEO-1:0] ky_s = ky_min + ((ry - ky_min) & $signed(to_geo(SH - 1)));
    wire signed [GEO-1:0] kx_s = kx_min + ((rx - kx_min) & $signed(to_geo(SW - 1)));
    wire signed [GEO-1:0] ky_span = (ky_max - ky_s) >>> LSH;
    wire signed [GEO-1:0] kx_span = (kx_max - kx_s) >>> LSW;
    wire signed [GEO-1:0] oy_s = (ry - ky_s) >>> LSH;
    wire signed [GEO-1:0] ox_s = (rx - kx_s) >>> LSW;
    wire                  dec_zero = (ky_s > ky_max) || (kx_s > kx_max);

    /* verilator lint_off UNUSEDSIGNAL */
    // Only the low bits of the (non-negative, in range) results are used.
    wire [GEO-1:0] ky_s_u = $unsigned(ky_s);
    wire [GEO-1:0] kx_s_u = $unsigned(kx_s);
    wire [GEO-1:0] ky_span_u = $unsigned(ky_span);
    wire [GEO-1:0] kx_span_u = $unsigned(kx_span);
    wire [GEO-1:0] oy_s_u = $unsigned(oy_s);
    wire [GEO-1:0] ox_s_u = $unsigned(ox_s);
    /* verilator lint_on UNUSEDSIGNAL */

    function [WAW-1:0] geo_waw;
        input [GEO-1:0] v;
        integer i;
        begin
            geo_waw = {WAW{1'b0}};
            for (i = 0; i < WAW && i < GEO; i = i + 1) geo_waw[i] = v[i];
        end
    endfunction
    function [PAW-1:0] geo_paw;
        input [GEO-1:0] v;
        integer i;
        begin
            geo_paw = {PAW{1'b0}};
            for (i = 0; i < PAW && i < GEO; i = i + 1) geo_paw[i] = v[i];
        end
    endfunction
    function [KCW-1:0] geo_kc;
        input [GEO-1:0] v;
        integer i;
        begin
            geo_kc = {KCW{1'b0}};
            for (i = 0; i < KCW && i < GEO; i = i + 1) geo_kc[i] = v[i];
        end
    endfunction

    wire [WAW-1:0] c_waw;
    generate
        if (WAW >= CBI) begin : g_c_wide
            assign c_waw = {{(WAW - CBI){1'b0}}, in_c};
        end else begin : g_c_narrow
            /* verilator lint_off UNUSEDSIGNAL */
            wire [CBI-1:0] c_all = in_c; // channels above C_IN - 1 never come
            /* verilator lint_on UNUSEDSIGNAL */
            assign c_waw = c_all[WAW-1:0];
        end
    endgenerate

    wire [WAW-1:0] dec_wt0 = cmul_waw(c_waw, KH * KW * G) + cmul_waw(geo_waw(ky_s_u), KW * G)
                             + cmul_waw(geo_waw(kx_s_u), G);
    wire [PAW-1:0] dec_pt0 = cmul_paw(geo_paw(oy_s_u), W_USE * G) + cmul_paw(geo_paw(ox_s_u), G);

    reg             d_valid;
    reg             d_last;
    reg             d_zero;
    reg [QIN_W-1:0] d_q;
    reg [KCW-1:0]   d_nky1;   // taps along y minus 1
    reg [KCW-1:0]   d_nkx1;   // taps along x minus 1
    reg [WAW-1:0]   d_wt0;
    reg [PAW-1:0]   d_pt0;
    wire            d_take;   // the controller finishes the decoded beat this cycle

    assign i_take = i_valid && (!d_valid || d_take);

    always @(posedge clk) begin
        if (rst) d_valid <= 1'b0;
        else if (i_take) d_valid <= 1'b1;
        else if (d_take) d_valid <= 1'b0;
    end
    always @(posedge clk) begin
        if (i_take) begin
            d_last <= i_last;
            d_zero <= dec_zero;
            d_q <= i_q;
            d_nky1 <= geo_kc(ky_span_u);
            d_nkx1 <= geo_kc(kx_span_u);
            d_wt0 <= dec_wt0;
            d_pt0 <= dec_pt0;
        end
    end

    // ---- controller --------------------------------------------------------
    reg [1:0]     state;
    // LOAD: potential word la (block lg) gets its bias.
    reg [PAW-1:0] la;
    reg [GW-1:0]  lg;
    // ACC: the op after `first` (the event's first op uses the decoded
    // addresses): block g of tap base wt (weights) / pt (potentials), in the
    // row that started at wrow / prow, cx more taps in this row, cy more rows.
    reg           first;
    reg [GW-1:0]  g;
    reg [WAW-1:0] wt;
    reg [WAW-1:0] wrow;
    reg [PAW-1:0] pt;
    reg [PAW-1:0] prow;
    reg [KCW-1:0] cx;
    reg [KCW-1:0] cy;
    // FIRE: the next fire op: window (fpy, fpx), block fg, offset (fdy, fdx);
    // fa its potential word, fwin / frow the words of its window's and its
    // window row's origin (block 0); ochan the index offset of its block's
    // lane 0, opos its pooled position's (flat indices only).
    reg [PAW-1:0]       fa;
    reg [PAW-1:0]       fwin;
    reg [PAW-1:0]       frow;
    reg [GW-1:0]        fg;
    reg [KCW-1:0]       fdy;
    reg [KCW-1:0]       fdx;
    reg [YBO-1:0]       fpy;
    reg [XBO-1:0]       fpx;
    reg [IDX_OUT_W-1:0] ochan;
    reg [IDX_OUT_W-1:0] opos;

    wire [GW-1:0]  a_g = first ? {GW{1'b0}} : g;
    wire [WAW-1:0] a_wt = first ? d_wt0 : wt;
    wire [WAW-1:0] a_wrow = first ? d_wt0 : wrow;
    wire [PAW-1:0] a_pt = first ? d_pt0 : pt;
    wire [PAW-1:0] a_prow = first ? d_pt0 : prow;
    wire [KCW-1:0] a_cx = first ? d_nkx1 : cx;
    wire [KCW-1:0] a_cy = first ? d_nky1 : cy;
    wire           a_gend = (a_g == G_LAST);
    wire           ev_end = a_gend && (a_cx == {KCW{1'b0}}) && (a_cy == {KCW{1'b0}});

    wire f_dxend = (fdx == to_kc(PKW - 1));
    wire f_dyend = (fdy == to_kc(PKH - 1));
    wire f_gend = (fg == G_LAST);
    wire f_pxend = (fpx == to_xbo(POOL_W - 1));
    wire f_pyend = (fpy == to_ybo(POOL_H - 1));
    wire f_last = f_dxend && f_dyend && f_gend && f_pxend && f_pyend;

    reg            iss_valid;
    reg [1:0]      iss_kind;
    reg            iss_last;
    reg            take_d;
    always @(*) begin
        iss_valid = 1'b0;
        iss_kind = K_BIAS;
        iss_last = 1'b0;
        take_d = 1'b0;
        case (state)
            S_LOAD: iss_valid = 1'b1;
            S_ACC: begin
                if (d_valid) begin
                    if (d_last) begin
                        iss_valid = 1'b1;
                        iss_kind = K_FIRE;
                        iss_last = f_last;
                        take_d = 1'b1;
                    end else if (d_zero) begin
                        take_d = 1'b1;
                    end else begin
                        iss_valid = 1'b1;
                        iss_kind = K_ACC;
                        take_d = ev_end;
                    end
                end
            end
            S_FIRE: begin
                iss_valid = 1'b1;
                iss_kind = K_FIRE;
                iss_last = f_last;
            end
            default: ;
        endcase
    end
    assign d_take = adv && take_d;

    wire is_fire = iss_valid && (iss_kind == K_FIRE);
    wire is_acc = iss_valid && (iss_kind == K_ACC);

    always @(posedge clk) begin
        if (rst) begin
            state <= S_LOAD;
            la <= {PAW{1'b0}};
            lg <= {GW{1'b0}};
        end else if (adv) begin
            case (state)
                S_LOAD: begin
                    la <= la + 1'b1;
                    lg <= (lg == G_LAST) ? {GW{1'b0}} : lg + 1'b1;
                    if (la == PWORDS_LAST) state <= S_ACC;
                end
                S_ACC: if (is_fire && !f_last) state <= S_FIRE;
                S_FIRE: if (f_last) state <= S_ACC;
                default: state <= S_LOAD;
            endcase
        end
    end

    // Accumulate counters.
    always @(posedge clk) begin
        if (rst) begin
            first <= 1'b1;
        end else if (adv && is_acc) begin
            if (!a_gend) begin
                g <= a_g + 1'b1;
                wt <= a_wt;
                pt <= a_pt;
                wrow <= a_wrow;
                prow <= a_prow;
                cx <= a_cx;
                cy <= a_cy;
                first <= 1'b0;
            end else if (a_cx != {KCW{1'b0}}) begin
                g <= {GW{1'b0}};
                wt <= a_wt + to_waw(SW * G);
                pt <= a_pt - to_paw(G);
                wrow <= a_wrow;
                prow <= a_prow;
                cx <= a_cx - 1'b1;
                cy <= a_cy;
                first <= 1'b0;
            end else if (a_cy != {KCW{1'b0}}) begin
                g <= {GW{1'b0}};
                wt <= a_wrow + to_waw(SH * KW * G);
                wrow <= a_wrow + to_waw(SH * KW * G);
                pt <= a_prow - to_paw(W_USE * G);
                prow <= a_prow - to_paw(W_USE * G);
                cx <= d_nkx1;
                cy <= a_cy - 1'b1;
                first <= 1'b0;
            end else begin
                first <= 1'b1;
            end
        end
    end

    // Fire counters.
    always @(posedge clk) begin
        if (rst) begin
            fa <= {PAW{1'b0}};
            fwin <= {PAW{1'b0}};
            frow <= {PAW{1'b0}};
            fg <= {GW{1'b0}};
            fdy <= {KCW{1'b0}};
            fdx <= {KCW{1'b0}};
            fpy <= {YBO{1'b0}};
            fpx <= {XBO{1'b0}};
            ochan <= {IDX_OUT_W{1'b0}};
            opos <= {IDX_OUT_W{1'b0}};
        end else if (adv && is_fire) begin
            if (!f_dxend) begin
                fdx <= fdx + 1'b1;
                fa <= fa + to_paw(G);
            end else if (!f_dyend) begin
                fdx <= {KCW{1'b0}};
                fdy <= fdy + 1'b1;
                fa <= fa + to_paw((W_USE - PKW + 1) * G);
            end else if (!f_gend) begin
                fdx <= {KCW{1'b0}};
                fdy <= {KCW{1'b0}};
                fg <= fg + 1'b1;
                fa <= fwin + {{(PAW - GW){1'b0}}, fg} + 1'b1;
                ochan <= ochan + to_idx((OUT_FLAT != 0) ? P * POOL_H * POOL_W : P);
            end else if (!f_pxend) begin
                fdx <= {KCW{1'b0}};
                fdy <= {KCW{1'b0}};
                fg <= {GW{1'b0}};
                fpx <= fpx + 1'b1;
                fwin <= fwin + to_paw(PKW * G);
                fa <= fwin + to_paw(PKW * G);
                ochan <= {IDX_OUT_W{1'b0}};
                opos <= opos + 1'b1;
            end else if (!f_pyend) begin
                fdx <= {KCW{1'b0}};
                fdy <= {KCW{1'b0}};
                fg <= {GW{1'b0}};
                fpx <= {XBO{1'b0}};
                fpy <= fpy + 1'b1;
                frow <= frow + to_paw(PKH * W_USE * G);
                fwin <= frow + to_paw(PKH * W_USE * G);
                fa <= frow + to_paw(PKH * W_USE * G);
                ochan <= {IDX_OUT_W{1'b0}};
                opos <= opos + 1'b1;
            end else begin
                fdx <= {KCW{1'b0}};
                fdy <= {KCW{1'b0}};
                fg <= {GW{1'b0}};
                fpx <= {XBO{1'b0}};
                fpy <= {YBO{1'b0}};
                frow <= {PAW{1'b0}};
                fwin <= {PAW{1'b0}};
                fa <= {PAW{1'b0}};
                ochan <= {IDX_OUT_W{1'b0}};
                opos <= {IDX_OUT_W{1'b0}};
            end
        end
    end

    // The index of lane 0 of the fire op's block.
    wire [IDX_OUT_W-1:0] f_base;
    generate
        if (OUT_FLAT != 0) begin : g_flat
            assign f_base = ochan + opos;
            wire unused_pos = ^{fpy, fpx};
        end else begin : g_packed
            /* verilator lint_off UNUSEDSIGNAL */
            wire [IDX_OUT_W-1:0] chan_all = ochan; // channel offset in the low CBO bits
            /* verilator lint_on UNUSEDSIGNAL */
            assign f_base = {chan_all[CBO-1:0], fpy, fpx};
            wire unused_opos = ^opos;
        end
    endgenerate

    // This op's potential word and bias word.
    reg [PAW-1:0] iss_pa;
    reg [BAW-1:0] iss_ba;
    always @(*) begin
        case (state)
            S_LOAD: iss_pa = la;
            S_ACC: iss_pa = d_last ? fa : a_pt + {{(PAW - GW){1'b0}}, a_g};
            default: iss_pa = fa;
        endcase
    end
    generate
        if (BIAS_MAP != 0) begin : g_ba_map
            always @(*) iss_ba = iss_pa;
        end else begin : g_ba_chan
            always @(*) iss_ba = (state == S_LOAD) ? lg : fg;
        end
    endgenerate

    // ---- weight memory -----------------------------------------------------
    assign w_rd_en = adv && is_acc;
    assign w_rd_addr = a_wt + {{(WAW - GW){1'b0}}, a_g};

    // ---- stage R -----------------------------------------------------------
    reg                 vR;
    reg [1:0]           kR;
    reg                 lastR;
    reg [QIN_W-1:0]     qR;
    reg [PAW-1:0]       paR;
    reg [BAW-1:0]       baR;
    reg                 winfR;
    reg                 winlR;
    reg                 glastR;
    reg [IDX_OUT_W-1:0] obaseR;

    always @(posedge clk) begin
        if (rst) vR <= 1'b0;
        else if (adv) vR <= iss_valid;
    end
    always @(posedge clk) begin
        if (adv) begin
            kR <= iss_kind;
            lastR <= iss_last;
            qR <= d_q;
            paR <= iss_pa;
            baR <= iss_ba;
            winfR <= (fdx == {KCW{1'b0}}) && (fdy == {KCW{1'b0}});
            winlR <= f_dxend && f_dyend;
            glastR <= f_gend;
            obaseR <= f_base;
        end
    end

    // ---- stage X -----------------------------------------------------------
    // Only registers: the weight word and q (into ttfs_mac_lanes) and the
    // potential word (in ttfs_potential_ram) come out of block RAM here, and
    // a block RAM's output is too slow to feed a multiplier, an adder or the
    // pool's comparators in the same cycle.
    reg                 vX;
    reg [1:0]           kX;
    reg                 lastX;
    reg [PAW-1:0]       paX;
    reg [BAW-1:0]       baX;
    reg                 winfX;
    reg                 winlX;
    reg                 glastX;
    reg [IDX_OUT_W-1:0] obaseX;

    always @(posedge clk) begin
        if (rst) vX <= 1'b0;
        else if (adv) vX <= vR;
    end
    always @(posedge clk) begin
        if (adv) begin
            kX <= kR;
            lastX <= lastR;
            paX <= paR;
            baX <= baR;
            winfX <= winfR;
            winlX <= winlR;
            glastX <= glastR;
            obaseX <= obaseR;
        end
    end

    // Bias ROM, read in X so that the word lines up with the op in M.
    reg [P*BW-1:0] bmem [0:BDEPTH-1];
    reg [P*BW-1:0] bq;
    initial begin
        if (BIAS_FILE != "") $readmemh(BIAS_FILE, bmem);
    end
    always @(posedge clk) begin
        if (adv && vX && (kX != K_ACC)) bq <= bmem[baX];
    end

    // ---- stage M -----------------------------------------------------------
    reg                 vM;
    reg [1:0]           kM;
    reg                 lastM;
    reg [PAW-1:0]       paM;
    reg                 winfM;
    reg                 winlM;
    reg                 glastM;
    reg [IDX_OUT_W-1:0] obaseM;

    always @(posedge clk) begin
        if (rst) vM <= 1'b0;
        else if (adv) vM <= vX;
    end
    always @(posedge clk) begin
        if (adv) begin
            kM <= kX;
            lastM <= lastX;
            paM <= paX;
            winfM <= winfX;
            winlM <= winlX;
            glastM <= glastX;
            obaseM <= obaseX;
        end
    end

    wire [P*VW-1:0] vold;   // the block's potentials before the op in M
    wire [P*VW-1:0] vnew;   // after it (ACC: old + product; BIAS and FIRE: the bias)
    wire [P*VW-1:0] prod_v;

    ttfs_mac_lanes #(
        .P(P), .WB(WB), .QIN_W(QIN_W), .VW(VW), .MUL_OPERATOR(MUL_OPERATOR), .IN_REG(1)
    ) u_mac (
        .clk(clk), .en_in(adv && vR && (kR == K_ACC)), .en(adv && vX && (kX == K_ACC)),
        .w_word(w_rd_data), .q(qR), .prod_v(prod_v));

    // Neighbouring events (and the fire pass right after the last event) may
    // touch one word in consecutive ops: the store forwards the writes of
    // the two ops ahead (in X and in M when this op is read).
    ttfs_potential_ram #(.WORDS(PWORDS), .WIDTH(P*VW), .FORWARD(1), .READ_REG(1)) u_pot (
        .clk(clk),
        .rd_en(adv && vR), .rd_addr(paR), .rd_en2(adv && vX), .rd_data(vold),
        .wr_en(adv && vM), .wr_addr(paM), .wr_data(vnew));

    // The pool's running lane-wise maximum over the window (signed).
    reg  [P*VW-1:0] pmax;
    wire [P*VW-1:0] cur_max;
    genvar l;
    generate
        for (l = 0; l < P; l = l + 1) begin : g_lane
            wire [BW-1:0] b_lane = bq[l*BW +: BW];
            wire [VW-1:0] bias_v;
            if (VW > BW) begin : g_bias_wide
                assign bias_v = {{(VW - BW){b_lane[BW-1]}}, b_lane};
            end else begin : g_bias_narrow
                /* verilator lint_off UNUSEDSIGNAL */
                wire [BW-1:0] bias_all = b_lane;
                /* verilator lint_on UNUSEDSIGNAL */
                assign bias_v = bias_all[VW-1:0];
            end
            assign vnew[l*VW +: VW] = (kM == K_ACC) ? vold[l*VW +: VW] + prod_v[l*VW +: VW] : bias_v;
            if (PKH * PKW > 1) begin : g_max
                wire signed [VW-1:0] a = pmax[l*VW +: VW];
                wire signed [VW-1:0] b = vold[l*VW +: VW];
                assign cur_max[l*VW +: VW] = (winfM || b > a) ? b : a;
            end else begin : g_nomax
                assign cur_max[l*VW +: VW] = vold[l*VW +: VW];
            end
        end
    endgenerate
    generate
        if (PKH * PKW > 1) begin : g_pmax
            always @(posedge clk) begin
                if (adv && vM && (kM == K_FIRE)) pmax <= cur_max;
            end
        end else begin : g_no_pmax
            always @(posedge clk) pmax <= {P*VW{1'b0}};
            wire unused_pool = ^{pmax, winfM};
        end
    endgenerate

    // ---- serializer --------------------------------------------------------
    wire blk_valid = vM && (kM == K_FIRE) && winlM;
    wire ser_busy;
    assign adv = !ser_busy;

    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [VW-1:0] out_v_unused;   // hidden layer: no logits
    /* verilator lint_on UNUSEDSIGNAL */

    ttfs_block_serializer #(
        .P(P), .VW(VW), .IDX_OUT_W(IDX_OUT_W), .LANE_STRIDE(LANE_STRIDE), .HIDDEN(1),
        .QOUT_W(QOUT_W), .BETA(BETA), .FIRE_SPS(FIRE_SPS)
    ) u_ser (
        .clk(clk), .rst(rst),
        .take(adv && blk_valid), .blk_v(cur_max), .blk_lanes(glastM ? LAST_MASK : {P{1'b1}}),
        .blk_last(lastM), .blk_base(obaseM), .busy(ser_busy),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last),
        .out_idx(out_idx), .out_q(out_q), .out_v(out_v_unused));

endmodule
`default_nettype wire
