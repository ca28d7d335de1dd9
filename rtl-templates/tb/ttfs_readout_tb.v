`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_readout (N = 5, VW = 6, CLS_W = 3).
// Phase 0: 90 well-formed images back to back under random (xorshift32,
//   fixed seed) valid/ready: random logits, all equal, narrow ranges (many
//   ties), all negative, extremes (-32 / 31), ties at the maximum, maximum
//   last; error must stay 0.
// Phase 1: 12 images at full rate: in_ready never drops, one result per
//   image with no bubble.
// Phases 2-5, each followed by rst: one kind of malformed image each
//   (indices out of order; empty image = last beat only, class 0, after an
//   image of class 4; too few logits; an index >= N), then well-formed ones. Results as documented (missing
//   logits read 0, class over the logits received); error must be set with
//   the malformed image's result, stay set, and clear on rst.
// Every result is compared with a class and logits computed here (and error
// with every result); res_* must hold while res_valid && !res_ready.
module ttfs_readout_tb;

    localparam integer N = 5;
    localparam integer VW = 6;
    localparam integer CLS_W = 3;
    localparam integer MAXB = 1000;
    localparam integer MAXR = 200;
    localparam integer BW = 1 + CLS_W + VW;

    `TTFS_TB_CLOCK
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT
    reg rst;

    reg [31:0] rng;

    // The low n bits of x as a signed number.
    function integer low_signed;
        input [31:0] x;
        input integer n;
        begin
            low_signed = x & ((1 << n) - 1);
            if (low_signed >= (1 << (n - 1))) low_signed = low_signed - (1 << n);
        end
    endfunction

    reg              in_valid;
    wire             in_ready;
    reg              in_last;
    reg  [CLS_W-1:0] in_idx;
    reg  [VW-1:0]    in_v;
    wire             res_valid;
    reg              res_ready;
    wire [CLS_W-1:0] res_class;
    wire [N*VW-1:0]  res_logits;
    wire             error;

    ttfs_readout #(.N(N), .VW(VW), .CLS_W(CLS_W)) dut (
        .clk(clk), .rst(rst),
        .in_valid(in_valid), .in_ready(in_ready), .in_last(in_last),
        .in_idx(in_idx), .in_v(in_v),
        .res_valid(res_valid), .res_ready(res_ready),
        .res_class(res_class), .res_logits(res_logits), .error(error));

    // Beats {last, idx, v} of phase p in [b_start[p], b_start[p+1]);
    // expected results {class, logits} in [r_start[p], r_start[p+1]).
    reg [BW-1:0]          beats [0:MAXB-1];
    reg [CLS_W+N*VW-1:0]  results [0:MAXR-1];
    reg                   res_err [0:MAXR-1]; // error expected with a result
    localparam integer NPH = 6; // phases
    integer b_start [0:NPH];
    integer r_start [0:NPH];
    integer n_b, n_r;

    // Reference model state for the image being built.
    reg [N*VW-1:0]      m_logits;
    reg signed [VW-1:0] m_best;
    reg [CLS_W-1:0]     m_class;
    reg                 m_have;
    reg                 m_err;   // sticky, as the DUT's error
    integer             m_count; // logit beats in the image being built

    task add_logit;
        input integer idx;
        input integer v;
        reg signed [VW-1:0] sv;
        begin
            sv = v[VW-1:0];
            beats[n_b] = {1'b0, idx[CLS_W-1:0], sv};
            n_b = n_b + 1;
            if (idx != m_count || idx >= N) m_err = 1'b1;
            m_count = m_count + 1;
            if (idx < N) begin
                m_logits[idx*VW +: VW] = sv;
                if (!m_have || sv > m_best || (sv == m_best && idx < m_class)) begin
                    m_best = sv;
                    m_class = idx[CLS_W-1:0];
                    m_have = 1'b1;
                end
            end
        end
    endtask

    task end_image;
        begin
            beats[n_b] = {1'b1, {CLS_W{1'b0}}, {VW{1'b0}}};
            n_b = n_b + 1;
            if (m_count != N) m_err = 1'b1;
            results[n_r] = {m_have ? m_class : {CLS_W{1'b0}}, m_logits};
            res_err[n_r] = m_err;
            m_count = 0;
            n_r = n_r + 1;
            m_logits = {N*VW{1'b0}};
            m_have = 1'b0;
            m_best = {VW{1'b0}};
            m_class = {CLS_W{1'b0}};
        end
    endtask

    // A well-formed image of the given kind.
    task add_image;
        input integer kind;
        integer i, v, base;
        begin
            rng = xorshift32(rng);
            base = low_signed(rng, VW);
            for (i = 0; i < N; i = i + 1) begin
                rng = xorshift32(rng);
                case (kind)
                    0: v = low_signed(rng, VW);                    // full range
                    1: v = base;                                   // all equal
                    2: v = low_signed(rng, 2) - 1;                 // -3 .. 0, ties
                    3: v = -1 - (low_signed(rng, 6) + 32) / 2;      // all negative, -32 .. -1
                    4: v = (i == N - 1) ? 31 : low_signed(rng, VW) % 31; // max last
                    5: v = rng[0] ? 31 : -32;                      // extremes
                    6: v = (i == 1 || i == 3) ? 20 : low_signed(rng, 4); // tie 1 / 3
                    default: v = low_signed(rng, 3);
                endcase
                add_logit(i, v);
            end
            end_image;
        end
    endtask

    integer k;
    initial begin
        rng = 32'h5EED_0042;
        n_b = 0;
        n_r = 0;
        m_logits = {N*VW{1'b0}};
        m_have = 1'b0;
        m_best = {VW{1'b0}};
        m_class = {CLS_W{1'b0}};
        m_err = 1'b0;
        m_count = 0;
        // Phase 0.
        b_start[0] = 0;
        r_start[0] = 0;
        for (k = 0; k < 90; k = k + 1) add_image(k % 8);
        // Phase 1: full rate.
        b_start[1] = n_b;
        r_start[1] = n_r;
        for (k = 0; k < 12; k = k + 1) add_image((k * 3) % 8);
        // Phase 2: out of order (tie 2 / 4).
        b_start[2] = n_b;
        r_start[2] = n_r;
        m_err = 1'b0;
        add_logit(2, 9); add_logit(0, 3); add_logit(4, 9); add_logit(1, -1); add_logit(3, 0);
        end_image;
        add_image(0);
        // Phase 3: empty image (last beat only) after one with class 4.
        b_start[3] = n_b;
        r_start[3] = n_r;
        m_err = 1'b0;
        add_image(4);
        end_image;
        add_image(6);
        // Phase 4: too few logits.
        b_start[4] = n_b;
        r_start[4] = n_r;
        m_err = 1'b0;
        add_logit(0, -5); add_logit(1, -7); add_logit(2, -5);
        end_image;
        add_image(2);
        // Phase 5: index >= N in place of the last logit.
        b_start[5] = n_b;
        r_start[5] = n_r;
        m_err = 1'b0;
        add_logit(0, 1); add_logit(1, 2); add_logit(2, 3); add_logit(3, 4); add_logit(5, 30);
        end_image;
        add_image(5);
        b_start[NPH] = n_b;
        r_start[NPH] = n_r;
        rst = 1'b1;
        in_valid = 1'b0; in_last = 1'b0; in_idx = {CLS_W{1'b0}}; in_v = {VW{1'b0}};
        res_ready = 1'b0;
    end

    integer cycle, phase, b_next, r_next, rst_cycles, rst_wait;
    reg prev_hold;
    reg [CLS_W+N*VW-1:0] prev_res;
    wire [CLS_W+N*VW-1:0] res = {res_class, res_logits};
    initial begin
        cycle = 0; phase = 0; b_next = 0; r_next = 0; rst_cycles = 3; rst_wait = 0;
        prev_hold = 1'b0; prev_res = 0;
    end

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 100000) begin
            $display("FAIL ttfs_readout: timeout in phase %0d", phase);
            failed = 1'b1;
            $finish;
        end
        if (rst_cycles > 0) begin
            rst_cycles = rst_cycles - 1;
            if (rst_cycles == 0) rst <= 1'b0;
        end else if (rst_wait == 1) begin
            // rst is sampled at this edge.
            rst <= 1'b0;
            rst_wait = 2;
        end else if (rst_wait == 2 && (error || res_valid)) begin
            $display("FAIL ttfs_readout: rst did not clear error/res_valid");
            failed = 1'b1;
            $finish;
        end else if (phase == NPH) begin
            tb_finish;
        end else begin
            rst_wait = 0;
            // Checks on the state through the previous edge.
            if (prev_hold && (!res_valid || res !== prev_res)) begin
                $display("FAIL ttfs_readout: result changed while stalled");
                failed = 1'b1;
                $finish;
            end
            if (phase < 2 && error) begin
                $display("FAIL ttfs_readout: error set on well-formed images (phase %0d)", phase);
                failed = 1'b1;
                $finish;
            end
            if (phase == 1 && in_valid && !in_ready) begin
                $display("FAIL ttfs_readout: in_ready low at full rate");
                failed = 1'b1;
                $finish;
            end
            if (res_valid && res_ready) begin
                if (r_next >= r_start[phase + 1]) begin
                    $display("FAIL ttfs_readout: extra result in phase %0d", phase);
                    failed = 1'b1;
                    $finish;
                end else if (res !== results[r_next]) begin
                    $display("FAIL ttfs_readout: result %0d class %0d logits %h, expected class %0d logits %h",
                             r_next, res_class, res_logits,
                             results[r_next][CLS_W+N*VW-1:N*VW], results[r_next][N*VW-1:0]);
                    failed = 1'b1;
                    $finish;
                end
                if (error !== res_err[r_next]) begin
                    $display("FAIL ttfs_readout: error %b with result %0d, expected %b", error, r_next, res_err[r_next]);
                    failed = 1'b1;
                    $finish;
                end
                r_next = r_next + 1;
            end
            prev_hold = res_valid && !res_ready;
            prev_res = res;
            if (in_valid && in_ready) b_next = b_next + 1;
            if (r_next == r_start[phase + 1] && b_next == b_start[phase + 1]) begin
                if (phase >= 2) begin
                    if (!error) begin
                        $display("FAIL ttfs_readout: error not set by the malformed image in phase %0d", phase);
                        failed = 1'b1;
                        $finish;
                    end
                    rst <= 1'b1;
                    rst_wait = 1;
                end
                $display("ttfs_readout_tb: phase %0d done (%0d beats, %0d results, cycle %0d)", phase,
                         b_start[phase + 1] - b_start[phase], r_start[phase + 1] - r_start[phase], cycle);
                phase = phase + 1;
            end
            // Drive the next beat (valid holds with its data until taken).
            rng = xorshift32(rng);
            if (phase < NPH && (!in_valid || in_ready)) begin
                if (rst_wait == 0 && b_next < b_start[phase + 1] && (phase == 1 || rng[2:0] != 3'd0)) begin
                    in_valid <= 1'b1;
                    {in_last, in_idx, in_v} <= beats[b_next];
                end else begin
                    in_valid <= 1'b0;
                    {in_last, in_idx, in_v} <= {BW{1'b0}};
                end
            end
            if (phase == 1) res_ready <= 1'b1;
            else res_ready <= rng[5:4] != 2'd0 && (cycle % 150 < 100 || rng[6]);
        end
    end

endmodule
`default_nettype wire
