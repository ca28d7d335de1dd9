`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_dense_layer.
//
// Ten runs, each a DUT with its own driver and checker (module
// ttfs_dense_layer_tb_run below), all on one clock:
//   h_ram   hidden 12 -> 10, P = 4 (G = 3, last block partial), BETA = 37,
//           potentials in RAM, internal weight ROM; cycle formula checked
//   h_ring  same weights, BETA = 203, QOUT_W = 6, ring potentials,
//           FIRE_SPS = 3, external weight port (bench memory that holds its
//           word between reads), shift-add multipliers, random output
//           back-pressure and input gaps, junk weights and biases in the
//           lanes past the last neuron
//   o_p3    output layer 10 -> 3, P = 3 (G = 1, ring); cycle formula checked
//   o_p1    output layer 10 -> 3, P = 1 (G = 3), potentials in RAM,
//           shift-add multiplier; cycle formula checked
//   o_p2bp  output layer 10 -> 3, P = 2 (G = 2, last block partial, junk
//           past the last neuron), potentials in RAM, back-pressure and
//           input gaps
//   s_hid   hidden 6 -> 5, weights in [-3, 3], VW = 14 (narrower than a
//           product, 17 bits, and than a bias, 16 bits: arithmetic modulo
//           2^VW), BETA = 5, QOUT_W = 4, P = 2 (G = 3, junk past the last
//           neuron), potentials in RAM; cycle formula checked
//   s_out   the same weights as an output layer, P = 5 (G = 1, ring),
//           shift-add multipliers, back-pressure and input gaps
//   h_ramx, o_p2x, s_outx  h_ram, o_p2bp and s_out with READ_REG = 1 (the
//           stage X: RAM potentials three ops apart, two ops apart with
//           forwarding, the ring); h_ramx's cycle formula checked
// Weights and biases: tb/data/ttfs_dense_layer_*.hex, written by
// tb/gen_ttfs_dense_layer_data.py (fixed seeds). The DUT reads the packed ROM
// images; the bench reads the logical matrices (*_wref, *_bref) and computes
// V = b + sum W*q and q = clamp(floor(V/BETA), 0, T) itself.
// Images per run (events from xorshift32, fixed seeds): random events in
// increasing index order, no events, every input at q = 2^QIN_W - 1, random
// events in decreasing order, and more random ones, back to back.
// Every output beat (idx, q or logit, last) is compared; beats must hold
// while valid && !ready. Prints "*-* All Finished *-*" on success,
// "FAIL ..." otherwise.
module ttfs_dense_layer_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(3)
    `TTFS_TB_VERDICT

    wire [9:0] done;
    wire [9:0] fail;

    ttfs_dense_layer_tb_run #(
        .NAME("h_ram"), .N_IN(12), .N_OUT(10), .P(4), .IDX_IN_W(4), .IDX_OUT_W(4),
        .VW(20), .HIDDEN(1), .QOUT_W(8), .BETA(37), .FIRE_SPS(1), .POT_RAM(1),
        .BP(0), .SEED(11),
        .WFILE("data/ttfs_dense_layer_h_p4_w.hex"), .BFILE("data/ttfs_dense_layer_h_p4_b.hex"),
        .WREF("data/ttfs_dense_layer_h_wref.hex"), .BREF("data/ttfs_dense_layer_h_bref.hex")
    ) h_ram (.clk(clk), .rst(rst), .done(done[0]), .fail(fail[0]));

    ttfs_dense_layer_tb_run #(
        .NAME("h_ring"), .N_IN(12), .N_OUT(10), .P(4), .IDX_IN_W(5), .IDX_OUT_W(4),
        .VW(24), .HIDDEN(1), .QOUT_W(6), .BETA(203), .FIRE_SPS(3), .POT_RAM(0),
        .BP(1), .MUL_OPERATOR(0), .SEED(12),
        .WFILE("data/ttfs_dense_layer_h_p4_wpad.hex"), .BFILE("data/ttfs_dense_layer_h_p4_bpad.hex"),
        .WREF("data/ttfs_dense_layer_h_wref.hex"), .BREF("data/ttfs_dense_layer_h_bref.hex")
    ) h_ring (.clk(clk), .rst(rst), .done(done[1]), .fail(fail[1]));

    ttfs_dense_layer_tb_run #(
        .NAME("o_p3"), .N_IN(10), .N_OUT(3), .P(3), .IDX_IN_W(4), .IDX_OUT_W(2),
        .VW(20), .HIDDEN(0), .QOUT_W(8), .BETA(1), .FIRE_SPS(1), .POT_RAM(1),
        .BP(0), .SEED(13),
        .WFILE("data/ttfs_dense_layer_o_p3_w.hex"), .BFILE("data/ttfs_dense_layer_o_p3_b.hex"),
        .WREF("data/ttfs_dense_layer_o_wref.hex"), .BREF("data/ttfs_dense_layer_o_bref.hex")
    ) o_p3 (.clk(clk), .rst(rst), .done(done[2]), .fail(fail[2]));

    ttfs_dense_layer_tb_run #(
        .NAME("o_p1"), .N_IN(10), .N_OUT(3), .P(1), .IDX_IN_W(4), .IDX_OUT_W(2),
        .VW(21), .HIDDEN(0), .QOUT_W(8), .BETA(1), .FIRE_SPS(1), .POT_RAM(1),
        .BP(0), .MUL_OPERATOR(0), .SEED(14),
        .WFILE("data/ttfs_dense_layer_o_p1_w.hex"), .BFILE("data/ttfs_dense_layer_o_p1_b.hex"),
        .WREF("data/ttfs_dense_layer_o_wref.hex"), .BREF("data/ttfs_dense_layer_o_bref.hex")
    ) o_p1 (.clk(clk), .rst(rst), .done(done[3]), .fail(fail[3]));

    ttfs_dense_layer_tb_run #(
        .NAME("o_p2bp"), .N_IN(10), .N_OUT(3), .P(2), .IDX_IN_W(4), .IDX_OUT_W(3),
        .VW(20), .HIDDEN(0), .QOUT_W(8), .BETA(1), .FIRE_SPS(1), .POT_RAM(1),
        .BP(1), .SEED(15),
        .WFILE("data/ttfs_dense_layer_o_p2_wpad.hex"), .BFILE("data/ttfs_dense_layer_o_p2_bpad.hex"),
        .WREF("data/ttfs_dense_layer_o_wref.hex"), .BREF("data/ttfs_dense_layer_o_bref.hex")
    ) o_p2bp (.clk(clk), .rst(rst), .done(done[4]), .fail(fail[4]));

    ttfs_dense_layer_tb_run #(
        .NAME("s_hid"), .N_IN(6), .N_OUT(5), .P(2), .IDX_IN_W(3), .IDX_OUT_W(3),
        .VW(14), .HIDDEN(1), .QOUT_W(4), .BETA(5), .FIRE_SPS(2), .POT_RAM(1),
        .BP(0), .SEED(16),
        .WFILE("data/ttfs_dense_layer_s_p2_wpad.hex"), .BFILE("data/ttfs_dense_layer_s_p2_bpad.hex"),
        .WREF("data/ttfs_dense_layer_s_wref.hex"), .BREF("data/ttfs_dense_layer_s_bref.hex")
    ) s_hid (.clk(clk), .rst(rst), .done(done[5]), .fail(fail[5]));

    ttfs_dense_layer_tb_run #(
        .NAME("s_out"), .N_IN(6), .N_OUT(5), .P(5), .IDX_IN_W(3), .IDX_OUT_W(3),
        .VW(14), .HIDDEN(0), .QOUT_W(8), .BETA(1), .FIRE_SPS(1), .POT_RAM(1),
        .BP(1), .MUL_OPERATOR(0), .SEED(17),
        .WFILE("data/ttfs_dense_layer_s_p5_w.hex"), .BFILE("data/ttfs_dense_layer_s_p5_b.hex"),
        .WREF("data/ttfs_dense_layer_s_wref.hex"), .BREF("data/ttfs_dense_layer_s_bref.hex")
    ) s_out (.clk(clk), .rst(rst), .done(done[6]), .fail(fail[6]));

    ttfs_dense_layer_tb_run #(
        .NAME("h_ramx"), .N_IN(12), .N_OUT(10), .P(4), .IDX_IN_W(4), .IDX_OUT_W(4),
        .VW(20), .HIDDEN(1), .QOUT_W(8), .BETA(37), .FIRE_SPS(1), .POT_RAM(1),
        .BP(0), .SEED(18), .READ_REG(1),
        .WFILE("data/ttfs_dense_layer_h_p4_w.hex"), .BFILE("data/ttfs_dense_layer_h_p4_b.hex"),
        .WREF("data/ttfs_dense_layer_h_wref.hex"), .BREF("data/ttfs_dense_layer_h_bref.hex")
    ) h_ramx (.clk(clk), .rst(rst), .done(done[7]), .fail(fail[7]));

    ttfs_dense_layer_tb_run #(
        .NAME("o_p2x"), .N_IN(10), .N_OUT(3), .P(2), .IDX_IN_W(4), .IDX_OUT_W(3),
        .VW(20), .HIDDEN(0), .QOUT_W(8), .BETA(1), .FIRE_SPS(1), .POT_RAM(1),
        .BP(1), .SEED(19), .READ_REG(1),
        .WFILE("data/ttfs_dense_layer_o_p2_wpad.hex"), .BFILE("data/ttfs_dense_layer_o_p2_bpad.hex"),
        .WREF("data/ttfs_dense_layer_o_wref.hex"), .BREF("data/ttfs_dense_layer_o_bref.hex")
    ) o_p2x (.clk(clk), .rst(rst), .done(done[8]), .fail(fail[8]));

    ttfs_dense_layer_tb_run #(
        .NAME("s_outx"), .N_IN(6), .N_OUT(5), .P(5), .IDX_IN_W(3), .IDX_OUT_W(3),
        .VW(14), .HIDDEN(0), .QOUT_W(8), .BETA(1), .FIRE_SPS(1), .POT_RAM(1),
        .BP(1), .MUL_OPERATOR(0), .SEED(20), .READ_REG(1),
        .WFILE("data/ttfs_dense_layer_s_p5_w.hex"), .BFILE("data/ttfs_dense_layer_s_p5_b.hex"),
        .WREF("data/ttfs_dense_layer_s_wref.hex"), .BREF("data/ttfs_dense_layer_s_bref.hex")
    ) s_outx (.clk(clk), .rst(rst), .done(done[9]), .fail(fail[9]));

    integer cycles;
    initial begin
        @(negedge rst);
        cycles = 0;
        while (done != 10'h3ff && cycles < 5000) begin
            @(posedge clk);
            cycles = cycles + 1;
        end
        if (done != 10'h3ff) begin
            $display("FAIL ttfs_dense_layer_tb: timeout, done = %b", done);
            failed = 1'b1;
        end else if (fail != 10'h000) begin
            $display("FAIL ttfs_dense_layer_tb: runs failed: %b", fail);
            failed = 1'b1;
        end
        tb_finish;
    end

endmodule

// One DUT, its stimulus, reference and checks. WB = 8, BW = 16, QIN_W = 8.
module ttfs_dense_layer_tb_run #(
    parameter NAME = "run",
    parameter integer N_IN = 12,
    parameter integer N_OUT = 10,
    parameter integer P = 4,
    parameter integer IDX_IN_W = 4,
    parameter integer IDX_OUT_W = 4,
    parameter integer VW = 20,
    parameter integer HIDDEN = 1,
    parameter integer QOUT_W = 8,
    parameter integer BETA = 37,
    parameter integer FIRE_SPS = 1,
    parameter integer POT_RAM = 0,
    parameter integer BP = 0,
    parameter integer MUL_OPERATOR = 1,
    parameter integer SEED = 1,
    parameter integer READ_REG = 0,
    parameter WFILE = "",
    parameter BFILE = "",
    parameter WREF = "",
    parameter BREF = ""
) (
    input  wire clk,
    input  wire rst,
    output reg  done,
    output reg  fail
);

    localparam integer WB = 8;
    localparam integer BW = 16;
    localparam integer QIN_W = 8;
    localparam integer G = (N_OUT + P - 1) / P;
    localparam integer WDEPTH = N_IN * G;
    localparam integer WAW = (WDEPTH > 1) ? $clog2(WDEPTH) : 1;
    localparam integer LAT_FIRE = (HIDDEN != 0) ? (QOUT_W + FIRE_SPS - 1) / FIRE_SPS + 1 : 0;
    localparam integer T = (1 << QOUT_W) - 1;
    localparam integer NIMG = 8;
    localparam integer MAXB = NIMG * (N_IN + 1);
    localparam integer MAXO = NIMG * (N_OUT + 1);

    reg [31:0] rng;
    `TTFS_TB_XORSHIFT32

    // ---- reference data ----------------------------------------------------
    reg [WB-1:0] wref [0:N_OUT*N_IN-1];
    reg [BW-1:0] bref [0:N_OUT-1];

    // input beats (all images, flattened) and expected output beats
    reg [IDX_IN_W-1:0] b_idx [0:MAXB-1];
    reg [QIN_W-1:0]    b_q [0:MAXB-1];
    reg                b_last [0:MAXB-1];
    integer            nbeats;
    reg [IDX_OUT_W-1:0] e_idx [0:MAXO-1];
    reg signed [63:0]  e_val [0:MAXO-1];
    reg                e_last [0:MAXO-1];
    integer            nexp;
    integer            img_s [0:NIMG-1];   // input events per image
    integer            img_e [0:NIMG-1];   // output beats before last per image

    reg [QIN_W-1:0]    qin [0:N_IN-1];     // this image's input values
    reg                fired [0:N_IN-1];
    reg signed [63:0]  v;
    reg signed [63:0]  qv;
    integer img, i, j, kind;

    initial begin
        done = 1'b0;
        fail = 1'b0;
        rng = 32'h2545f491 ^ SEED;
        $readmemh(WREF, wref);
        $readmemh(BREF, bref);
        nbeats = 0;
        nexp = 0;
        for (img = 0; img < NIMG; img = img + 1) begin
            // image kinds: 0 random increasing, 1 none, 2 all at max,
            // 3 random decreasing, then random increasing again
            kind = (img < 4) ? img : 0;
            img_s[img] = 0;
            for (j = 0; j < N_IN; j = j + 1) begin
                rng = xorshift32(rng);
                fired[j] = (kind == 2) || ((kind == 0 || kind == 3) && rng[3:2] != 2'd0);
                qin[j] = (kind == 2) ? {QIN_W{1'b1}} : (fired[j] ? rng[15:8] : {QIN_W{1'b0}});
                if (fired[j] && qin[j] == {QIN_W{1'b0}}) qin[j] = 8'd1;
            end
            for (j = 0; j < N_IN; j = j + 1) begin
                i = (kind == 3) ? N_IN - 1 - j : j;
                if (fired[i]) begin
                    b_idx[nbeats] = i[IDX_IN_W-1:0];
                    b_q[nbeats] = qin[i];
                    b_last[nbeats] = 1'b0;
                    nbeats = nbeats + 1;
                    img_s[img] = img_s[img] + 1;
                end
            end
            b_idx[nbeats] = {IDX_IN_W{1'b0}};
            b_q[nbeats] = {QIN_W{1'b0}};
            b_last[nbeats] = 1'b1;
            nbeats = nbeats + 1;
            // reference
            img_e[img] = 0;
            for (i = 0; i < N_OUT; i = i + 1) begin
                v = $signed(bref[i]);
                for (j = 0; j < N_IN; j = j + 1) begin
                    if (fired[j]) v = v + $signed(wref[i * N_IN + j]) * $signed({56'd0, qin[j]});
                end
                if (HIDDEN != 0) begin
                    if (v < 0) qv = 0;
                    else begin
                        qv = v / BETA;
                        if (qv > T) qv = T;
                    end
                    if (qv > 0) begin
                        e_idx[nexp] = i[IDX_OUT_W-1:0];
                        e_val[nexp] = qv;
                        e_last[nexp] = 1'b0;
                        nexp = nexp + 1;
                        img_e[img] = img_e[img] + 1;
                    end
                end else begin
                    e_idx[nexp] = i[IDX_OUT_W-1:0];
                    e_val[nexp] = v;
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
    wire signed [VW-1:0] out_v;
    wire                 w_rd_en;
    wire [WAW-1:0]       w_rd_addr;
    reg [P*WB-1:0]       w_rd_data;

    ttfs_dense_layer #(
        .N_IN(N_IN), .N_OUT(N_OUT), .P(P), .WB(WB), .BW(BW), .QIN_W(QIN_W),
        .IDX_IN_W(IDX_IN_W), .IDX_OUT_W(IDX_OUT_W), .VW(VW), .HIDDEN(HIDDEN),
        .QOUT_W(QOUT_W), .BETA(BETA), .FIRE_SPS(FIRE_SPS), .POT_RAM(POT_RAM), .READ_REG(READ_REG),
        .MUL_OPERATOR(MUL_OPERATOR),
        .BIAS_FILE(BFILE)
    ) dut (
        .clk(clk), .rst(rst),
        .in_valid(in_valid), .in_ready(in_ready), .in_last(in_last),
        .in_idx(in_idx), .in_q(in_q),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last),
        .out_idx(out_idx), .out_q(out_q), .out_v(out_v),
        .w_rd_en(w_rd_en), .w_rd_addr(w_rd_addr), .w_rd_data(w_rd_data));

    // The weight memory: registered read that holds its word until the
    // next read (as ttfs_weight_rom and ttfs_weight_spram do).
    reg [P*WB-1:0] xmem [0:WDEPTH-1];
    initial $readmemh(WFILE, xmem);
    always @(posedge clk) begin
        if (w_rd_en) w_rd_data <= xmem[w_rd_addr];
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
    integer cyc;          // cycles since reset
    integer img_start;    // cycle after reset (image 0), else after the previous `last` beat
    integer oimg;         // image being output
    integer want_cycles;
    integer errors;
    reg                 held;      // last cycle: valid && !ready
    reg                 h_last;
    reg [IDX_OUT_W-1:0] h_idx;
    reg [QOUT_W-1:0]    h_q;
    reg [VW-1:0]        h_v;
    reg                 val_ok;

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
            if (held && (!out_valid || out_last !== h_last || out_idx !== h_idx
                         || out_q !== h_q || out_v !== h_v)) begin
                errors = errors + 1;
                $display("FAIL ttfs_dense_layer %0s: output beat changed while not ready (cycle %0d)",
                         NAME, cyc);
            end
            held = out_valid && !out_ready;
            h_last = out_last;
            h_idx = out_idx;
            h_q = out_q;
            h_v = out_v;
            if (out_valid && out_ready) begin
                if (optr >= nexp) begin
                    errors = errors + 1;
                    $display("FAIL ttfs_dense_layer %0s: extra output beat", NAME);
                end else begin
                    if (HIDDEN != 0) val_ok = (out_q === e_val[optr][QOUT_W-1:0]);
                    else val_ok = (out_v === e_val[optr][VW-1:0]);
                    if (out_last !== e_last[optr]
                        || (!e_last[optr] && (out_idx !== e_idx[optr] || !val_ok))) begin
                        errors = errors + 1;
                        if (errors <= 10)
                            $display("FAIL ttfs_dense_layer %0s: image %0d beat %0d: last=%b idx=%0d q=%0d v=%0d, want last=%b idx=%0d value=%0d",
                                     NAME, oimg, optr, out_last, out_idx, out_q, out_v,
                                     e_last[optr], e_idx[optr], e_val[optr]);
                    end
                    if (e_last[optr]) begin
                        // Image 0: from the first cycle after reset (bias
                        // load included) to its `last` beat, both included.
                        // Image i > 0: its `last` beat comes the image's busy
                        // time after the previous one's.
                        if (oimg == 0) want_cycles = G * (img_s[oimg] + 2) + img_e[oimg] + LAT_FIRE + 4 + READ_REG;
                        else want_cycles = G * (img_s[oimg] + 1) + img_e[oimg] + 1;
                        if (BP == 0 && cyc - img_start + 1 != want_cycles) begin
                            errors = errors + 1;
                            $display("FAIL ttfs_dense_layer %0s: image %0d (S=%0d E=%0d G=%0d) took %0d cycles, formula %0d",
                                     NAME, oimg, img_s[oimg], img_e[oimg], G,
                                     cyc - img_start + 1, want_cycles);
                        end
                        img_start = cyc + 1;
                        oimg = oimg + 1;
                    end
                    optr = optr + 1;
                    if (optr == nexp) begin
                        done <= 1'b1;
                        if (errors == 0)
                            $display("ttfs_dense_layer %0s: %0d images, %0d output beats, %0d cycles",
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
