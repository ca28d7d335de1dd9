`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_files_encoder, against vectors that the
// Rust reference computes (files/tests/encoder_vectors.rs writes
// tb/data/ttfs_files_encoder_vectors*.hex with ttfs_files::encoding::Encoding
// and ttfs_files::features::Token; see that file for the layout). No second
// model of the hash here: every expected channel comes from those files.
//
// Four encoders, each driven by its own ttfs_files_encoder_tb_run, one per
// vector file:
//   "default": KEYS = 12, M = 8, T = 16, W = 4, SEED = 1 (Encoding::default()),
//              QW = 8, Q = 255;
//   "w3":      KEYS = 5, M = 5, T = 8, W = 3 (the serial divider), SEED =
//              32'h9e3779b9, QW = 1, Q = 1;
//   "m20":     KEYS = 3, M = 20 (the neuron stage is the bottleneck), T = 4,
//              W = 1, SEED = 7, QW = 2, Q = 3;
//   "t1":      KEYS = 2, M = 3, T = 1 (the channel is the neuron), W = 2,
//              SEED = 32'hffffffff, QW = 3, Q = 5.
// Phases of each (a rst after each of phases 2 and 3):
//   0: every record of the file (keys out of order, keys omitted that must
//      come out as missing values, explicit missing values, small, neighbouring
//      and huge bins, values seen and never seen) under random (xorshift32,
//      fixed seed) valid and ready, with long out_ready-low stretches;
//   1: every record again at full rate (s_valid and out_ready always high):
//      prints the cycles per pair and the latency of the first event;
//   2: a well-formed record, one with a key sent twice (the second time
//      with another code: it makes no events), two well-formed ones;
//   3: a well-formed record, one with a key >= KEYS in the middle, two
//      whose s_last beat is a key >= KEYS (the record still ends there), a
//      well-formed one;
//   4: after the rst, two well-formed records.
// Every output beat is compared with the file's events, in order (then the
// `last` beat {1, 0, 0}), out_q with Q; out_* must hold while
// out_valid && !out_ready; every cycle, error must be 0 until a bad pair is
// taken and 1 from the next cycle on (the next record's pairs may be taken
// before the previous record's `last` beat leaves), and cleared by rst.
module ttfs_files_encoder_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_VERDICT

    wire done_a, fail_a, done_b, fail_b, done_c, fail_c, done_d, fail_d;

    ttfs_files_encoder_tb_run #(
        .KEYS(12), .M(8), .T(16), .W(4), .SEED(32'd1), .QW(8), .Q(255), .KEY_W(4), .IDX_W(11),
        .FILE("data/ttfs_files_encoder_vectors.hex"), .RNG_SEED(32'h0BAD_5EED), .NAME("default")
    ) run_default (.clk(clk), .done(done_a), .fail(fail_a));

    ttfs_files_encoder_tb_run #(
        .KEYS(5), .M(5), .T(8), .W(3), .SEED(32'h9e3779b9), .QW(1), .Q(1), .KEY_W(3), .IDX_W(8),
        .FILE("data/ttfs_files_encoder_vectors_w3.hex"), .RNG_SEED(32'h1234_5678), .NAME("w3")
    ) run_w3 (.clk(clk), .done(done_b), .fail(fail_b));

    ttfs_files_encoder_tb_run #(
        .KEYS(3), .M(20), .T(4), .W(1), .SEED(32'd7), .QW(2), .Q(3), .KEY_W(2), .IDX_W(8),
        .FILE("data/ttfs_files_encoder_vectors_m20.hex"), .RNG_SEED(32'h0000_2020), .NAME("m20")
    ) run_m20 (.clk(clk), .done(done_c), .fail(fail_c));

    ttfs_files_encoder_tb_run #(
        .KEYS(2), .M(3), .T(1), .W(2), .SEED(32'hffff_ffff), .QW(3), .Q(5), .KEY_W(2), .IDX_W(3),
        .FILE("data/ttfs_files_encoder_vectors_t1.hex"), .RNG_SEED(32'h7777_0001), .NAME("t1")
    ) run_t1 (.clk(clk), .done(done_d), .fail(fail_d));

    always @(posedge clk) begin
        if (done_a && done_b && done_c && done_d) begin
            if (fail_a || fail_b || fail_c || fail_d) failed = 1'b1;
            tb_finish;
        end
    end

endmodule

// One encoder, its stimulus and its checks (see above).
module ttfs_files_encoder_tb_run #(
    parameter integer KEYS = 12,
    parameter integer M = 8,
    parameter integer T = 16,
    parameter integer W = 4,
    parameter [31:0]  SEED = 32'd1,
    parameter integer QW = 8,
    parameter integer Q = 255,
    parameter integer KEY_W = 4,
    parameter integer IDX_W = 11,
    parameter         FILE = "",
    parameter [31:0]  RNG_SEED = 32'd1,
    parameter         NAME = ""
) (
    input  wire clk,
    output reg  done,
    output reg  fail
);

    `TTFS_TB_XORSHIFT32

    localparam integer MAXW = 8192;  // words of the vector file
    localparam integer MAXR = 128;   // records
    localparam integer MAXB = 4096;  // input beats
    localparam integer MAXE = 16384; // output beats
    localparam integer NPH = 5;      // phases
    localparam integer KM = KEYS * M;
    localparam integer Q_I = Q;
    localparam [QW-1:0] Q_C = Q_I[QW-1:0];

    reg              rst;
    reg              s_valid;
    wire             s_ready;
    reg              s_last;
    reg  [KEY_W-1:0] s_key;
    reg  [31:0]      s_code;
    wire             out_valid;
    reg              out_ready;
    wire             out_last;
    wire [IDX_W-1:0] out_idx;
    wire [QW-1:0]    out_q;
    wire             error;

    ttfs_files_encoder #(
        .KEYS(KEYS), .M(M), .T(T), .W(W), .SEED(SEED), .QW(QW), .Q(Q), .KEY_W(KEY_W), .IDX_W(IDX_W)
    ) dut (
        .clk(clk), .rst(rst),
        .s_valid(s_valid), .s_ready(s_ready), .s_last(s_last), .s_key(s_key), .s_code(s_code),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last),
        .out_idx(out_idx), .out_q(out_q), .error(error));

    reg [31:0] vec [0:MAXW-1];
    integer    rec_base [0:MAXR-1];
    integer    n_rec;
    // Input beats of phase p in [pb[p], pb[p+1]).
    reg [31:0] bk_key [0:MAXB-1];
    reg [31:0] bk_code [0:MAXB-1];
    reg        bk_last [0:MAXB-1];
    reg        bk_bad [0:MAXB-1];  // a key sent twice or out of range
    // Expected output beats {last, idx} of phase p in [pe[p], pe[p+1]).
    reg [IDX_W:0] ev [0:MAXE-1];
    integer pb [0:NPH];
    integer pe [0:NPH];
    integer n_b, n_e, n_pairs_full;
    reg [31:0] rng;

    task add_beat;
        input [31:0] key;
        input [31:0] code;
        input        bad;
        begin
            bk_key[n_b] = key;
            bk_code[n_b] = code;
            bk_last[n_b] = 1'b0;
            bk_bad[n_b] = bad;
            n_b = n_b + 1;
        end
    endtask

    // Record r of the file as beats and expected events. mode 0: as it is;
    // 1: its first key again (another code) after its first pair; 2: a key
    // >= KEYS after its first pair; 3: a key >= KEYS as its s_last beat.
    task add_record;
        input integer rec;
        input integer mode;
        integer p, jj, i, pos;
        reg [31:0] bad_key;
        begin
            pos = rec_base[rec];
            p = $signed(vec[pos]);
            pos = pos + 1;
            rng = xorshift32(rng);
            bad_key = KEYS + (rng % ((1 << KEY_W) - KEYS));
            for (jj = 0; jj < p; jj = jj + 1) begin
                add_beat(vec[pos + jj * (2 + M)], vec[pos + jj * (2 + M) + 1], 1'b0);
                if (jj == 0 && mode == 1) add_beat(vec[pos], vec[pos + 1] ^ 32'd1, 1'b1);
                if (jj == 0 && mode == 2) add_beat(bad_key, rng, 1'b1);
            end
            if (mode == 3) add_beat(bad_key, ~rng, 1'b1);
            bk_last[n_b - 1] = 1'b1;
            for (jj = 0; jj < p; jj = jj + 1) begin
                for (i = 0; i < M; i = i + 1) begin
                    ev[n_e] = {1'b0, vec[pos + 2 + i][IDX_W-1:0]};
                    n_e = n_e + 1;
                end
                pos = pos + 2 + M;
            end
            for (i = 0; i < (KEYS - p) * M; i = i + 1) begin
                ev[n_e] = {1'b0, vec[pos + i][IDX_W-1:0]};
                n_e = n_e + 1;
            end
            ev[n_e] = {1'b1, {IDX_W{1'b0}}};
            n_e = n_e + 1;
        end
    endtask

    integer r, p_words;
    initial begin
        done = 1'b0;
        fail = 1'b0;
        rng = RNG_SEED;
        $readmemh(FILE, vec);
        // The records: after the K x M missing-value table, until ffffffff.
        n_rec = 0;
        p_words = KM;
        while (vec[p_words] !== 32'hffff_ffff) begin
            if (n_rec >= MAXR || vec[p_words] > KEYS || ^vec[p_words] === 1'bx) begin
                $display("FAIL ttfs_files_encoder (%0s): cannot read the records of %0s", NAME, FILE);
                fail = 1'b1;
                $finish;
            end
            rec_base[n_rec] = p_words;
            p_words = p_words + 1 + $signed(vec[p_words]) * (2 + M) + (KEYS - $signed(vec[p_words])) * M;
            n_rec = n_rec + 1;
        end
        n_b = 0;
        n_e = 0;
        n_pairs_full = 0;
        // Phase 0: every record, random handshakes.
        pb[0] = 0;
        pe[0] = 0;
        for (r = 0; r < n_rec; r = r + 1) add_record(r, 0);
        // Phase 1: every record, full rate.
        pb[1] = n_b;
        pe[1] = n_e;
        for (r = 0; r < n_rec; r = r + 1) add_record(r, 0);
        for (r = 0; r < n_rec; r = r + 1) n_pairs_full = n_pairs_full + $signed(vec[rec_base[r]]);
        // Phase 2: a key sent twice (record 5 sends several keys).
        pb[2] = n_b;
        pe[2] = n_e;
        add_record(0, 0);
        add_record(5, 1);
        add_record(6, 0);
        add_record(1, 0);
        // Phase 3: keys out of range.
        pb[3] = n_b;
        pe[3] = n_e;
        add_record(2, 0);
        add_record(7, 2);
        add_record(8, 3);
        add_record(2, 3);
        add_record(9, 0);
        // Phase 4: after rst, well formed.
        pb[4] = n_b;
        pe[4] = n_e;
        add_record(10, 0);
        add_record(3, 0);
        pb[5] = n_b;
        pe[5] = n_e;
        $display("ttfs_files_encoder_tb (%0s): %0d records, %0d beats, %0d events", NAME, n_rec, n_b, n_e);
        rst = 1'b1;
        s_valid = 1'b0;
        s_last = 1'b0;
        s_key = {KEY_W{1'b0}};
        s_code = 32'd0;
        out_ready = 1'b0;
    end

    integer cycle, phase, b_next, e_next, rst_cycles, rst_wait;
    integer fr_start, fr_first_take, fr_first_out;
    reg prev_hold;
    reg [IDX_W+QW:0] prev_beat;
    reg err_exp; // error rises the cycle after a bad pair is taken
    initial begin
        cycle = 0; phase = 0; b_next = 0; e_next = 0; rst_cycles = 3; rst_wait = 0;
        fr_start = -1; fr_first_take = -1; fr_first_out = -1;
        prev_hold = 1'b0; prev_beat = 0; err_exp = 1'b0;
    end

    wire [IDX_W+QW:0] beat = {out_last, out_idx, out_q};

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 400000) begin
            $display("FAIL ttfs_files_encoder (%0s): timeout in phase %0d (%0d of %0d beats sent, %0d of %0d events)",
                     NAME, phase, b_next, pb[phase + 1], e_next, pe[phase + 1]);
            fail = 1'b1;
            done <= 1'b1;
        end else if (done) begin
            // finished
        end else if (rst_cycles > 0) begin
            rst_cycles = rst_cycles - 1;
            if (rst_cycles == 0) rst <= 1'b0;
        end else if (rst_wait == 1) begin
            // rst is sampled at this edge.
            rst <= 1'b0;
            rst_wait = 2;
            err_exp = 1'b0;
        end else if (rst_wait == 2 && (error || out_valid || !s_ready)) begin
            $display("FAIL ttfs_files_encoder (%0s): rst did not clear error/out_valid/s_ready", NAME);
            fail = 1'b1;
            done <= 1'b1;
        end else if (phase == NPH) begin
            done <= 1'b1;
        end else begin
            rst_wait = 0;
            if (prev_hold && (!out_valid || beat !== prev_beat)) begin
                $display("FAIL ttfs_files_encoder (%0s): output changed while stalled", NAME);
                fail = 1'b1;
                done <= 1'b1;
            end
            if (error !== err_exp) begin
                $display("FAIL ttfs_files_encoder (%0s): error is %b, expected %b (phase %0d, %0d beats taken)",
                         NAME, error, err_exp, phase, b_next - pb[phase]);
                fail = 1'b1;
                done <= 1'b1;
            end
            if (phase == 1 && fr_start < 0) fr_start = cycle;
            if (out_valid && out_ready) begin
                if (phase == 1 && fr_first_out < 0) fr_first_out = cycle;
                if (e_next >= pe[phase + 1]) begin
                    $display("FAIL ttfs_files_encoder (%0s): extra beat last=%b idx=%0d in phase %0d",
                             NAME, out_last, out_idx, phase);
                    fail = 1'b1;
                    done <= 1'b1;
                end else if ({out_last, out_idx} !== ev[e_next]
                             || out_q !== (out_last ? {QW{1'b0}} : Q_C)) begin
                    $display("FAIL ttfs_files_encoder (%0s): beat %0d (phase %0d) is last=%b idx=%0d q=%0d, expected last=%b idx=%0d",
                             NAME, e_next - pe[phase], phase, out_last, out_idx, out_q,
                             ev[e_next][IDX_W], ev[e_next][IDX_W-1:0]);
                    fail = 1'b1;
                    done <= 1'b1;
                end
                e_next = e_next + 1;
            end
            prev_hold = out_valid && !out_ready;
            prev_beat = beat;
            if (s_valid && s_ready) begin
                if (phase == 1 && fr_first_take < 0) fr_first_take = cycle;
                if (bk_bad[b_next]) err_exp = 1'b1;
                b_next = b_next + 1;
            end
            // Phase end: every beat sent, every event out.
            if (e_next == pe[phase + 1] && b_next == pb[phase + 1]) begin
                if (phase == 1) begin
                    $display("ttfs_files_encoder_tb (%0s): full rate: %0d cycles for %0d records, %0d pairs (%0d.%02d cycles per pair), %0d events; first event out %0d edges after its pair",
                             NAME, cycle - fr_start, n_rec, n_pairs_full,
                             (cycle - fr_start) / n_pairs_full, ((cycle - fr_start) * 100 / n_pairs_full) % 100,
                             pe[2] - pe[1], fr_first_out - fr_first_take);
                end
                if (phase == 2 || phase == 3) begin
                    if (!error) begin
                        $display("FAIL ttfs_files_encoder (%0s): error not set in phase %0d", NAME, phase);
                        fail = 1'b1;
                        done <= 1'b1;
                    end
                    rst <= 1'b1;
                    rst_wait = 1;
                end
                $display("ttfs_files_encoder_tb (%0s): phase %0d done (%0d beats, %0d events)", NAME, phase,
                         pb[phase + 1] - pb[phase], pe[phase + 1] - pe[phase]);
                phase = phase + 1;
            end
            // Drive the next beat (valid holds with its data until taken).
            rng = xorshift32(rng);
            if (phase < NPH && (!s_valid || s_ready)) begin
                if (rst_wait == 0 && b_next < pb[phase + 1] && (phase == 1 || rng[2:0] != 3'd0)) begin
                    s_valid <= 1'b1;
                    s_key <= bk_key[b_next][KEY_W-1:0];
                    s_code <= bk_code[b_next];
                    s_last <= bk_last[b_next];
                end else begin
                    s_valid <= 1'b0;
                    s_key <= {KEY_W{1'b0}};
                    s_code <= 32'd0;
                    s_last <= 1'b0;
                end
            end
            if (phase == 1) out_ready <= 1'b1;
            else out_ready <= rng[5:3] != 3'd0 && (cycle % 300 < 200 || rng[6]);
        end
    end

endmodule
`default_nettype wire
