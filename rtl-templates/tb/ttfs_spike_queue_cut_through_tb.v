`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_spike_queue with CUT_THROUGH = 1 (IDX_W
// 5, Q_W 4, ADDR_W 4: capacity 17 beats). A producer sends 400 images of
// 0..7 random events and a `last` beat (xorshift32, fixed seed) with random
// gaps; a consumer takes beats with a random ready. Checks: every beat
// comes out once, in order, unchanged; data hold while out_valid &&
// !out_ready; a beat pushed into an empty queue shows on out_* exactly 2
// cycles later (the FIFO's latency, no image gating); and beats do leave
// before their image's `last` beat has gone in (counted, must happen).
module ttfs_spike_queue_cut_through_tb;

    localparam integer IDX_W = 5;
    localparam integer Q_W = 4;
    localparam integer AW = 4;
    localparam integer W = 1 + IDX_W + Q_W;
    localparam integer IMAGES = 400;
    localparam integer MAX_BEATS = IMAGES * 8;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(3)
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    reg              in_valid;
    wire             in_ready;
    reg              in_last;
    reg  [IDX_W-1:0] in_idx;
    reg  [Q_W-1:0]   in_q;
    wire             out_valid;
    reg              out_ready;
    wire             out_last;
    wire [IDX_W-1:0] out_idx;
    wire [Q_W-1:0]   out_q;
    wire [AW:0]      images;

    ttfs_spike_queue #(.IDX_W(IDX_W), .Q_W(Q_W), .ADDR_W(AW), .CUT_THROUGH(1)) dut (
        .clk(clk), .rst(rst),
        .in_valid(in_valid), .in_ready(in_ready), .in_last(in_last), .in_idx(in_idx), .in_q(in_q),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last), .out_idx(out_idx), .out_q(out_q),
        .images(images));

    reg [W-1:0] beats [0:MAX_BEATS-1];
    integer n_beats;
    integer sent;
    integer got;
    integer images_in;        // `last` beats pushed
    integer images_out;       // `last` beats popped
    integer early;            // beats popped while their image was not all in
    integer cycle;
    integer empty_push_cycle; // cycle of a push into an empty queue, or -1
    reg [31:0] rng;
    reg         held_valid;
    reg [W-1:0] held;
    integer i;
    integer k;
    integer events;

    initial begin
        rng = 32'hC0FF_EE01;
        n_beats = 0;
        for (i = 0; i < IMAGES; i = i + 1) begin
            rng = xorshift32(rng);
            events = rng[2:0];
            for (k = 0; k < events; k = k + 1) begin
                rng = xorshift32(rng);
                beats[n_beats] = {1'b0, rng[IDX_W-1:0], rng[8 +: Q_W]};
                n_beats = n_beats + 1;
            end
            beats[n_beats] = {1'b1, {IDX_W{1'b0}}, {Q_W{1'b0}}};
            n_beats = n_beats + 1;
        end
        in_valid = 1'b0;
        in_last = 1'b0;
        in_idx = 0;
        in_q = 0;
        out_ready = 1'b0;
        sent = 0;
        got = 0;
        images_in = 0;
        images_out = 0;
        early = 0;
        cycle = 0;
        empty_push_cycle = -1;
        held_valid = 1'b0;
    end

    always @(posedge clk) begin
        if (!rst) begin
            cycle = cycle + 1;
            // Consumer side (values before this edge).
            if (out_valid && out_ready) begin
                if ({out_last, out_idx, out_q} !== beats[got]) begin
                    $display("FAIL: beat %0d is %h, expected %h", got, {out_last, out_idx, out_q}, beats[got]);
                    failed = 1'b1;
                end
                if (!out_last && images_in == images_out) early = early + 1;
                if (out_last) images_out = images_out + 1;
                got = got + 1;
            end
            if (held_valid && !(out_valid && {out_last, out_idx, out_q} === held)) begin
                $display("FAIL: held beat changed or vanished at cycle %0d", cycle);
                failed = 1'b1;
            end
            held_valid = out_valid && !out_ready;
            held = {out_last, out_idx, out_q};
            if (empty_push_cycle >= 0 && cycle == empty_push_cycle + 2) begin
                if (!out_valid) begin
                    $display("FAIL: a beat pushed into an empty queue at cycle %0d is not out 2 cycles later", empty_push_cycle);
                    failed = 1'b1;
                end
                empty_push_cycle = -1;
            end
            // Producer side.
            if (in_valid && in_ready) begin
                if (sent == got && !out_valid && empty_push_cycle < 0) empty_push_cycle = cycle;
                if (in_last) images_in = images_in + 1;
                sent = sent + 1;
            end
            rng = xorshift32(rng);
            if (!in_valid || in_ready) begin
                if (sent < n_beats && rng[1:0] != 2'd0) begin
                    in_valid <= 1'b1;
                    {in_last, in_idx, in_q} <= beats[sent];
                end else begin
                    in_valid <= 1'b0;
                end
            end
            out_ready <= rng[4:3] != 2'd0;
            if (got == n_beats) begin
                if (early == 0) begin
                    $display("FAIL: no beat ever left before its image was complete");
                    failed = 1'b1;
                end
                if (failed) $display("FAIL ttfs_spike_queue_cut_through_tb");
                else $display("ttfs_spike_queue_cut_through_tb: %0d beats of %0d images, %0d before their image was in", got, IMAGES, early);
                tb_finish;
            end
            if (cycle > 100000) begin
                $display("FAIL: timeout, %0d of %0d beats", got, n_beats);
                $finish;
            end
        end
    end

endmodule
`default_nettype wire
