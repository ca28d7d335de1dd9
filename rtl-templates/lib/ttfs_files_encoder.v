`default_nettype none
// ttfs_files_encoder: key-value record -> input event stream, the on-chip
// half of the correlative temporal encoding of ttfs-files
// (files/src/encoding.rs, Encoding::spike_time and Encoding::channels).
//
// Input: a record as it arrives, one beat per key-value pair
// {s_key = k, s_code = c}, keys in any order, s_last on the record's final
// pair. The host turns each value into its 32-bit token code
// (files/src/features.rs, Token::code): 0 = missing value; 1 + b = bin b of a
// numeric key (bit 31 clear); FNV-1a of the value's bytes with bit 31 set =
// a categorical value. The chip never sees strings and keeps no table of
// values: a code that never occurred in training is encoded like any other.
//
// Encoding: key k owns the M input neurons k*M .. k*M + M - 1, and neuron i
// of key k spikes at one tick t in 0 .. T-1:
//   c' = 32'h40000000 | ((b + i % W) / W)   for a bin (c != 0, c[31] = 0,
//                                             b = c - 1; bins d < W apart
//                                             share (W - d)/W of the neurons)
//   c' = c                                   otherwise (missing, value)
//   t  = mix32(mix32(mix32(SEED ^ k) ^ c') ^ i) % T
// with mix32 Wellons's lowbias32 (x ^= x >> 16; x *= 32'h7feb352d;
// x ^= x >> 15; x *= 32'h846ca68b; x ^= x >> 16, all modulo 2^32). The event
// is the channel (k*M + i)*T + t (the neuron read through T delay taps), so
// a record drives K*M of the KEYS*M*T channels.
//
// Output: per record exactly KEYS*M event beats {out_last = 0,
// out_idx = (k*M + i)*T + t, out_q = Q}, then one beat {out_last = 1,
// out_idx = 0, out_q = 0}: the interface of ttfs_input_encoder, so the block
// can stand in front of the first ttfs_dense_layer in its place (which takes
// the events of an image in any order). Order: the pairs' keys in arrival
// order, neurons i = 0 .. M-1 within a key; then, after s_last, every key
// the record did not send, in increasing key order, as a missing value
// (c = 0, Token::Missing). A record of only missing values is one pair
// {k, 0} with s_last.
//
// Malformed input: a pair whose key is >= KEYS, or whose key the record has
// already sent, is ignored (no events; the first pair of a key counts) and
// sets `error`, which sticks until rst. A record still ends with its s_last
// beat (also when that pair is ignored) and always gives KEYS*M events.
//
// Datapath: A = mix32(SEED ^ k) is a table of KEYS constants computed at
// elaboration (logic). One pipelined mix32 unit serves every other round:
// per pair one job A ^ c' -> B0 (c' of the pair's coarse bin q0 = b / W for
// a bin), for a bin with W > 1 a second job for the next coarse bin
// q0 + 1 -> B1, then M jobs (B0 or B1) ^ i -> tick, neuron i taking B1 when
// b % W + i % W >= W. The two constant multiplies are shift-and-add trees of
// their canonical signed digits (12 and 13 terms), one 32-bit adder level
// per pipeline stage; with a register for x, for x ^ x >> 16 and for
// m ^ m >> 15 the unit has STAGES = 11 stages and takes a job per cycle.
// It is logic only, never DSP blocks: the `*` operator would take 3 of the
// UP5K's 8 SB_MAC16 per multiply under synth_ice40 -dsp (the dense layers'
// lanes want them), and Yosys 0.23 makes a 630-LUT adder tree of each
// without -dsp. For W a power of two, b / W and b % W are a shift and a
// mask; otherwise a serial divider gives them, one quotient bit per cycle
// (31 cycles per bin pair).
// The unit is fed by a pair stage (front: the pair's key, code and table
// entry, its B jobs and their results) and a neuron stage (back: the M tick
// jobs of the previous pair, and the `last` job), which overlap; front jobs
// go first. The tick results and the `last` job leave through a two-entry
// output buffer (out_* and a skid entry).
//
// Timing (output never stalled, W a power of two): a pair taken at an edge
// has its first event valid on out_* 26 cycles later (27 for a bin) when
// the neuron stage is idle, then one event per cycle (a front job of the
// next pair takes a slot now and then). The pair stage holds a pair 15
// cycles (16 for a bin; a bin waits 31 more for the divider when W is not a
// power of two), the neuron stage takes M + 1 cycles per pair plus one per
// front job in between, and the two overlap: pairs stream at one per
// max(15, M + 2) cycles (max(16, M + 3) for bins). After s_last the keys
// the record did not send go through the pair stage likewise (one cycle per
// key to find them), then the `last` beat: a record takes about 16*KEYS
// cycles for M <= 13 whichever keys it sends. The test bench at full rate:
// 192 cycles per 12-key record with the default parameters (2.0 per event);
// 31.8 cycles per pair with W = 3, M = 5; 80 per 3-key record with M = 20.
// Handshakes: s_ready = the pair stage is empty and no end-of-record scan
// runs (registered: it depends on neither s_valid nor out_ready). out_* are
// registers, held while out_valid && !out_ready. The hash pipeline moves as
// a whole when `adv`, a register that is low while both output entries are
// or will be full (the skid entry takes the beat the pipeline hands over in
// that cycle), so out_ready drives only the output buffer and `adv`.
// Reset: synchronous, active high; drops the record in progress.
//
// Resources (Yosys 0.23 synth_ice40 -dsp, nextpnr-ice40 0.4 on the UP5K,
// default parameters, the block alone): 971 LUT4s, 488 carries, 1,101
// flip-flops, about 1,400 logic cells, no DSP or RAM block; 51 to 56 MHz
// over six placer seeds.
//
// Parameters: KEYS keys (>= 1), M neurons per key (>= 1), T ticks (a power
// of two), W bins sharing neurons (>= 1), SEED (32 bits), QW output value
// bits and Q the value of every event (1 .. 2^QW - 1), KEY_W key width
// (holds KEYS - 1), IDX_W channel width (holds KEYS*M*T - 1).
// The defaults are Encoding::default() (M = 8, T = 16, W = 4, seed 1) for 12
// keys.
module ttfs_files_encoder #(
    parameter integer KEYS = 12,
    parameter integer M = 8,
    parameter integer T = 16,
    parameter integer W = 4,
    parameter [31:0]  SEED = 32'd1,
    parameter integer QW = 8,
    parameter integer Q = 255,
    parameter integer KEY_W = 4,
    parameter integer IDX_W = 11
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             s_valid,
    output wire             s_ready,
    input  wire             s_last,
    input  wire [KEY_W-1:0] s_key,
    input  wire [31:0]      s_code,
    output reg              out_valid,
    input  wire             out_ready,
    output reg              out_last,
    output reg  [IDX_W-1:0] out_idx,
    output reg  [QW-1:0]    out_q,
    output reg              error
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    // Whether KEYS*M*T - 1 fits in `bits` bits (64-bit arithmetic).
    function channels_fit;
        input [31:0] k;
        input [31:0] m;
        input [31:0] t;
        input integer bits;
        reg [63:0] n;
        begin
            n = {32'd0, k} * {32'd0, m};
            n = n * {32'd0, t};
            channels_fit = ((n - 64'd1) >> bits) == 64'd0;
        end
    endfunction

    generate
        if (KEYS < 1) begin : g_check_keys
`ifdef __ICARUS__
            localparam integer STOP = ttfs_files_encoder_KEYS_must_be_1_or_more;
`else
            $error("ttfs_files_encoder: KEYS must be 1 or more");
            ttfs_files_encoder_KEYS_must_be_1_or_more stop ();
`endif
        end
        if (M < 1) begin : g_check_m
`ifdef __ICARUS__
            localparam integer STOP = ttfs_files_encoder_M_must_be_1_or_more;
`else
            $error("ttfs_files_encoder: M must be 1 or more");
            ttfs_files_encoder_M_must_be_1_or_more stop ();
`endif
        end
        if (T < 1 || (T & (T - 1)) != 0) begin : g_check_t
`ifdef __ICARUS__
            localparam integer STOP = ttfs_files_encoder_T_must_be_a_power_of_two;
`else
            $error("ttfs_files_encoder: T must be a power of two");
            ttfs_files_encoder_T_must_be_a_power_of_two stop ();
`endif
        end
        if (W < 1) begin : g_check_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_files_encoder_W_must_be_1_or_more;
`else
            $error("ttfs_files_encoder: W must be 1 or more");
            ttfs_files_encoder_W_must_be_1_or_more stop ();
`endif
        end
        if (QW < 1 || QW > 31 || Q < 1 || (Q >> QW) != 0) begin : g_check_q
`ifdef __ICARUS__
            localparam integer STOP = ttfs_files_encoder_QW_must_be_1_to_31_and_Q_1_to_2_to_the_power_QW_minus_1;
`else
            $error("ttfs_files_encoder: QW must be 1 to 31 and Q 1 to 2 to the power QW minus 1");
            ttfs_files_encoder_QW_must_be_1_to_31_and_Q_1_to_2_to_the_power_QW_minus_1 stop ();
`endif
        end
        if (KEY_W < 1 || KEY_W > 31 || ((KEYS - 1) >> KEY_W) != 0) begin : g_check_key_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_files_encoder_KEY_W_must_be_1_to_31_and_hold_KEYS_minus_1;
`else
            $error("ttfs_files_encoder: KEY_W must be 1 to 31 and hold KEYS minus 1");
            ttfs_files_encoder_KEY_W_must_be_1_to_31_and_hold_KEYS_minus_1 stop ();
`endif
        end
        if (IDX_W < 1 || IDX_W > 32 || !channels_fit(KEYS, M, T, IDX_W)) begin : g_check_idx_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_files_encoder_IDX_W_must_be_1_to_32_and_hold_KEYS_times_M_times_T_minus_1;
`else
            $error("ttfs_files_encoder: IDX_W must be 1 to 32 and hold KEYS times M times T minus 1");
            ttfs_files_encoder_IDX_W_must_be_1_to_32_and_hold_KEYS_times_M_times_T_minus_1 stop ();
`endif
        end
    endgenerate

    // ---- constants ----------------------------------------------------------
    function integer nbits;
        input integer n;
        begin
            nbits = (n > 1) ? $clog2(n) : 1;
        end
    endfunction

    // lowbias32, for the key table (elaboration-time constants only).
    function [31:0] mix32;
        input [31:0] x0;
        reg [31:0] x;
        begin
            x = x0 ^ (x0 >> 16);
            x = x * 32'h7feb352d;
            x = x ^ (x >> 15);
            x = x * 32'h846ca68b;
            mix32 = x ^ (x >> 16);
        end
    endfunction

    localparam integer TB = nbits(T) - ((T > 1) ? 0 : 1); // log2(T)
    localparam integer W_POW2 = (W >= 1 && (W & (W - 1)) == 0) ? 1 : 0;
    localparam integer RB = nbits(W);        // i % W, b % W: 0 .. W-1
    localparam integer IB = nbits(M);        // neuron i: 0 .. M-1
    localparam integer NW = nbits(KEYS * M); // neuron number k*M + i
    localparam integer NEED_B1 = (W > 1) ? 1 : 0;
    localparam integer M_I = M;
    localparam integer M_M1 = M - 1;
    localparam [IB-1:0] M_LAST = M_M1[IB-1:0];
    localparam integer W_I = W;
    localparam integer W_M1 = W - 1;
    localparam [RB:0] W_C = W_I[RB:0];
    localparam [RB-1:0] W_LAST = W_M1[RB-1:0];
    localparam integer T_M1 = T - 1;
    localparam [31:0] T_MASK = T_M1;
    localparam integer KEYS_I = KEYS;
    localparam [KEY_W:0] KEYS_C = KEYS_I[KEY_W:0];
    localparam integer Q_I = Q;
    localparam [QW-1:0] Q_C = Q_I[QW-1:0];

    // k*M in NW bits, as shift-and-add (no `*`: no DSP block).
    function [NW-1:0] times_m;
        input [KEY_W-1:0] k;
        integer b_j;
        reg [NW+KEY_W-1:0] acc;
        begin
            acc = {(NW + KEY_W){1'b0}};
            for (b_j = 0; b_j < 31; b_j = b_j + 1)
                if (((M_I >> b_j) & 1) != 0) acc = acc + ({{NW{1'b0}}, k} << b_j);
            times_m = acc[NW-1:0];
        end
    endfunction

    // ---- mix32(SEED ^ k) for every key: a constant table ---------------------
    wire [KEYS*32-1:0] a_tab;
    genvar g;
    generate
        for (g = 0; g < KEYS; g = g + 1) begin : g_key
            localparam [31:0] GK = g;
            localparam [31:0] AV = mix32(SEED ^ GK);
            assign a_tab[g*32 +: 32] = AV;
        end
    endgenerate

    // ---- record state --------------------------------------------------------
    reg [KEYS-1:0] seen;      // keys this record has sent (before s_last)
    reg            scanning;  // after s_last: the keys not sent go through
    reg [KEYS:0]   todo;      // scanning: bit 0 = key scan_k was not sent
    reg [KEY_W:0]  scan_k;    // scanning: next key to look at (KEYS: done)

    // ---- pair stage (front) --------------------------------------------------
    reg            f_full;
    reg            f_new;     // first cycle full: f_a, f_code0, f_r0 settle
    reg            f_end;     // the record's end token (no jobs)
    reg            f_isbin;   // the code is a bin
    reg [KEY_W-1:0] f_key;
    reg [31:0]     f_a;       // mix32(SEED ^ k)
    reg [31:0]     f_code0;   // code' of neurons with r0 + i % W < W
    reg [RB-1:0]   f_r0;      // r0 = b % W (bins)
    reg            f_iss0;    // the B0 job issues at the next moving edge
    reg            f_iss1;    // the B1 job issues at the next moving edge
    reg            f_got0, f_got1;
    reg [31:0]     fb0, fb1;  // B0, B1 results

    // ---- neuron stage (back) -------------------------------------------------
    reg            b_full;
    reg            b_end;     // issue the `last` job
    reg            b_bin;
    reg [NW-1:0]   b_n;       // neuron number of the next job
    reg [IB-1:0]   b_i;       // neuron i of the next job
    reg [RB-1:0]   b_im;      // i % W
    reg [RB-1:0]   b_r0;      // b % W
    reg            b_use1;    // the next job uses B1: r0 + i % W >= W
    reg [31:0]     bb0, bb1;

    // ---- the input side ------------------------------------------------------
    assign s_ready = !f_full && !scanning;
    wire take = s_valid && s_ready;
    wire key_ok = {1'b0, s_key} < KEYS_C;
    reg  dup;
    reg  [KEYS-1:0] key_hot; // s_key one-hot (0 for a key >= KEYS)
    integer j;
    always @* begin
        dup = 1'b0;
        for (j = 0; j < KEYS; j = j + 1) begin
            key_hot[j] = s_key == j[KEY_W-1:0];
            if (key_hot[j] && seen[j]) dup = 1'b1;
        end
    end
    wire scan_done = scan_k == KEYS_C;

    // What the pair stage loads this cycle: a pair from the input, a key the
    // record did not send, or the end token.
    wire ld_in = take && key_ok && !dup;
    wire ld_scan = scanning && !f_full && !scan_done && todo[0];
    wire ld_end = scanning && !f_full && scan_done;
    wire [KEY_W-1:0] ld_key = scanning ? scan_k[KEY_W-1:0] : s_key;
    wire [31:0] ld_code = scanning ? 32'd0 : s_code;
    wire ld_isbin = ld_code != 32'd0 && !ld_code[31];
    wire [30:0] ld_b = s_code[30:0] - 31'd1; // b of a bin (from the input only)
    reg [31:0] key_a;
    always @* begin
        key_a = 32'd0;
        for (j = 0; j < KEYS; j = j + 1)
            if (f_key == j[KEY_W-1:0]) key_a = a_tab[j*32 +: 32];
    end

    // ---- b / W and b % W -----------------------------------------------------
    // code' of a bin: 32'h40000000 | ((b + i % W) / W) = 32'h40000000 |
    // (q0 + (r0 + i % W >= W)), q0 = b / W, r0 = b % W.
    wire [31:0]   new_code0; // a bin's code' (W a power of two), for f_new
    wire [RB-1:0] new_r0;
    wire          div_fin;  // its last step: f_code0 and f_r0 take div_*
    wire [31:0]   div_code0;
    wire [RB-1:0] div_r0;
    generate
        if (W_POW2 != 0) begin : g_shift
            localparam integer LW = RB - ((W > 1) ? 0 : 1); // log2(W)
            localparam [RB-1:0] R_MASK = W_M1[RB-1:0];
            reg [30:0] f_b;
            always @(posedge clk) if (!f_full) f_b <= ld_b;
            assign new_code0 = {2'b01, 30'd0} | {1'b0, f_b >> LW};
            assign new_r0 = f_b[RB-1:0] & R_MASK;
            assign div_fin = 1'b0;
            assign div_code0 = 32'd0;
            assign div_r0 = {RB{1'b0}};
        end else begin : g_divide
            // Restoring division by the constant W, one quotient bit per
            // cycle, most significant first (W >= 3 here, so RB <= 31).
            reg [30:0]   dv_num;
            reg [28:0]   dv_quo;    // quotient bits so far (bit 30 is 0: dropped)
            reg [RB-1:0] dv_rem;
            reg [4:0]    dv_cnt;
            wire [RB:0]  dv_x = {dv_rem, dv_num[30]};
            wire         dv_ge = dv_x >= W_C;
            wire [RB-1:0] dv_sub = dv_x[RB-1:0] - W_C[RB-1:0]; // < W when dv_ge
            always @(posedge clk) begin
                if (rst) begin
                    dv_cnt <= 5'd0;
                end else if (!f_full) begin
                    // Follows the input while the pair stage is empty, so
                    // it starts with the bin the stage loads.
                    dv_num <= ld_b;
                    dv_quo <= 29'd0;
                    dv_rem <= {RB{1'b0}};
                    dv_cnt <= ld_isbin ? 5'd31 : 5'd0;
                end else if (dv_cnt != 5'd0) begin
                    dv_num <= {dv_num[29:0], 1'b0};
                    dv_quo <= {dv_quo[27:0], dv_ge};
                    dv_rem <= dv_ge ? dv_sub : dv_x[RB-1:0];
                    dv_cnt <= dv_cnt - 5'd1;
                end
            end
            assign new_code0 = {2'b01, 30'd0}; // unused: bins wait for div_fin
            assign new_r0 = {RB{1'b0}};
            assign div_fin = dv_cnt == 5'd1;
            assign div_code0 = {2'b01, dv_quo, dv_ge}; // q0 < 2^30
            assign div_r0 = dv_ge ? dv_sub : dv_x[RB-1:0];
        end
    endgenerate

    // ---- the hash pipeline ---------------------------------------------------
    // Job kinds.
    localparam [1:0] K_B0 = 2'd0, K_B1 = 2'd1, K_H = 2'd2, K_LAST = 2'd3;
    localparam integer TAG_W = 3 + NW; // valid, kind, neuron number
    localparam integer STAGES = 11;    // x, u, 4 adder levels, v, 4 adder levels

    // Every pipeline register moves when `adv` (a register: the output has
    // room for what the last stage may hand it, see the output buffer).
    reg adv;

    // Front jobs first (flags set a cycle ahead), then the back's.
    wire f_bin = f_isbin && NEED_B1 != 0; // two B jobs
    wire bk_iss = b_full && !f_iss0 && !f_iss1;
    // The neighbouring coarse bin, 32'h40000000 | (q0 + 1), registered: a
    // bin's f_code0 holds from the cycle B0 can issue on (q0 < 2^30 as
    // W >= 2), and B1 issues a cycle after B0 at the earliest.
    reg  [31:0] code1;
    always @(posedge clk) code1 <= {2'b01, 30'd0} | {1'b0, {1'b0, f_code0[29:0]} + 31'd1};
    reg [31:0]  iss_x;
    reg [1:0]   iss_kind;
    always @* begin
        if (f_iss0) begin
            iss_x = f_a ^ f_code0;
            iss_kind = K_B0;
        end else if (f_iss1) begin
            iss_x = f_a ^ code1;
            iss_kind = K_B1;
        end else begin
            iss_x = (b_use1 ? bb1 : bb0) ^ {{(32 - IB){1'b0}}, b_i};
            iss_kind = b_end ? K_LAST : K_H;
        end
    end
    wire iss_valid = f_iss0 || f_iss1 || b_full;

    reg [STAGES*TAG_W-1:0] tags; // stage s at [s*TAG_W +: TAG_W]
    wire [TAG_W-1:0] tag_out = tags[(STAGES-1)*TAG_W +: TAG_W];
    wire             r_valid = tag_out[TAG_W-1];
    wire [1:0]       r_kind = tag_out[TAG_W-2 -: 2];
    wire [NW-1:0]    r_n = tag_out[NW-1:0];

    always @(posedge clk) begin
        if (rst) tags <= {(STAGES * TAG_W){1'b0}};
        else if (adv) tags <= {tags[(STAGES-1)*TAG_W-1:0], iss_valid, iss_kind, b_n};
    end

    // Datapath, one register stage each: x; u = x ^ x >> 16;
    // m1 = u * 32'h7feb352d (4 adder levels); v = m1 ^ m1 >> 15;
    // m2 = v * 32'h846ca68b (4 adder levels); then h = m2 ^ m2 >> 16 feeds
    // the B registers and the output buffer.
    // 32'h7feb352d = 2^31 - 2^20 - 2^18 - 2^16 + 2^14 - 2^12 + 2^10 + 2^8
    //                + 2^6 - 2^4 - 2^2 + 1;
    // 32'h846ca68b = 2^31 + 2^26 + 2^23 - 2^20 - 2^18 + 2^15 + 2^13 + 2^11
    //                - 2^9 + 2^7 + 2^4 - 2^2 - 1.
    reg  [31:0] p0;
    reg  [31:0] u;
    reg  [31:0] a0, a1, a2, a3, a4, a5;
    reg  [31:0] bs0, bs1, bs2;
    reg  [31:0] c0, c1;
    reg  [31:0] m1;
    reg  [31:0] v;
    reg  [31:0] d0, d1, d2, d3, d4, d5, d6;
    reg  [31:0] e0, e1, e2, e3;
    reg  [31:0] g0, g1;
    reg  [31:0] m2;
    wire [31:0] h = m2 ^ (m2 >> 16);

    always @(posedge clk) begin
        if (adv) begin
            p0 <= iss_x;
            u <= p0 ^ (p0 >> 16);
            // multiply 1: 12 terms -> 6 -> 3 -> 2 -> 1
            a0 <= u - (u << 2);
            a1 <= (u << 6) - (u << 4);
            a2 <= (u << 8) + (u << 10);
            a3 <= (u << 14) - (u << 12);
            a4 <= (u << 16) + (u << 18);          // subtracted
            a5 <= (u << 31) - (u << 20);
            bs0 <= a0 + a1;
            bs1 <= a2 + a3;
            bs2 <= a5 - a4;
            c0 <= bs0 + bs1;
            c1 <= bs2;
            m1 <= c0 + c1;
            v <= m1 ^ (m1 >> 15);
            // multiply 2: 13 terms -> 7 -> 4 -> 2 -> 1
            d0 <= (v << 4) - v;
            d1 <= (v << 7) - (v << 2);
            d2 <= (v << 11) - (v << 9);
            d3 <= (v << 13) + (v << 15);
            d4 <= (v << 18) + (v << 20);          // subtracted
            d5 <= (v << 26) + (v << 31);
            d6 <= v << 23;
            e0 <= d0 + d1;
            e1 <= d2 + d3;
            e2 <= d5 + d6;
            e3 <= d4;
            g0 <= e0 + e1;
            g1 <= e2 - e3;
            m2 <= g0 + g1;
        end
    end

    // The channel of a tick result: (k*M + i)*T + t, t = h % T.
    reg [IDX_W-1:0] r_idx;
    integer bit_i;
    always @* begin
        r_idx = {IDX_W{1'b0}};
        for (bit_i = 0; bit_i < IDX_W; bit_i = bit_i + 1) begin
            if (bit_i < TB) r_idx[bit_i] = h[bit_i] & T_MASK[bit_i];
            else if (bit_i - TB < NW) r_idx[bit_i] = r_n[bit_i - TB];
        end
    end

    // ---- control -------------------------------------------------------------
    wire res_b0 = adv && r_valid && r_kind == K_B0;
    wire res_b1 = adv && r_valid && r_kind == K_B1;
    wire f_ready = f_full && (f_end || (f_got0 && (!f_bin || f_got1)));
    // The neuron stage takes the next pair once it has issued every job of
    // the previous one (the cycle after its last issue).
    wire handoff = f_ready && !b_full;
    wire b_issue = adv && bk_iss;

    // The output buffer's moves.
    reg             sk_valid;
    reg             sk_last;
    reg [IDX_W-1:0] sk_idx;
    wire pop = out_valid && out_ready;
    wire push = adv && r_valid && (r_kind == K_H || r_kind == K_LAST);
    wire push_last = r_kind == K_LAST;
    wire [IDX_W-1:0] push_idx = push_last ? {IDX_W{1'b0}} : r_idx;
    // Both entries full after this edge (a push never meets two full
    // entries: adv is low then).
    wire full_next = !pop && (sk_valid || (out_valid && push));
    wire b_done = b_issue && (b_end || b_i == M_LAST);
    wire [RB-1:0] im_next = (b_im == W_LAST) ? {RB{1'b0}} : b_im + 1'b1;

    // Data registers of the two stages: each stage loads every cycle while
    // it is empty (what it holds matters only once its `full` flag is set),
    // so their enables are the flags, not the load decisions.
    always @(posedge clk) begin
        // Loaded with the pair in the edge that fills the stage...
        f_new <= !f_full;
        // ... and from those registers in the next one (the key table and a
        // power-of-two bin split), or when the divider ends.
        f_a <= key_a;
        if (!f_full) begin
            f_end <= ld_end;
            f_isbin <= ld_isbin;
            f_key <= ld_key;
            f_code0 <= ld_code;
        end else if (f_new) begin
            if (f_isbin && W_POW2 != 0) f_code0 <= new_code0;
            f_r0 <= new_r0;
        end else if (div_fin) begin
            f_code0 <= div_code0;
            f_r0 <= div_r0;
        end
        if (res_b0) fb0 <= h;
        if (res_b1) fb1 <= h;
        if (!b_full) begin
            b_end <= f_end;
            b_bin <= f_bin;
            b_n <= times_m(f_key);
            b_i <= {IB{1'b0}};
            b_im <= {RB{1'b0}};
            b_r0 <= f_r0;
            b_use1 <= 1'b0; // r0 + 0 < W
            bb0 <= fb0;
            bb1 <= fb1;
        end else if (b_issue) begin
            b_n <= b_n + 1'b1;
            b_i <= b_i + 1'b1;
            b_im <= im_next;
            b_use1 <= b_bin && ({1'b0, b_r0} + {1'b0, im_next} >= W_C);
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            out_last <= 1'b0;
            out_idx <= {IDX_W{1'b0}};
            out_q <= {QW{1'b0}};
            sk_valid <= 1'b0;
            sk_last <= 1'b0;
            sk_idx <= {IDX_W{1'b0}};
            adv <= 1'b1;
            error <= 1'b0;
            seen <= {KEYS{1'b0}};
            scanning <= 1'b0;
            todo <= {(KEYS + 1){1'b0}};
            scan_k <= {(KEY_W + 1){1'b0}};
            f_full <= 1'b0;
            f_iss0 <= 1'b0;
            f_iss1 <= 1'b0;
            f_got0 <= 1'b0;
            f_got1 <= 1'b0;
            b_full <= 1'b0;
        end else begin
            // Output register.
            // Output buffer: out_* and a skid entry behind them. A beat
            // enters when the pipeline moves; `adv` for the next cycle is
            // low when both will be full, so out_ready reaches only these
            // registers, not the pipeline's enables. (With the skid entry
            // full adv is low: no beat enters then.)
            if (pop && sk_valid) begin
                out_last <= sk_last;
                out_idx <= sk_idx;
                out_q <= sk_last ? {QW{1'b0}} : Q_C;
                sk_valid <= 1'b0;
            end else if (push && out_valid && !pop) begin
                sk_valid <= 1'b1;
                sk_last <= push_last;
                sk_idx <= push_idx;
            end else if (push) begin
                out_valid <= 1'b1;
                out_last <= push_last;
                out_idx <= push_idx;
                out_q <= push_last ? {QW{1'b0}} : Q_C;
            end else if (pop) begin
                out_valid <= 1'b0;
            end
            adv <= !full_next;
            // Input (a key sent twice is already in `seen`; a key >= KEYS
            // sets no bit) and the end-of-record scan.
            if (take) begin
                if (!key_ok || dup) error <= 1'b1;
                if (s_last) begin
                    scanning <= 1'b1;
                    todo <= {1'b0, ~(seen | key_hot)};
                    scan_k <= {(KEY_W + 1){1'b0}};
                    seen <= {KEYS{1'b0}};
                end else begin
                    seen <= seen | key_hot;
                end
            end else if (scanning) begin
                if (ld_end) begin
                    scanning <= 1'b0;
                end else if (!scan_done && (!todo[0] || !f_full)) begin
                    scan_k <= scan_k + 1'b1;
                    todo <= todo >> 1;
                end
            end
            // Pair stage.
            if (!f_full) begin
                f_full <= ld_in || ld_scan || ld_end;
                f_iss0 <= 1'b0;
                f_iss1 <= 1'b0;
                f_got0 <= 1'b0;
                f_got1 <= 1'b0;
            end else begin
                if (handoff) f_full <= 1'b0;
                // B0 once f_a and f_code0 hold (a bin waits for the divider
                // when W is not a power of two), then B1 for a bin.
                if (f_new) f_iss0 <= !f_end && !(f_isbin && W_POW2 == 0);
                else if (div_fin) f_iss0 <= 1'b1;
                else if (adv && f_iss0) f_iss0 <= 1'b0;
                if (adv && f_iss0) f_iss1 <= f_bin;
                else if (adv && f_iss1) f_iss1 <= 1'b0;
                if (res_b0) f_got0 <= 1'b1;
                if (res_b1) f_got1 <= 1'b1;
            end
            // Neuron stage.
            if (!b_full) b_full <= f_ready;
            else if (b_done) b_full <= 1'b0;
        end
    end

endmodule
`default_nettype wire
