`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_conv_layer.
//
// Six runs, each a DUT with its own driver, reference and checker (module
// ttfs_conv_layer_tb_run below), all on one clock:
//   p2x2    2x6x6 -> 5 channels, 3x3 kernel, padding 1, pool 2x2, P = 2
//           (G = 3, last block partial, junk weights past the last
//           channel), packed output coordinates, bias per channel
//   map     the same layer with a bias map (a bias per position), flat
//           output indices, P = 5 (G = 1), output back-pressure and input
//           gaps
//   s2      1x7x7 -> 3, 3x3 kernel, stride 2, padding 1 (4x4 out), no pool,
//           P = 3, shift-add multipliers
//   crop    2x8x8 -> 2, 5x5 kernel, no padding (4x4 out), pool 3x3 (one
//           window; the fourth row and column are never computed), P = 1
//           (G = 2)
//   k1      4x3x5 -> 2, 1x1 kernel, P = 2 (G = 1): consecutive events of
//           one position touch the same potential word (forwarding)
//   s2p     3x6x6 -> 4, 2x2 kernel, stride 2, no padding (3x3 out), pool
//           1x2 (3x1 pooled, column 2 cropped), P = 3 (G = 2), flat indices,
//           bias map, back-pressure
// Weights (signed 4-bit), biases (9-bit, shifted right by BSHIFT where the
// layer's sums are small) and events come from xorshift32 with fixed
// seeds; the bench fills the DUT's bias ROM and an external weight memory
// itself and computes V, the pool maximum and q = clamp(floor(V/BETA), 0, T)
// from the logical weights. Images per run: random events in increasing
// index order, no events, every input at q = 2^QIN_W - 1, random events in
// decreasing order, random events position by position (all channels of one
// pixel in a row), and more random ones. Every output beat (index, q, last)
// is compared; beats must hold while valid && !ready; without back-pressure
// each image's cycles are checked against the block's closed form (first
// image from reset, bias load included; later ones the BUSY formula).
// Prints "*-* All Finished *-*" on success, "FAIL ..." otherwise.
module ttfs_conv_layer_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(3)
    `TTFS_TB_VERDICT

    wire [5:0] done;
    wire [5:0] fail;

    ttfs_conv_layer_tb_run #(
        .NAME("p2x2"), .C_IN(2), .H_IN(6), .W_IN(6), .C_OUT(5), .KH(3), .KW(3), .SH(1), .SW(1),
        .PT(1), .PL(1), .H_OUT(6), .W_OUT(6), .PKH(2), .PKW(2), .P(2), .BETA(37),
        .BIAS_MAP(0), .OUT_FLAT(0), .BP(0), .MUL_OPERATOR(1), .SEED(21)
    ) p2x2 (.clk(clk), .rst(rst), .done(done[0]), .fail(fail[0]));

    ttfs_conv_layer_tb_run #(
        .NAME("map"), .C_IN(2), .H_IN(6), .W_IN(6), .C_OUT(5), .KH(3), .KW(3), .SH(1), .SW(1),
        .PT(1), .PL(1), .H_OUT(6), .W_OUT(6), .PKH(2), .PKW(2), .P(5), .BETA(29),
        .BIAS_MAP(1), .OUT_FLAT(1), .BP(1), .MUL_OPERATOR(1), .SEED(22)
    ) map (.clk(clk), .rst(rst), .done(done[1]), .fail(fail[1]));

    ttfs_conv_layer_tb_run #(
        .NAME("s2"), .C_IN(1), .H_IN(7), .W_IN(7), .C_OUT(3), .KH(3), .KW(3), .SH(2), .SW(2),
        .PT(1), .PL(1), .H_OUT(4), .W_OUT(4), .PKH(1), .PKW(1), .P(3), .BETA(11),
        .BIAS_MAP(0), .OUT_FLAT(0), .BP(0), .MUL_OPERATOR(0), .SEED(23)
    ) s2 (.clk(clk), .rst(rst), .done(done[2]), .fail(fail[2]));

    ttfs_conv_layer_tb_run #(
        .NAME("crop"), .C_IN(2), .H_IN(8), .W_IN(8), .C_OUT(2), .KH(5), .KW(5), .SH(1), .SW(1),
        .PT(0), .PL(0), .H_OUT(4), .W_OUT(4), .PKH(3), .PKW(3), .P(1), .BETA(53),
        .BIAS_MAP(0), .OUT_FLAT(1), .BP(0), .MUL_OPERATOR(1), .SEED(24), .BSHIFT(1)
    ) crop (.clk(clk), .rst(rst), .done(done[3]), .fail(fail[3]));

    ttfs_conv_layer_tb_run #(
        .NAME("k1"), .C_IN(4), .H_IN(3), .W_IN(5), .C_OUT(2), .KH(1), .KW(1), .SH(1), .SW(1),
        .PT(0), .PL(0), .H_OUT(3), .W_OUT(5), .PKH(1), .PKW(1), .P(2), .BETA(9),
        .BIAS_MAP(0), .OUT_FLAT(0), .BP(0), .MUL_OPERATOR(1), .SEED(25), .BSHIFT(3)
    ) k1 (.clk(clk), .rst(rst), .done(done[4]), .fail(fail[4]));

    ttfs_conv_layer_tb_run #(
        .NAME("s2p"), .C_IN(3), .H_IN(6), .W_IN(6), .C_OUT(4), .KH(2), .KW(2), .SH(2), .SW(2),
        .PT(0), .PL(0), .H_OUT(3), .W_OUT(3), .PKH(1), .PKW(2), .P(3), .BETA(17),
        .BIAS_MAP(1), .OUT_FLAT(1), .BP(1), .MUL_OPERATOR(1), .SEED(26)
    ) s2p (.clk(clk), .rst(rst), .done(done[5]), .fail(fail[5]));

    integer cycles;
    initial cycles = 0;
    always @(posedge clk) begin
        cycles = cycles + 1;
        if (&done) begin
            if (|fail) failed = 1'b1;
            tb_finish;
        end
        if (cycles > 200000) begin
            $display("FAIL ttfs_conv_layer: timeout (done=%b)", done);
            failed = 1'b1;
            tb_finish;
        end
    end

endmodule

// One DUT, its stimulus, reference and checks. WB = 4, BW = 12, QIN_W = 4,
// QOUT_W = 4, VW = 16.
module ttfs_conv_layer_tb_run #(
    parameter NAME = "run",
    parameter integer C_IN = 2,
    parameter integer H_IN = 6,
    parameter integer W_IN = 6,
    parameter integer C_OUT = 5,
    parameter integer KH = 3,
    parameter integer KW = 3,
    parameter integer SH = 1,
    parameter integer SW = 1,
    parameter integer PT = 1,
    parameter integer PL = 1,
    parameter integer H_OUT = 6,
    parameter integer W_OUT = 6,
    parameter integer PKH = 2,
    parameter integer PKW = 2,
    parameter integer P = 2,
    parameter integer BETA = 37,
    parameter integer BIAS_MAP = 0,
    parameter integer OUT_FLAT = 0,
    parameter integer BP = 0,
    parameter integer MUL_OPERATOR = 1,
    parameter integer SEED = 1,
    parameter integer BSHIFT = 0
) (
    input  wire clk,
    input  wire rst,
    output reg  done,
    output reg  fail
);

    function integer nbits;
        input integer n;
        begin
            nbits = (n > 1) ? $clog2(n) : 1;
        end
    endfunction

    localparam integer WB = 4;
    localparam integer BW = 12;
    localparam integer QIN_W = 4;
    localparam integer QOUT_W = 4;
    localparam integer VW = 16;
    localparam integer FIRE_SPS = 1;
    localparam integer G = (C_OUT + P - 1) / P;
    localparam integer POOL_H = H_OUT / PKH;
    localparam integer POOL_W = W_OUT / PKW;
    localparam integer H_USE = POOL_H * PKH;
    localparam integer W_USE = POOL_W * PKW;
    localparam integer NPOS = H_USE * W_USE;
    localparam integer N_IN = C_IN * H_IN * W_IN;
    localparam integer N_OUT = C_OUT * POOL_H * POOL_W;
    localparam integer XBI = nbits(W_IN);
    localparam integer YBI = nbits(H_IN);
    localparam integer CBI = nbits(C_IN);
    localparam integer XBO = nbits(POOL_W);
    localparam integer YBO = nbits(POOL_H);
    localparam integer CBO = nbits(C_OUT);
    localparam integer IDX_IN_W = CBI + YBI + XBI;
    localparam integer IDX_OUT_W = (OUT_FLAT != 0) ? nbits(N_OUT) : CBO + YBO + XBO;
    localparam integer WDEPTH = C_IN * KH * KW * G;
    localparam integer WAW = nbits(WDEPTH);
    localparam integer BDEPTH = (BIAS_MAP != 0) ? NPOS * G : G;
    localparam integer LAT_FIRE = (QOUT_W + FIRE_SPS - 1) / FIRE_SPS + 1;
    localparam integer T = (1 << QOUT_W) - 1;
    localparam integer NIMG = 6;
    localparam integer MAXB = NIMG * (N_IN + 1);
    localparam integer MAXO = NIMG * (N_OUT + 1);

    reg [31:0] rng;
    `TTFS_TB_XORSHIFT32

    // ---- reference data ----------------------------------------------------
    integer wref [0:C_OUT*C_IN*KH*KW-1];   // [co][c][ky][kx]
    integer bref [0:C_OUT*H_USE*W_USE-1];  // [co][oy][ox] (the channel's bias repeated without a map)

    reg [IDX_IN_W-1:0]  b_idx [0:MAXB-1];
    reg [QIN_W-1:0]     b_q [0:MAXB-1];
    reg                 b_last [0:MAXB-1];
    integer             nbeats;
    reg [IDX_OUT_W-1:0] e_idx [0:MAXO-1];
    integer             e_val [0:MAXO-1];
    reg                 e_last [0:MAXO-1];
    integer             nexp;
    integer             img_a [0:NIMG-1];   // accumulate cycles per image
    integer             img_e [0:NIMG-1];   // output events per image

    integer qin [0:N_IN-1];
    integer vpot [0:C_OUT*H_USE*W_USE-1];
    integer img, i, j, kind, c, y, x, co, oy, ox, ky, kx, py, px, dy, dx, gg, l, v, m, q, taps, ry, rx, word;
    reg [P*WB-1:0] wword;
    reg [P*BW-1:0] bword;

    // Input index of (c, y, x), packed.
    function [IDX_IN_W-1:0] in_index;
        input integer cc, yy, xx;
        reg [CBI-1:0] fc;
        reg [YBI-1:0] fy;
        reg [XBI-1:0] fx;
        begin
            fc = cc[CBI-1:0];
            fy = yy[YBI-1:0];
            fx = xx[XBI-1:0];
            in_index = {fc, fy, fx};
        end
    endfunction

    // Output index of (co, py, px): flat or packed.
    function [IDX_OUT_W-1:0] out_index;
        input integer cc, yy, xx;
        integer flat;
        reg [CBO-1:0] fc;
        reg [YBO-1:0] fy;
        reg [XBO-1:0] fx;
        begin
            flat = (cc * POOL_H + yy) * POOL_W + xx;
            fc = cc[CBO-1:0];
            fy = yy[YBO-1:0];
            fx = xx[XBO-1:0];
            if (OUT_FLAT != 0) out_index = flat[IDX_OUT_W-1:0];
            else out_index = {fc, fy, fx};
        end
    endfunction

    // ---- DUT ---------------------------------------------------------------
    reg                  in_valid;
    wire                 in_ready;
    reg                  in_last;
    reg [IDX_IN_W-1:0]   in_idx;
    reg [QIN_W-1:0]      in_q;
    wire                 out_valid;
    reg                  out_ready;
    wire                 out_last;
    wire [IDX_OUT_W-1:0] out_idx;
    wire [QOUT_W-1:0]    out_q;
    wire                 w_rd_en;
    wire [WAW-1:0]       w_rd_addr;
    reg [P*WB-1:0]       w_rd_data;

    ttfs_conv_layer #(
        .C_IN(C_IN), .H_IN(H_IN), .W_IN(W_IN), .C_OUT(C_OUT), .KH(KH), .KW(KW), .SH(SH), .SW(SW),
        .PT(PT), .PL(PL), .H_OUT(H_OUT), .W_OUT(W_OUT), .PKH(PKH), .PKW(PKW), .P(P),
        .WB(WB), .BW(BW), .QIN_W(QIN_W), .VW(VW), .QOUT_W(QOUT_W), .BETA(BETA),
        .FIRE_SPS(FIRE_SPS), .MUL_OPERATOR(MUL_OPERATOR), .BIAS_MAP(BIAS_MAP),
        .OUT_FLAT(OUT_FLAT), .IDX_IN_W(IDX_IN_W), .IDX_OUT_W(IDX_OUT_W), .BIAS_FILE("")
    ) dut (
        .clk(clk), .rst(rst),
        .in_valid(in_valid), .in_ready(in_ready), .in_last(in_last),
        .in_idx(in_idx), .in_q(in_q),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last),
        .out_idx(out_idx), .out_q(out_q),
        .w_rd_en(w_rd_en), .w_rd_addr(w_rd_addr), .w_rd_data(w_rd_data));

    // The weight memory: registered read that holds its word until the
    // next read (as ttfs_weight_rom and ttfs_weight_spram do).
    reg [P*WB-1:0] xmem [0:WDEPTH-1];
    always @(posedge clk) begin
        if (w_rd_en) w_rd_data <= xmem[w_rd_addr];
    end

    initial begin
        done = 1'b0;
        fail = 1'b0;
        rng = 32'h2545f491 ^ SEED;
        // weights and the packed memory (junk in lanes past C_OUT)
        for (i = 0; i < C_OUT * C_IN * KH * KW; i = i + 1) begin
            rng = xorshift32(rng);
            wref[i] = $signed({1'b0, rng[3:0]}) - 8;
            if (wref[i] == -8) wref[i] = -7;
        end
        for (c = 0; c < C_IN; c = c + 1)
            for (ky = 0; ky < KH; ky = ky + 1)
                for (kx = 0; kx < KW; kx = kx + 1)
                    for (gg = 0; gg < G; gg = gg + 1) begin
                        for (l = 0; l < P; l = l + 1) begin
                            co = gg * P + l;
                            rng = xorshift32(rng);
                            if (co < C_OUT) v = wref[((co * C_IN + c) * KH + ky) * KW + kx];
                            else v = rng[7:0];
                            wword[l*WB +: WB] = v[WB-1:0];
                        end
                        xmem[((c * KH + ky) * KW + kx) * G + gg] = wword;
                    end
        // biases
        for (co = 0; co < C_OUT; co = co + 1) begin
            rng = xorshift32(rng);
            v = ($signed({1'b0, rng[8:0]}) - 300) >>> BSHIFT;
            for (oy = 0; oy < H_USE; oy = oy + 1)
                for (ox = 0; ox < W_USE; ox = ox + 1) begin
                    if (BIAS_MAP != 0) begin
                        rng = xorshift32(rng);
                        bref[(co * H_USE + oy) * W_USE + ox] = ($signed({1'b0, rng[8:0]}) - 300) >>> BSHIFT;
                    end else begin
                        bref[(co * H_USE + oy) * W_USE + ox] = v;
                    end
                end
        end
        for (i = 0; i < BDEPTH; i = i + 1) begin
            gg = i % G;
            m = i / G;          // position (bias map)
            for (l = 0; l < P; l = l + 1) begin
                co = gg * P + l;
                rng = xorshift32(rng);
                if (co < C_OUT) v = bref[co * NPOS + ((BIAS_MAP != 0) ? m : 0)];
                else v = rng[11:0];
                bword[l*BW +: BW] = v[BW-1:0];
            end
            dut.bmem[i] = bword;
        end
        // images
        nbeats = 0;
        nexp = 0;
        for (img = 0; img < NIMG; img = img + 1) begin
            kind = (img < 5) ? img : 0;
            for (i = 0; i < N_IN; i = i + 1) begin
                rng = xorshift32(rng);
                if (kind == 1) qin[i] = 0;
                else if (kind == 2) qin[i] = (1 << QIN_W) - 1;
                else if (rng[3:2] == 2'd0) qin[i] = 0;
                else qin[i] = (rng[11:8] == 4'd0) ? 1 : rng[11:8];
            end
            img_a[img] = 0;
            for (j = 0; j < N_IN; j = j + 1) begin
                // kind 3: decreasing; kind 4: position-major (y, x, c)
                if (kind == 3) i = N_IN - 1 - j;
                else if (kind == 4) i = (j % C_IN) * H_IN * W_IN + j / C_IN;
                else i = j;
                if (qin[i] != 0) begin
                    c = i / (H_IN * W_IN);
                    y = (i / W_IN) % H_IN;
                    x = i % W_IN;
                    b_idx[nbeats] = in_index(c, y, x);
                    b_q[nbeats] = qin[i][QIN_W-1:0];
                    b_last[nbeats] = 1'b0;
                    nbeats = nbeats + 1;
                    taps = 0;
                    ry = y + PT;
                    rx = x + PL;
                    for (ky = 0; ky < KH; ky = ky + 1)
                        for (kx = 0; kx < KW; kx = kx + 1)
                            if (ry - ky >= 0 && (ry - ky) % SH == 0 && (ry - ky) / SH < H_USE
                                && rx - kx >= 0 && (rx - kx) % SW == 0 && (rx - kx) / SW < W_USE)
                                taps = taps + 1;
                    img_a[img] = img_a[img] + ((taps == 0) ? 1 : taps * G);
                end
            end
            b_idx[nbeats] = {IDX_IN_W{1'b0}};
            b_q[nbeats] = {QIN_W{1'b0}};
            b_last[nbeats] = 1'b1;
            nbeats = nbeats + 1;
            // reference potentials
            for (co = 0; co < C_OUT; co = co + 1)
                for (oy = 0; oy < H_USE; oy = oy + 1)
                    for (ox = 0; ox < W_USE; ox = ox + 1) begin
                        v = bref[(co * H_USE + oy) * W_USE + ox];
                        for (c = 0; c < C_IN; c = c + 1)
                            for (ky = 0; ky < KH; ky = ky + 1)
                                for (kx = 0; kx < KW; kx = kx + 1) begin
                                    y = oy * SH + ky - PT;
                                    x = ox * SW + kx - PL;
                                    if (y >= 0 && y < H_IN && x >= 0 && x < W_IN)
                                        v = v + wref[((co * C_IN + c) * KH + ky) * KW + kx]
                                                * qin[(c * H_IN + y) * W_IN + x];
                                end
                        vpot[(co * H_USE + oy) * W_USE + ox] = v;
                    end
            // pool, fire, emission order (py, px, co)
            img_e[img] = 0;
            for (py = 0; py < POOL_H; py = py + 1)
                for (px = 0; px < POOL_W; px = px + 1)
                    for (co = 0; co < C_OUT; co = co + 1) begin
                        m = vpot[(co * H_USE + py * PKH) * W_USE + px * PKW];
                        for (dy = 0; dy < PKH; dy = dy + 1)
                            for (dx = 0; dx < PKW; dx = dx + 1)
                                if (vpot[(co * H_USE + py * PKH + dy) * W_USE + px * PKW + dx] > m)
                                    m = vpot[(co * H_USE + py * PKH + dy) * W_USE + px * PKW + dx];
                        if (m < 0) q = 0;
                        else begin
                            q = m / BETA;
                            if (q > T) q = T;
                        end
                        if (q > 0) begin
                            e_idx[nexp] = out_index(co, py, px);
                            e_val[nexp] = q;
                            e_last[nexp] = 1'b0;
                            nexp = nexp + 1;
                            img_e[img] = img_e[img] + 1;
                        end
                    end
            e_idx[nexp] = {IDX_OUT_W{1'b0}};
            e_val[nexp] = 0;
            e_last[nexp] = 1'b1;
            nexp = nexp + 1;
        end
    end

    // ---- driver ------------------------------------------------------------
    integer bptr;
    reg [31:0] r;
    integer nb;
    always @(posedge clk) begin
        if (rst) begin
            in_valid <= 1'b0;
            in_last <= 1'b0;
            in_idx <= {IDX_IN_W{1'b0}};
            in_q <= {QIN_W{1'b0}};
            out_ready <= 1'b0;
            bptr = 0;
        end else begin
            r = xorshift32(rng);
            rng <= r;
            out_ready <= (BP == 0) || (r[9:8] != 2'd0 && r[11:10] != 2'd0);
            if (!in_valid || in_ready) begin
                nb = in_valid ? bptr + 1 : bptr;
                bptr = nb;
                if (nb < nbeats && (BP == 0 || r[3:2] != 2'd0)) begin
                    in_valid <= 1'b1;
                    in_idx <= b_idx[nb];
                    in_q <= b_q[nb];
                    in_last <= b_last[nb];
                end else begin
                    in_valid <= 1'b0;
                    in_idx <= r[IDX_IN_W+15:16];
                    in_q <= r[QIN_W+23:24];
                    in_last <= r[0];
                end
            end
        end
    end

    // ---- checker -----------------------------------------------------------
    integer optr;
    integer cyc;
    integer img_start;
    integer oimg;
    integer want_cycles;
    integer errors;
    reg                 held;
    reg                 h_last;
    reg [IDX_OUT_W-1:0] h_idx;
    reg [QOUT_W-1:0]    h_q;

    initial begin
        optr = 0;
        cyc = 0;
        img_start = 0;
        oimg = 0;
        errors = 0;
        held = 1'b0;
    end

    always @(posedge clk) begin
        if (!rst && !done) begin
            if (held && (!out_valid || out_last !== h_last || out_idx !== h_idx || out_q !== h_q)) begin
                errors = errors + 1;
                $display("FAIL ttfs_conv_layer %0s: output beat changed while not ready (cycle %0d)",
                         NAME, cyc);
            end
            held = out_valid && !out_ready;
            h_last = out_last;
            h_idx = out_idx;
            h_q = out_q;
            if (out_valid && out_ready) begin
                if (optr >= nexp) begin
                    errors = errors + 1;
                    $display("FAIL ttfs_conv_layer %0s: extra output beat", NAME);
                end else begin
                    if (out_last !== e_last[optr]
                        || (!e_last[optr] && (out_idx !== e_idx[optr] || out_q !== e_val[optr][QOUT_W-1:0]))) begin
                        errors = errors + 1;
                        if (errors <= 10)
                            $display("FAIL ttfs_conv_layer %0s: image %0d beat %0d: last=%b idx=%0d q=%0d, want last=%b idx=%0d q=%0d",
                                     NAME, oimg, optr, out_last, out_idx, out_q,
                                     e_last[optr], e_idx[optr], e_val[optr]);
                    end
                    if (e_last[optr]) begin
                        // Image 0 from the first cycle after reset: the bias load, then
                        // LATENCY less the input and decode cycles (the two
                        // registers take the first events during the load).
                        if (oimg == 0) want_cycles = NPOS * G + img_a[oimg] + NPOS * G + img_e[oimg] + LAT_FIRE + 5;
                        else want_cycles = img_a[oimg] + NPOS * G + img_e[oimg] + 1;
                        if (BP == 0 && cyc - img_start + 1 != want_cycles) begin
                            errors = errors + 1;
                            $display("FAIL ttfs_conv_layer %0s: image %0d (A=%0d E=%0d F=%0d) took %0d cycles, formula %0d",
                                     NAME, oimg, img_a[oimg], img_e[oimg], NPOS * G,
                                     cyc - img_start + 1, want_cycles);
                        end
                        img_start = cyc + 1;
                        oimg = oimg + 1;
                    end
                    optr = optr + 1;
                    if (optr == nexp) begin
                        done <= 1'b1;
                        if (errors == 0)
                            $display("ttfs_conv_layer %0s: %0d images, %0d output beats, %0d cycles",
                                     NAME, NIMG, nexp, cyc + 1);
                    end
                end
            end
            if (errors != 0) fail <= 1'b1;
            cyc = cyc + 1;
        end
    end

endmodule
`default_nettype wire
