`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_event_fifo, two shapes (WIDTH 16 / depth
// 2^3, WIDTH 9 / depth 2^1), each with its own random (xorshift32, fixed
// seed) valid/ready pattern that cycles through modes: balanced, fill to
// full, full rate at full, drain to empty, full rate from empty, idle.
// Checks: every beat comes out once, in order, unchanged (scoreboard);
// out_* hold while out_valid && !out_ready; count = beats in - beats out;
// in_ready = RAM not full (capacity 2^ADDR_W + 1); out_valid follows at most
// 1 cycle after data is written into an empty FIFO; one beat per cycle in and
// out at full rate (also at full); full/empty with valid and ready both high
// are seen.
module ttfs_event_fifo_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(4)
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    localparam integer TOTAL = 8000; // beats per configuration
    localparam integer WINDOW = 300; // cycles per mode

    reg [1:0] done;
    integer cycle;
    initial cycle = 0;

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (done == 2'b11) tb_finish;
        if (cycle > 200000) begin
            $display("FAIL ttfs_event_fifo: timeout");
            failed = 1'b1;
            $finish;
        end
    end

    genvar c;
    generate
        for (c = 0; c < 2; c = c + 1) begin : g_cfg
            localparam integer W = (c == 0) ? 16 : 9;
            localparam integer AW = (c == 0) ? 3 : 1;
            localparam integer DEPTH = 1 << AW;

            reg          in_valid;
            wire         in_ready;
            reg  [W-1:0] in_data;
            wire         out_valid;
            reg          out_ready;
            wire [W-1:0] out_data;
            wire [AW:0]  count;

            ttfs_event_fifo #(.WIDTH(W), .ADDR_W(AW)) dut (
                .clk(clk), .rst(rst),
                .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data),
                .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data),
                .count(count));

            reg [W-1:0] sent [0:TOTAL-1];
            reg [31:0]  rng;
            integer n_in, n_out, n_gen, mode_cycle, mode, win_in, win_out;
            integer starve, cov_full, cov_empty, cov_both;
            reg         prev_hold;
            reg [W-1:0] prev_data;
            reg [8:0]   p_in, p_out; // probability / 256

            initial begin
                rng = 32'h9E37_79B9 + c;
                in_valid = 1'b0; in_data = {W{1'b0}}; out_ready = 1'b0;
                n_in = 0; n_out = 0; n_gen = 0; mode_cycle = 0; mode = 0;
                win_in = 0; win_out = 0; starve = 0;
                cov_full = 0; cov_empty = 0; cov_both = 0;
                prev_hold = 1'b0; prev_data = {W{1'b0}};
                done[c] = 1'b0;
            end

            always @(*) begin
                case (mode % 7)
                    0: begin p_in = 9'd128; p_out = 9'd128; end // balanced
                    1: begin p_in = 9'd256; p_out = 9'd40;  end // fill to full
                    2: begin p_in = 9'd256; p_out = 9'd256; end // full rate at full
                    3: begin p_in = 9'd40;  p_out = 9'd256; end // drain to empty
                    4: begin p_in = 9'd256; p_out = 9'd256; end // full rate from empty
                    5: begin p_in = 9'd0;   p_out = 9'd0;   end // idle
                    default: begin p_in = 9'd200; p_out = 9'd180; end
                endcase
            end

            always @(posedge clk) begin
                if (!rst && !done[c]) begin
                    // State through the previous edge.
                    if ({{(31 - AW){1'b0}}, count} != n_in - n_out) begin
                        $display("FAIL ttfs_event_fifo cfg %0d: count %0d, expected %0d", c, count, n_in - n_out);
                        failed = 1'b1;
                        $finish;
                    end
                    if (in_ready != ((n_in - n_out - (out_valid ? 1 : 0)) < DEPTH)) begin
                        $display("FAIL ttfs_event_fifo cfg %0d: in_ready %b with %0d held", c, in_ready, n_in - n_out);
                        failed = 1'b1;
                        $finish;
                    end
                    if (out_valid && n_in == n_out) begin
                        $display("FAIL ttfs_event_fifo cfg %0d: out_valid while empty", c);
                        failed = 1'b1;
                        $finish;
                    end
                    if (prev_hold && (!out_valid || out_data !== prev_data)) begin
                        $display("FAIL ttfs_event_fifo cfg %0d: output changed while stalled", c);
                        failed = 1'b1;
                        $finish;
                    end
                    if (n_in > n_out && !out_valid) starve = starve + 1;
                    else starve = 0;
                    if (starve > 1) begin
                        $display("FAIL ttfs_event_fifo cfg %0d: data held but out_valid low for 2 cycles", c);
                        failed = 1'b1;
                        $finish;
                    end
                    // Coverage: full / empty with both sides active.
                    if (n_in - n_out == DEPTH + 1 && in_valid && out_valid && out_ready) cov_full = cov_full + 1;
                    if (n_in == n_out && in_valid && in_ready && out_ready) cov_empty = cov_empty + 1;
                    if (in_valid && in_ready && out_valid && out_ready) cov_both = cov_both + 1;
                    // Transfers at this edge.
                    if (in_valid && in_ready) begin
                        sent[n_in] = in_data;
                        n_in = n_in + 1;
                        win_in = win_in + 1;
                    end
                    if (out_valid && out_ready) begin
                        if (out_data !== sent[n_out]) begin
                            $display("FAIL ttfs_event_fifo cfg %0d: beat %0d is %h, expected %h", c, n_out, out_data, sent[n_out]);
                            failed = 1'b1;
                            $finish;
                        end
                        n_out = n_out + 1;
                        win_out = win_out + 1;
                    end
                    prev_hold = out_valid && !out_ready;
                    prev_data = out_data;
                    // Mode windows; full-rate windows must move one beat per cycle.
                    mode_cycle = mode_cycle + 1;
                    if (mode_cycle == WINDOW) begin
                        if ((mode % 7 == 2 || mode % 7 == 4) && (win_in < WINDOW - 4 || win_out < WINDOW - 4)) begin
                            $display("FAIL ttfs_event_fifo cfg %0d: full-rate mode %0d moved %0d in, %0d out in %0d cycles",
                                     c, mode % 7, win_in, win_out, WINDOW);
                            failed = 1'b1;
                            $finish;
                        end
                        mode = mode + 1;
                        mode_cycle = 0;
                        win_in = 0;
                        win_out = 0;
                    end
                    // Drive: valid holds (with its data) until taken.
                    rng = xorshift32(rng);
                    if (!in_valid || in_ready) begin
                        if (n_gen < TOTAL && {1'b0, rng[7:0]} < p_in) begin
                            in_valid <= 1'b1;
                            in_data <= rng[31:32 - W];
                            n_gen = n_gen + 1;
                        end else begin
                            in_valid <= 1'b0;
                        end
                    end
                    out_ready <= {1'b0, rng[15:8]} < p_out;
                    if (n_out == TOTAL) begin
                        if (cov_full == 0 || cov_empty == 0 || cov_both < 1000) begin
                            $display("FAIL ttfs_event_fifo cfg %0d: coverage full %0d empty %0d both %0d",
                                     c, cov_full, cov_empty, cov_both);
                            failed = 1'b1;
                            $finish;
                        end
                        $display("ttfs_event_fifo_tb cfg %0d: %0d beats; full+push+pop %0d, empty+push+ready %0d, in+out same cycle %0d",
                                 c, TOTAL, cov_full, cov_empty, cov_both);
                        done[c] <= 1'b1;
                    end
                end
            end
        end
    endgenerate

endmodule
`default_nettype wire
