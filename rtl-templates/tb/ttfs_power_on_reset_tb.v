`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_power_on_reset (HOLD_BITS 3): reset is
// high at power-up and while lock is low, falls exactly 2 + 8 cycles after
// lock rises (two synchroniser stages, then the count), and rises again the
// cycle after a lock drop reaches the synchroniser's output.
module ttfs_power_on_reset_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_VERDICT
    reg lock;
    wire rst;
    integer cycle, fell;

    ttfs_power_on_reset #(.HOLD_BITS(3)) dut (.clk(clk), .lock(lock), .rst(rst));

    task fail;
        input [8*64-1:0] what;
        begin
            $display("FAIL ttfs_power_on_reset: %0s (cycle %0d)", what, cycle);
            failed = 1'b1;
            $finish;
        end
    endtask

    initial begin
        lock = 1'b0;
        cycle = 0;
        fell = -1;
        repeat (20) begin
            @(negedge clk);
            if (!rst) fail("reset low without lock");
        end
        // Lock rises between edges: the count takes 2 + 8 edges.
        lock = 1'b1;
        cycle = 0;
        while (rst && cycle < 100) begin
            @(negedge clk);
            cycle = cycle + 1;
        end
        if (cycle != 10) fail("reset did not fall 10 cycles after lock");
        repeat (30) begin
            @(negedge clk);
            if (rst) fail("reset rose while locked");
        end
        lock = 1'b0;
        cycle = 0;
        while (!rst && cycle < 100) begin
            @(negedge clk);
            cycle = cycle + 1;
        end
        if (cycle != 3) fail("reset did not rise 3 cycles after lock fell");
        tb_finish;
    end

endmodule
`default_nettype wire
