`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_spike_queue (IDX_W 5, Q_W 4, ADDR_W 4:
// capacity 17 beats). A producer sends 600 images of 0..7 random events
// (xorshift32, fixed seed) with random gaps; a consumer takes beats with a
// random ready that changes mode every 400 cycles (slow, fast, stalled).
// Checks: every beat comes out once, in order, unchanged; out_valid only
// while a complete image is inside (counted here from the pushes);
// `images` equals that count; once an image's first beat is out, out_valid
// stays high until its `last` beat (the consumer sees the image in one
// burst); data hold while out_valid && !out_ready; with a complete image
// inside, out_valid is never low for 2 cycles in a row.
module ttfs_spike_queue_tb;

    localparam integer IDX_W = 5;
    localparam integer Q_W = 4;
    localparam integer AW = 4;
    localparam integer W = 1 + IDX_W + Q_W;
    localparam integer IMAGES = 600;
    localparam integer MAX_BEATS = IMAGES * 8;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(4)
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

    ttfs_spike_queue #(.IDX_W(IDX_W), .Q_W(Q_W), .ADDR_W(AW)) dut (
        .clk(clk), .rst(rst),
        .in_valid(in_valid), .in_ready(in_ready), .in_last(in_last), .in_idx(in_idx), .in_q(in_q),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last), .out_idx(out_idx), .out_q(out_q),
        .images(images));

    reg [W-1:0] sent [0:MAX_BEATS-1];
    reg [31:0]  rng;
    integer cycle, n_in, n_out, img_in, img_out, planned, left, gap, low, mode;
    reg in_image;   // between an image's first beat out and its last
    reg prev_hold;
    reg [W-1:0] prev_beat;
    reg [8:0] p_out;

    initial begin
        rng = 32'h1234_5677;
        in_valid = 1'b0; in_last = 1'b0; in_idx = {IDX_W{1'b0}}; in_q = {Q_W{1'b0}};
        out_ready = 1'b0;
        cycle = 0; n_in = 0; n_out = 0; img_in = 0; img_out = 0; planned = 0; left = -1; gap = 0; low = 0; mode = 0;
        in_image = 1'b0; prev_hold = 1'b0; prev_beat = {W{1'b0}};
    end

    always @(*) begin
        case (mode % 3)
            0: p_out = 9'd60;   // slow consumer: the queue fills
            1: p_out = 9'd256;  // fast consumer
            default: p_out = 9'd0; // stalled
        endcase
    end

    task fail;
        input [8*64-1:0] what;
        begin
            $display("FAIL ttfs_spike_queue: %0s (cycle %0d, beat %0d)", what, cycle, n_out);
            failed = 1'b1;
            $finish;
        end
    endtask

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 400000) fail("timeout");
        if (!rst) begin
            // State through the previous edge.
            if ({{(31 - AW){1'b0}}, images} != img_in - img_out) fail("images differs from the complete images pushed");
            if (out_valid && img_in == img_out) fail("out_valid without a complete image");
            if (in_image && !out_valid) fail("gap inside an image");
            if (prev_hold && (!out_valid || {out_last, out_idx, out_q} !== prev_beat)) fail("output changed while stalled");
            if (img_in > img_out && !out_valid) low = low + 1;
            else low = 0;
            if (low > 1) fail("complete image inside but out_valid low for 2 cycles");
            // Transfers at this edge.
            if (in_valid && in_ready) begin
                sent[n_in] = {in_last, in_idx, in_q};
                n_in = n_in + 1;
                if (in_last) img_in = img_in + 1;
            end
            if (out_valid && out_ready) begin
                if ({out_last, out_idx, out_q} !== sent[n_out]) fail("wrong beat");
                n_out = n_out + 1;
                in_image = !out_last;
                if (out_last) img_out = img_out + 1;
            end
            prev_hold = out_valid && !out_ready;
            prev_beat = {out_last, out_idx, out_q};
            if (cycle % 400 == 0) mode = mode + 1;
            // Producer: images of 0..7 events, random gaps between beats.
            rng = xorshift32(rng);
            if (!in_valid || in_ready) begin
                in_valid <= 1'b0;
                if (gap > 0) begin
                    gap = gap - 1;
                end else if (left >= 0 || planned < IMAGES) begin
                    if (left < 0) begin
                        left = rng[2:0]; // events of the next image
                        planned = planned + 1;
                    end
                    in_valid <= 1'b1;
                    in_last <= left == 0;
                    in_idx <= rng[12:8];
                    in_q <= rng[19:16];
                    left = left - 1;
                    gap = (rng[27:24] < 4) ? rng[29:28] : 0;
                end
            end
            out_ready <= {1'b0, rng[7:0]} < p_out;
            if (img_out == IMAGES) begin
                $display("ttfs_spike_queue_tb: %0d images, %0d beats", IMAGES, n_out);
                tb_finish;
            end
        end
    end

endmodule
`default_nettype wire
