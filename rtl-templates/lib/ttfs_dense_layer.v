`default_nettype none
// ttfs_dense_layer: one fully connected layer of the event-driven TTFS
// accelerator (docs/hardware.md): bias load, accumulate input events, fire.
//
// Semantics (docs/net-json.md, discrete): V_i = b_i + sum_j W_ij * q_j, then
//   hidden layer (HIDDEN = 1): q_i = clamp(floor(V_i / BETA), 0, 2^QOUT_W - 1),
//     one output event (i, q_i) per neuron with q_i > 0, increasing i;
//   output layer (HIDDEN = 0): one beat (i, V_i) per neuron, increasing i
//     (the logits);
//   then one beat with out_last = 1 (idx/q/v meaningless) ends the image.
//
// Organisation: the N_OUT neurons are G = ceil(N_OUT / P) blocks of P lanes;
// lane l of block g is neuron g*P + l (lanes past N_OUT in the last block are
// computed but never emitted). Per image the controller issues one
// operation per block and cycle into an in-order pipeline:
//   LOAD  G ops      V[g] = bias word g (once, after reset)
//   ACC   G ops per input event (j, q): V[g] += W[j*G + g] * q, lane-wise
//         (signed WB-bit weight times unsigned QIN_W-bit q, P multipliers);
//         the event is acknowledged (in_ready) with its last block; the
//         input's idx/q are used in place while the event is held (stream
//         rule: data hold while valid && !ready). Events may come in any
//         order; q = 0 events are harmless.
//   FIRE  G ops, issued from the cycle in which the input `last` beat is
//         acknowledged: block g's potentials go to the serializer and
//         V[g] = bias word g is written back, ready for the next image.
//         The next image's ACC ops follow at once; they wait in the pipeline
//         while the serializer drains (so images overlap: one image's
//         emission and fire latency hide behind the next one's start).
// Pipeline: issue (weight address) -> R (weight word and q in registers;
// products computed; bias ROM and potential RAM addressed) -> M (registered
// products, bias word, old potentials; new potentials written) ->
// serializer -> emit register -> [one ttfs_fire, LAT_FIRE cycles, hidden
// only] -> out_*. READ_REG = 1 registers what comes out of block RAM before
// it is used (the generator sets it on the ECP5, whose block RAM output
// takes 5.8 ns): an input register takes each event from the upstream
// queue, and a stage X between R and M registers the weight word and q
// before the multipliers and the potentials (the products are computed in
// X); the latency grows by two cycles.
// The serializer takes a block of P potentials (one cycle), then emits its
// selected lanes one per cycle, lowest first: hidden layers the lanes with
// V >= BETA (exactly those with q > 0), output layers every lane; lanes past
// N_OUT never (whatever the memories hold there). While it holds a block the
// accumulate/fire pipeline and the issue stall, so no buffer is needed. A
// single ttfs_fire computes q for the emitted beats only (index and `last`
// ride in its tag). The serializer, the emit register and the fire pipeline
// stall together while the output beat waits (out_* are registers, held
// while out_valid && !out_ready).
// Potential storage (POT_RAM):
//   0: a ring of G blocks of P*VW flip-flops that rotates by one block per
//      operation (no read multiplexer; the block at the head is the one the
//      operation in M works on). N_OUT=128, P=8, VW=24: 3072 FFs.
//   1: a G x P*VW RAM (block RAM: ceil(P*VW/16) SB_RAM40_4K on iCE40), read
//      in R, written in M. Consecutive operations on one block are G >= 2
//      operations apart, so a read never meets a pending write (no
//      forwarding, and (* no_rw_check *) spares Yosys's collision logic);
//      for G = 1 the ring (P*VW FFs) is used instead.
//   After the fire pass they hold the biases again.
// Weight memory: outside the layer (ttfs_weight_rom in block RAM, or
//   ttfs_weight_spram), N_IN*G words of P*WB bits read through w_rd_en/
//   w_rd_addr/w_rd_data. Word j*G + g holds the P weights from input j to
//   block g, lane l at [l*WB +: WB], two's complement (lanes past N_OUT are
//   ignored). w_rd_data must show the word addressed at an edge with
//   w_rd_en = 1 in the cycle after that edge and hold it until the next read
//   (an op may stall in R; both memories hold their output).
// Multipliers (MUL_OPERATOR): 1 writes W*q with the `*` operator, which
// `synth_ice40 -dsp` maps to SB_MAC16, on every such layer, whether the
// device has DSPs left or not; 0 builds the product as a shift-and-add in
// logic, for layers past the device's DSP budget.
// Bias ROM: G words of P*BW bits from BIAS_FILE, lane l at [l*BW +: BW],
// registered read (small; yosys decides block RAM or logic).
// An empty file name leaves a memory uninitialised (lint, or a test bench
// that fills it).
//
// Cycle counts (no output back-pressure, the next input beat always valid
// when the layer asks for it), with S = input events (not counting the
// `last` beat), E = output beats before `last` (hidden: neurons with q > 0;
// output layer: N_OUT) and LAT_FIRE = ceil(QOUT_W / FIRE_SPS) + 1
// (ttfs_fire's LATENCY) for a hidden layer, 0 for the output layer:
//
//     LATENCY = G*(S + 1) + E + LAT_FIRE + 4 + 2*READ_REG
//       from the first cycle an image's first beat is valid at the input of
//       an idle layer (biases loaded) to the cycle of its `last` output beat,
//       both included (S*G accumulate + 2 pipeline + G serializer loads +
//       E emits + 1 `last` beat + 1 emit register + LAT_FIRE); after reset
//       the G bias-load cycles come first.
//     BUSY = G*(S + 1) + E + 1
//       cycles per image when images follow each other: the `last` beats of
//       consecutive images are BUSY (of the later image) cycles apart (one
//       cycle per op, plus the cycles the serializer holds the pipeline to
//       emit E beats and the `last` beat).
//
// Ports: input event stream in_* (in_idx < N_IN, in_q unsigned QIN_W bits);
// output stream out_*: out_idx = neuron, out_q = q (HIDDEN = 1; 0 otherwise),
// out_v = V as a signed VW-bit logit (HIDDEN = 0; 0 otherwise). Streams are
// valid/ready (docs/hardware.md). in_ready depends combinationally on
// in_valid/in_last (READ_REG = 0; with READ_REG = 1 an input register takes
// the event first, so nothing starts at the upstream queue's block RAM
// output, and in_ready depends on the held event); out_* are registers.
// Reset: synchronous, active high.
//
// Parameters: N_IN, N_OUT (>= 1), P lanes (1..N_OUT), WB weight bits, BW
// bias bits, QIN_W input value bits, IDX_IN_W / IDX_OUT_W index widths
// (2^IDX_IN_W >= N_IN, 2^IDX_OUT_W >= N_OUT), VW potential bits (the final
// V of every neuron must fit, the generator's bound; partial sums, products
// and biases may wrap, the arithmetic is modulo 2^VW), HIDDEN, QOUT_W and BETA (hidden only), FIRE_SPS (ttfs_fire's SPS:
// division steps per pipeline stage), POT_RAM, MUL_OPERATOR, READ_REG,
// BIAS_FILE.
module ttfs_dense_layer #(
    parameter integer N_IN = 4,
    parameter integer N_OUT = 4,
    parameter integer P = 2,
    parameter integer WB = 8,
    parameter integer BW = 16,
    parameter integer QIN_W = 8,
    parameter integer IDX_IN_W = 2,
    parameter integer IDX_OUT_W = 2,
    parameter integer VW = 24,
    parameter integer HIDDEN = 1,
    parameter integer QOUT_W = 8,
    parameter integer BETA = 1,
    parameter integer FIRE_SPS = 1,
    parameter integer POT_RAM = 0,
    parameter integer MUL_OPERATOR = 1,
    parameter integer READ_REG = 0,
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
    output wire signed [VW-1:0]        out_v,
    // weight memory read port (see "Weight memory" above)
    output wire                        w_rd_en,
    output wire [((N_IN * ((N_OUT + P - 1) / P) > 1) ?
                  $clog2(N_IN * ((N_OUT + P - 1) / P)) : 1) - 1:0] w_rd_addr,
    input  wire [P*WB-1:0]             w_rd_data
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (N_IN < 1) begin : g_check_n_in
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_N_IN_must_be_1_or_more;
`else
            $error("ttfs_dense_layer: N_IN must be 1 or more");
            ttfs_dense_layer_N_IN_must_be_1_or_more stop ();
`endif
        end
        if (N_OUT < 1) begin : g_check_n_out
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_N_OUT_must_be_1_or_more;
`else
            $error("ttfs_dense_layer: N_OUT must be 1 or more");
            ttfs_dense_layer_N_OUT_must_be_1_or_more stop ();
`endif
        end
        if (P < 1 || P > N_OUT) begin : g_check_p
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_P_must_be_1_to_N_OUT;
`else
            $error("ttfs_dense_layer: P must be 1 to N_OUT");
            ttfs_dense_layer_P_must_be_1_to_N_OUT stop ();
`endif
        end
        if (WB < 1) begin : g_check_wb
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_WB_must_be_1_or_more;
`else
            $error("ttfs_dense_layer: WB must be 1 or more");
            ttfs_dense_layer_WB_must_be_1_or_more stop ();
`endif
        end
        if (BW < 1) begin : g_check_bw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_BW_must_be_1_or_more;
`else
            $error("ttfs_dense_layer: BW must be 1 or more");
            ttfs_dense_layer_BW_must_be_1_or_more stop ();
`endif
        end
        if (QIN_W < 1) begin : g_check_qin_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_QIN_W_must_be_1_or_more;
`else
            $error("ttfs_dense_layer: QIN_W must be 1 or more");
            ttfs_dense_layer_QIN_W_must_be_1_or_more stop ();
`endif
        end
        if (IDX_IN_W < 1 || ((N_IN - 1) >> IDX_IN_W) != 0) begin : g_check_idx_in_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_IDX_IN_W_must_be_1_or_more_and_hold_N_IN_minus_1;
`else
            $error("ttfs_dense_layer: IDX_IN_W must be 1 or more and hold N_IN minus 1");
            ttfs_dense_layer_IDX_IN_W_must_be_1_or_more_and_hold_N_IN_minus_1 stop ();
`endif
        end
        if (IDX_OUT_W < 1 || ((N_OUT - 1) >> IDX_OUT_W) != 0) begin : g_check_idx_out_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_IDX_OUT_W_must_be_1_or_more_and_hold_N_OUT_minus_1;
`else
            $error("ttfs_dense_layer: IDX_OUT_W must be 1 or more and hold N_OUT minus 1");
            ttfs_dense_layer_IDX_OUT_W_must_be_1_or_more_and_hold_N_OUT_minus_1 stop ();
`endif
        end
        if (VW < 1) begin : g_check_vw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_VW_must_be_1_or_more;
`else
            $error("ttfs_dense_layer: VW must be 1 or more");
            ttfs_dense_layer_VW_must_be_1_or_more stop ();
`endif
        end
        if (QOUT_W < 1) begin : g_check_qout_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_QOUT_W_must_be_1_or_more;
`else
            $error("ttfs_dense_layer: QOUT_W must be 1 or more");
            ttfs_dense_layer_QOUT_W_must_be_1_or_more stop ();
`endif
        end
        if (HIDDEN != 0 && BETA < 1) begin : g_check_beta
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_BETA_must_be_1_or_more_in_a_hidden_layer;
`else
            $error("ttfs_dense_layer: BETA must be 1 or more in a hidden layer");
            ttfs_dense_layer_BETA_must_be_1_or_more_in_a_hidden_layer stop ();
`endif
        end
        if (HIDDEN != 0 && FIRE_SPS < 1) begin : g_check_fire_sps
`ifdef __ICARUS__
            localparam integer STOP = ttfs_dense_layer_FIRE_SPS_must_be_1_or_more_in_a_hidden_layer;
`else
            $error("ttfs_dense_layer: FIRE_SPS must be 1 or more in a hidden layer");
            ttfs_dense_layer_FIRE_SPS_must_be_1_or_more_in_a_hidden_layer stop ();
`endif
        end
    endgenerate

    // ---- derived constants -------------------------------------------------
    // (P < 1 is refused above; G = 1 then only keeps the elaboration going
    // until the check has spoken.)
    localparam integer G = (P >= 1) ? (N_OUT + P - 1) / P : 1;
    localparam integer GW = (G > 1) ? $clog2(G) : 1;
    localparam integer WDEPTH = N_IN * G;
    localparam integer WAW = (WDEPTH > 1) ? $clog2(WDEPTH) : 1;
    localparam integer LAST_LANES = N_OUT - (G - 1) * P;
    localparam integer USE_RAM = ((POT_RAM != 0) && (G >= 2)) ? 1 : 0;

    localparam [1:0] K_BIAS = 2'd0;
    localparam [1:0] K_ACC = 2'd1;
    localparam [1:0] K_FIRE = 2'd2;

    localparam [1:0] S_LOAD = 2'd0;
    localparam [1:0] S_ACC = 2'd1;
    localparam [1:0] S_FIRE = 2'd2;

    // Non-negative integer (< 2^31) to a vector of the given width.
    function [GW-1:0] to_gw;
        input integer x;
        integer i;
        begin
            to_gw = {GW{1'b0}};
            for (i = 0; i < GW && i < 31; i = i + 1) to_gw[i] = x[i];
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

    function [IDX_OUT_W-1:0] to_idx;
        input integer x;
        integer i;
        begin
            to_idx = {IDX_OUT_W{1'b0}};
            for (i = 0; i < IDX_OUT_W && i < 31; i = i + 1) to_idx[i] = x[i];
        end
    endfunction

    // Lanes of the last block that hold neurons.
    function [P-1:0] last_mask;
        input integer n;
        integer i;
        begin
            last_mask = {P{1'b0}}; // the loop sets every bit; this gives strict tools a value on every path
            for (i = 0; i < P; i = i + 1) last_mask[i] = (i < n);
        end
    endfunction


    localparam [GW-1:0] G_LAST = to_gw(G - 1);
    localparam [WAW-1:0] G_WAW = to_waw(G);
    localparam [IDX_OUT_W-1:0] P_IDX = to_idx(P);
    localparam [P-1:0] LAST_MASK = last_mask(LAST_LANES);

    // adv: every pipeline stage moves (the serializer is free to take a
    // block); driven by the serializer below.
    wire adv;

    // ---- input: the event the controller works on (ev_*) -------------------
    wire                ev_valid;
    wire                ev_last;
    wire [IDX_IN_W-1:0] ev_idx;
    wire [QIN_W-1:0]    ev_q;
    reg                 ev_ready;   // the controller finishes the event this cycle
    generate
        if (READ_REG != 0) begin : g_in_reg
            reg                e_valid;
            reg                e_last;
            reg [IDX_IN_W-1:0] e_idx;
            reg [QIN_W-1:0]    e_q;
            assign in_ready = !e_valid || ev_ready;
            always @(posedge clk) begin
                if (rst) e_valid <= 1'b0;
                else if (in_valid && in_ready) e_valid <= 1'b1;
                else if (ev_ready) e_valid <= 1'b0;
            end
            always @(posedge clk) begin
                if (in_valid && in_ready) begin
                    e_last <= in_last;
                    e_idx <= in_idx;
                    e_q <= in_q;
                end
            end
            assign {ev_valid, ev_last, ev_idx, ev_q} = {e_valid, e_last, e_idx, e_q};
        end else begin : g_in_direct
            assign {ev_valid, ev_last, ev_idx, ev_q} = {in_valid, in_last, in_idx, in_q};
            assign in_ready = ev_ready;
        end
    endgenerate

    // ---- controller --------------------------------------------------------
    reg [1:0]    state;
    reg [GW-1:0] gcnt;
    wire         g_end = (gcnt == G_LAST);

    reg          iss_valid;
    reg [1:0]    iss_kind;
    reg          iss_last;

    always @(*) begin
        iss_valid = 1'b0;
        iss_kind = K_BIAS;
        iss_last = 1'b0;
        ev_ready = 1'b0;
        case (state)
            S_LOAD: iss_valid = 1'b1;
            S_ACC: begin
                if (ev_valid) begin
                    iss_valid = 1'b1;
                    if (ev_last) begin
                        iss_kind = K_FIRE;
                        iss_last = (G == 1);
                        ev_ready = adv;
                    end else begin
                        iss_kind = K_ACC;
                        ev_ready = adv && g_end;
                    end
                end
            end
            S_FIRE: begin
                iss_valid = 1'b1;
                iss_kind = K_FIRE;
                iss_last = g_end;
            end
            default: ;
        endcase
    end

    always @(posedge clk) begin
        if (rst) begin
            state <= S_LOAD;
            gcnt <= {GW{1'b0}};
        end else begin
            case (state)
                S_LOAD: begin
                    if (adv) begin
                        if (g_end) begin
                            gcnt <= {GW{1'b0}};
                            state <= S_ACC;
                        end else begin
                            gcnt <= gcnt + 1'b1;
                        end
                    end
                end
                S_ACC: begin
                    if (adv && ev_valid) begin
                        if (ev_last) begin
                            if (G == 1) begin
                                state <= S_ACC; // the one FIRE op also reloads the bias
                            end else begin
                                gcnt <= gcnt + 1'b1;
                                state <= S_FIRE;
                            end
                        end else if (g_end) begin
                            gcnt <= {GW{1'b0}};
                        end else begin
                            gcnt <= gcnt + 1'b1;
                        end
                    end
                end
                S_FIRE: begin
                    if (adv) begin
                        if (g_end) begin
                            gcnt <= {GW{1'b0}};
                            state <= S_ACC;
                        end else begin
                            gcnt <= gcnt + 1'b1;
                        end
                    end
                end
                default: state <= S_LOAD;
            endcase
        end
    end

    // ---- weight memory (the boundary: w_en, w_addr -> w_data next cycle) ---
    wire           w_en = adv && iss_valid && (iss_kind == K_ACC);
    // The input index and the block number at WAW bits (WAW >= GW always;
    // IDX_IN_W may be wider or narrower than WAW). Chosen at elaboration:
    // run-time bit loops make event simulators crawl.
    wire [WAW-1:0] idx_waw;
    wire [WAW-1:0] g_waw;
    generate
        if (WAW > IDX_IN_W) begin : g_idx_wide
            assign idx_waw = {{(WAW - IDX_IN_W){1'b0}}, ev_idx};
        end else begin : g_idx_narrow
            /* verilator lint_off UNUSEDSIGNAL */
            wire [IDX_IN_W-1:0] idx_all = ev_idx; // indices above N_IN - 1 never come
            /* verilator lint_on UNUSEDSIGNAL */
            assign idx_waw = idx_all[WAW-1:0];
        end
        if (WAW > GW) begin : g_g_wide
            assign g_waw = {{(WAW - GW){1'b0}}, gcnt};
        end else begin : g_g_same
            assign g_waw = gcnt;
        end
    endgenerate
    // idx · G as a sum of shifted copies of idx, one per set bit of the
    // constant G. Written as a product, synth_ice40 -dsp maps it to an
    // SB_MAC16 once the address has 11 bits or more, taking a DSP that the
    // plan gives to a lane (a 784-input layer of 11 blocks then needed 9 of
    // the UP5K's 8 DSPs).
    wire [WAW-1:0] idx_g [0:WAW] /* verilator split_var */;
    assign idx_g[0] = {WAW{1'b0}};
    genvar ab;
    generate
        for (ab = 0; ab < WAW; ab = ab + 1) begin : g_addr
            if (G_WAW[ab]) begin : g_add
                assign idx_g[ab + 1] = idx_g[ab] + (idx_waw << ab);
            end else begin : g_keep
                assign idx_g[ab + 1] = idx_g[ab];
            end
        end
    endgenerate
    wire [WAW-1:0] w_addr = idx_g[WAW] + g_waw;
    wire [P*WB-1:0] w_data;

    assign w_rd_en = w_en;
    assign w_rd_addr = w_addr;

    assign w_data = w_rd_data;

    // ---- stage R -----------------------------------------------------------
    reg              vR;
    reg [1:0]        kR;
    reg [GW-1:0]     gR;
    reg              lastR;
    reg [QIN_W-1:0]  qR;

    always @(posedge clk) begin
        if (rst) vR <= 1'b0;
        else if (adv) vR <= iss_valid;
    end
    always @(posedge clk) begin
        if (adv) begin
            kR <= iss_kind;
            gR <= gcnt;
            lastR <= iss_last;
            qR <= ev_q;
        end
    end

    // ---- stage X (READ_REG = 1) --------------------------------------------
    // Only registers: the weight word and q (into ttfs_mac_lanes) and the
    // potentials (in ttfs_potential_ram) come out of block RAM in R, and on
    // the ECP5 a block RAM's output alone takes most of a cycle. P (the op
    // before M) is X, or R without the stage.
    wire             vP;
    wire [1:0]       kP;
    wire [GW-1:0]    gP;
    wire             lastP;
    generate
        if (READ_REG != 0) begin : g_stage_x
            reg          vX;
            reg [1:0]    kX;
            reg [GW-1:0] gX;
            reg          lastX;
            always @(posedge clk) begin
                if (rst) vX <= 1'b0;
                else if (adv) vX <= vR;
            end
            always @(posedge clk) begin
                if (adv) begin
                    kX <= kR;
                    gX <= gR;
                    lastX <= lastR;
                end
            end
            assign {vP, kP, gP, lastP} = {vX, kX, gX, lastX};
        end else begin : g_no_stage_x
            assign {vP, kP, gP, lastP} = {vR, kR, gR, lastR};
        end
    endgenerate

    // Bias ROM, read in P so that the word lines up with the op in M.
    reg [P*BW-1:0] bmem [0:G-1];
    reg [P*BW-1:0] bq;
    initial begin
        if (BIAS_FILE != "") $readmemh(BIAS_FILE, bmem);
    end
    always @(posedge clk) begin
        if (adv && vP && (kP != K_ACC)) bq <= bmem[gP];
    end

    // ---- stage M -----------------------------------------------------------
    reg          vM;
    reg [1:0]    kM;
    reg          lastM;
    reg [GW-1:0] gM;

    always @(posedge clk) begin
        if (rst) vM <= 1'b0;
        else if (adv) vM <= vP;
    end
    always @(posedge clk) begin
        if (adv) begin
            kM <= kP;
            lastM <= lastP;
            gM <= gP;
        end
    end

    wire [P*VW-1:0] vold;   // block g's potentials before the op in M
    wire [P*VW-1:0] vnew;   // after it (ACC: old + product; BIAS and FIRE: the bias)

    // The lanes' products (ttfs_mac_lanes), registered as an ACC op enters M.
    wire [P*VW-1:0] prod_v;
    ttfs_mac_lanes #(
        .P(P), .WB(WB), .QIN_W(QIN_W), .VW(VW), .MUL_OPERATOR(MUL_OPERATOR), .IN_REG(READ_REG)
    ) u_mac (
        .clk(clk), .en_in(adv && vR && (kR == K_ACC)), .en(adv && vP && (kP == K_ACC)),
        .w_word(w_data), .q(qR), .prod_v(prod_v));

    // Biases go to VW bits by sign extension or truncation (modulo 2^VW).
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
        end
    endgenerate

    generate
        if (USE_RAM != 0) begin : g_pram
            // Consecutive ops on one block are G >= 2 ops apart: without
            // stage X a read never meets a write to its word; with it, it
            // does when G = 2 (the store forwards then).
            ttfs_potential_ram #(
                .WORDS(G), .WIDTH(P*VW), .FORWARD((READ_REG != 0 && G < 3) ? 1 : 0), .READ_REG(READ_REG)
            ) u_pot (
                .clk(clk),
                .rd_en(adv && vR), .rd_addr(gR), .rd_en2(adv && vP), .rd_data(vold),
                .wr_en(adv && vM), .wr_addr(gM), .wr_data(vnew));
        end else begin : g_ring
            reg [G*P*VW-1:0] ring;
            if (G == 1) begin : g_one
                always @(posedge clk) begin
                    if (adv && vM) ring <= vnew;
                end
            end else begin : g_many
                always @(posedge clk) begin
                    if (adv && vM) ring <= {vnew, ring[G*P*VW-1:P*VW]};
                end
            end
            assign vold = ring[P*VW-1:0];
            wire unused_gM = ^gM;
        end
    endgenerate

    // ---- serializer (ttfs_block_serializer) --------------------------------
    // Takes a block from M in a cycle in which it holds nothing (adv) and
    // emits its lanes with q > 0 (hidden) or all its lanes (output layer),
    // lanes past N_OUT never, then after the image's last block the `last`
    // beat. snext is the neuron index of the next block's lane 0.
    reg [IDX_OUT_W-1:0] snext;
    wire                blk_valid = vM && (kM == K_FIRE);
    wire                ser_busy;
    assign adv = !ser_busy;

    always @(posedge clk) begin
        if (rst) snext <= {IDX_OUT_W{1'b0}};
        else if (adv && blk_valid) snext <= lastM ? {IDX_OUT_W{1'b0}} : snext + P_IDX;
    end

    ttfs_block_serializer #(
        .P(P), .VW(VW), .IDX_OUT_W(IDX_OUT_W), .LANE_STRIDE(1), .HIDDEN(HIDDEN),
        .QOUT_W(QOUT_W), .BETA(BETA), .FIRE_SPS(FIRE_SPS)
    ) u_ser (
        .clk(clk), .rst(rst),
        .take(adv && blk_valid), .blk_v(vold), .blk_lanes(lastM ? LAST_MASK : {P{1'b1}}),
        .blk_last(lastM), .blk_base(snext), .busy(ser_busy),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last),
        .out_idx(out_idx), .out_q(out_q), .out_v(out_v));

endmodule
`default_nettype wire
