`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_input_encoder (N_IN = 12, QW = 4).
// Phase 0: 60 well-formed images back to back (all zero, all nonzero, last
//   pixel nonzero, last pixel zero, sparse, dense) under random
//   (xorshift32, fixed seed) valid/ready; error must stay 0.
// Phase 1: 12 images at full rate (s_valid and out_ready always high): one
//   pixel per cycle, exactly one stall cycle per image whose last pixel is
//   nonzero.
// Phases 2-4, each followed by rst: one kind of malformed image each (too
//   long, too short, one pixel too many with only that pixel nonzero plus a
//   1-pixel image), then well-formed ones. Events as documented (missing
//   pixels none, pixels past N_IN - 1 dropped); error must be set with the
//   malformed image's last beat, stay set, and clear on rst.
// Every output beat is compared with the expected event list (and error with
// every last beat); out_* must hold while out_valid && !out_ready.
// A second encoder in packed mode (ROW = 3, ROWS = 2: two channels of 2x3
// pixels, index {c, y, x} in 1 + 1 + 2 bits) gets the same stimulus: every
// cycle its handshakes, values, `last` and error must equal the first's,
// and its index must be the packed coordinates of the first's flat index.
module ttfs_input_encoder_tb;

    localparam integer N_IN = 12;
    localparam integer QW = 4;
    localparam integer IDX_W = 4;
    localparam integer MAXPIX = 2000;
    localparam integer MAXEV = 2000;

    `TTFS_TB_CLOCK
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT
    reg rst;

    reg [31:0] rng;

    reg              s_valid;
    wire             s_ready;
    reg              s_last;
    reg  [QW-1:0]    s_data;
    wire             out_valid;
    reg              out_ready;
    wire             out_last;
    wire [IDX_W-1:0] out_idx;
    wire [QW-1:0]    out_q;
    wire             error;

    ttfs_input_encoder #(.N_IN(N_IN), .QW(QW), .IDX_W(IDX_W)) dut (
        .clk(clk), .rst(rst),
        .s_valid(s_valid), .s_ready(s_ready), .s_last(s_last), .s_data(s_data),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last),
        .out_idx(out_idx), .out_q(out_q), .error(error));

    wire             p_s_ready;
    wire             p_out_valid;
    wire             p_out_last;
    wire [IDX_W-1:0] p_out_idx;
    wire [QW-1:0]    p_out_q;
    wire             p_error;

    ttfs_input_encoder #(.N_IN(N_IN), .QW(QW), .IDX_W(4), .ROW(3), .ROWS(2)) dut_packed (
        .clk(clk), .rst(rst),
        .s_valid(s_valid), .s_ready(p_s_ready), .s_last(s_last), .s_data(s_data),
        .out_valid(p_out_valid), .out_ready(out_ready), .out_last(p_out_last),
        .out_idx(p_out_idx), .out_q(p_out_q), .error(p_error));

    // The packed index of flat index j: {c, y, x} of (c*2 + y)*3 + x.
    function [IDX_W-1:0] packed_of;
        input [IDX_W-1:0] j;
        integer jj;
        reg [0:0] c;
        reg [0:0] y;
        reg [1:0] x;
        begin
            jj = j;
            c = jj / 6;
            y = (jj / 3) % 2;
            x = jj % 3;
            packed_of = {c, y, x};
        end
    endfunction

    always @(posedge clk) begin
        if (p_s_ready !== s_ready || p_out_valid !== out_valid || p_error !== error
            || (out_valid && (p_out_last !== out_last || p_out_q !== out_q
                              || (!out_last && p_out_idx !== packed_of(out_idx))))) begin
            $display("FAIL ttfs_input_encoder: packed encoder differs: ready %b/%b valid %b/%b idx %0d/%0d (want %0d)",
                     p_s_ready, s_ready, p_out_valid, out_valid, p_out_idx, out_idx, packed_of(out_idx));
            failed = 1'b1;
        end
    end

    // Stimulus: pixels of phase p in [pix_start[p], pix_start[p+1]).
    reg [QW-1:0] pix [0:MAXPIX-1];
    reg          pix_last [0:MAXPIX-1];
    // Expected events {last, idx, q} of phase p in [ev_start[p], ev_start[p+1]).
    reg [1+IDX_W+QW-1:0] ev [0:MAXEV-1];
    reg                  ev_err [0:MAXEV-1]; // error expected with a last beat
    reg                  m_err;              // sticky, as the DUT's error
    localparam integer NPH = 5; // phases
    integer pix_start [0:NPH];
    integer ev_start [0:NPH];
    integer n_pix, n_ev, nz_last_full_rate;

    // Appends an image of `len` pixels; `kind` picks the pattern.
    task add_image;
        input integer len;
        input integer kind;
        integer j;
        reg [QW-1:0] v;
        begin
            for (j = 0; j < len; j = j + 1) begin
                rng = xorshift32(rng);
                case (kind)
                    0: v = {QW{1'b0}};                                   // all zero
                    1: v = (rng[QW-1:0] == 0) ? 1 : rng[QW-1:0];         // all nonzero
                    2: v = (j == len - 1) ? 4'd15 : {QW{1'b0}};          // only last nonzero
                    3: v = (j == len - 1) ? 4'd0 : rng[QW-1:0];          // last zero
                    4: v = (rng[7:5] == 0) ? rng[QW-1:0] : {QW{1'b0}};   // sparse
                    default: v = rng[QW-1:0];                            // random
                endcase
                pix[n_pix] = v;
                pix_last[n_pix] = (j == len - 1);
                n_pix = n_pix + 1;
            end
        end
    endtask

    // Reference model over pixels [from, to): the documented behaviour.
    task expect_events;
        input integer from;
        input integer to;
        integer k, idx, len;
        reg over;
        begin
            idx = 0;
            len = 0;
            over = 1'b0;
            for (k = from; k < to; k = k + 1) begin
                len = len + 1;
                if (pix[k] != 0 && !over) begin
                    ev[n_ev] = {1'b0, idx[IDX_W-1:0], pix[k]};
                    ev_err[n_ev] = 1'b0;
                    n_ev = n_ev + 1;
                end
                if (pix_last[k]) begin
                    if (len != N_IN) m_err = 1'b1;
                    ev[n_ev] = {1'b1, {IDX_W{1'b0}}, {QW{1'b0}}};
                    ev_err[n_ev] = m_err;
                    n_ev = n_ev + 1;
                    len = 0;
                    idx = 0;
                    over = 1'b0;
                end else if (idx == N_IN - 1 || over) begin
                    over = 1'b1;
                end else begin
                    idx = idx + 1;
                end
            end
        end
    endtask

    integer i;
    initial begin
        rng = 32'h0BAD_5EED;
        n_pix = 0;
        n_ev = 0;
        m_err = 1'b0;
        // Phase 0: well-formed images, random handshakes.
        pix_start[0] = 0;
        add_image(N_IN, 0);
        add_image(N_IN, 1);
        add_image(N_IN, 2);
        add_image(N_IN, 0);
        add_image(N_IN, 3);
        for (i = 0; i < 55; i = i + 1) add_image(N_IN, i % 6);
        // Phase 1: full rate.
        pix_start[1] = n_pix;
        for (i = 0; i < 12; i = i + 1) add_image(N_IN, (i * 5) % 6);
        add_image(N_IN, 3); // ends in a zero pixel: no stall after the phase
        // Phase 2: too long.
        pix_start[2] = n_pix;
        add_image(N_IN + 4, 1);
        add_image(N_IN, 5);
        // Phase 3: too short.
        pix_start[3] = n_pix;
        add_image(N_IN - 3, 5);
        add_image(N_IN, 1);
        // Phase 4: one pixel too many (the only nonzero one), a 1-pixel image.
        pix_start[4] = n_pix;
        add_image(N_IN + 1, 2);
        add_image(1, 1);
        add_image(N_IN, 5);
        pix_start[5] = n_pix;
        for (i = 0; i < NPH; i = i + 1) begin
            ev_start[i] = n_ev;
            m_err = 1'b0; // each phase starts after reset or error-free
            expect_events(pix_start[i], pix_start[i + 1]);
        end
        ev_start[NPH] = n_ev;
        nz_last_full_rate = 0;
        for (i = pix_start[1]; i < pix_start[2]; i = i + 1)
            if (pix_last[i] && pix[i] != 0) nz_last_full_rate = nz_last_full_rate + 1;
        rst = 1'b1;
        s_valid = 1'b0; s_last = 1'b0; s_data = {QW{1'b0}}; out_ready = 1'b0;
    end

    integer cycle, phase, p_next, e_next, rst_cycles, rst_wait, stalls, fr_cycles;
    reg prev_hold;
    reg [1+IDX_W+QW-1:0] prev_beat;
    initial begin
        cycle = 0; phase = 0; p_next = 0; e_next = 0; rst_cycles = 3; rst_wait = 0;
        stalls = 0; fr_cycles = 0; prev_hold = 1'b0; prev_beat = 0;
    end

    wire [1+IDX_W+QW-1:0] beat = {out_last, out_idx, out_q};

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 100000) begin
            $display("FAIL ttfs_input_encoder: timeout in phase %0d", phase);
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
        end else if (rst_wait == 2 && (error || out_valid)) begin
            $display("FAIL ttfs_input_encoder: rst did not clear error/out_valid");
            failed = 1'b1;
            $finish;
        end else if (phase == NPH) begin
            tb_finish;
        end else begin
            rst_wait = 0;
            // Output checks (state through the previous edge).
            if (prev_hold && (!out_valid || beat !== prev_beat)) begin
                $display("FAIL ttfs_input_encoder: output changed while stalled");
                failed = 1'b1;
                $finish;
            end
            if (phase < 2 && error) begin
                $display("FAIL ttfs_input_encoder: error set on well-formed images (phase %0d)", phase);
                failed = 1'b1;
                $finish;
            end
            if (phase == 1 && s_valid) begin
                fr_cycles = fr_cycles + 1;
                if (!s_ready) stalls = stalls + 1;
            end
            if (out_valid && out_ready) begin
                if (e_next >= ev_start[phase + 1]) begin
                    $display("FAIL ttfs_input_encoder: extra beat %h in phase %0d", beat, phase);
                    failed = 1'b1;
                    $finish;
                end else if (beat !== ev[e_next]) begin
                    $display("FAIL ttfs_input_encoder: event %0d is last=%b idx=%0d q=%0d, expected last=%b idx=%0d q=%0d",
                             e_next, out_last, out_idx, out_q,
                             ev[e_next][IDX_W+QW], ev[e_next][IDX_W+QW-1:QW], ev[e_next][QW-1:0]);
                    failed = 1'b1;
                    $finish;
                end
                if (out_last && error !== ev_err[e_next]) begin
                    $display("FAIL ttfs_input_encoder: error %b at the last beat %0d, expected %b", error, e_next, ev_err[e_next]);
                    failed = 1'b1;
                    $finish;
                end
                e_next = e_next + 1;
            end
            prev_hold = out_valid && !out_ready;
            prev_beat = beat;
            if (s_valid && s_ready) p_next = p_next + 1;
            // Phase end: all pixels sent, all events out.
            if (e_next == ev_start[phase + 1] && p_next == pix_start[phase + 1]) begin
                if (phase == 1 && (stalls != nz_last_full_rate || fr_cycles != pix_start[2] - pix_start[1] + stalls)) begin
                    $display("FAIL ttfs_input_encoder: full rate took %0d cycles with %0d stalls for %0d pixels, expected %0d stalls",
                             fr_cycles, stalls, pix_start[2] - pix_start[1], nz_last_full_rate);
                    failed = 1'b1;
                    $finish;
                end
                if (phase >= 2) begin
                    if (!error) begin
                        $display("FAIL ttfs_input_encoder: error not set by the malformed image in phase %0d", phase);
                        failed = 1'b1;
                        $finish;
                    end
                    rst <= 1'b1;
                    rst_wait = 1;
                end
                $display("ttfs_input_encoder_tb: phase %0d done (%0d pixels, %0d events)", phase,
                         pix_start[phase + 1] - pix_start[phase], ev_start[phase + 1] - ev_start[phase]);
                if (phase == 1) $display("ttfs_input_encoder_tb: full rate: %0d cycles, %0d stalls", fr_cycles, stalls);
                phase = phase + 1;
            end
            // Drive the next pixel (valid holds with its data until taken).
            rng = xorshift32(rng);
            if (phase < NPH && (!s_valid || s_ready)) begin
                if (rst_wait == 0 && p_next < pix_start[phase + 1] && (phase == 1 || rng[2:0] != 3'd0)) begin
                    s_valid <= 1'b1;
                    s_data <= pix[p_next];
                    s_last <= pix_last[p_next];
                end else begin
                    s_valid <= 1'b0;
                    s_data <= {QW{1'b0}};
                    s_last <= 1'b0;
                end
            end
            if (phase == 1) out_ready <= 1'b1;
            else out_ready <= rng[5:3] != 3'd0 && (cycle % 200 < 150 || rng[6]);
        end
    end

endmodule
`default_nettype wire
