`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_uart_tx (CLKS_PER_BIT 5): 200 random
// bytes (xorshift32, fixed seed) offered back to back and with random gaps.
// Checks the waveform cycle by cycle: the line idles high; each frame is a
// start bit (0), 8 data bits least significant first and a stop bit (1),
// each exactly 5 cycles (the stop bit at least 5); bytes go out in order;
// in_ready is low from the byte's acceptance to the end of its stop bit.
module ttfs_uart_tx_tb;

    localparam integer BIT = 5;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(4)
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    reg        in_valid;
    wire       in_ready;
    reg  [7:0] in_data;
    wire       tx;
    ttfs_uart_tx #(.CLKS_PER_BIT(BIT)) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data), .tx(tx));

    reg [7:0]  bytes [0:199];
    reg [31:0] rng;
    integer cycle, sent, seen, run_len, bitno;
    reg        prev;
    reg [9:0]  frame;
    reg        busy; // inside a frame

    initial begin
        rng = 32'h7777_1234;
        for (sent = 0; sent < 200; sent = sent + 1) begin
            rng = xorshift32(rng);
            bytes[sent] = rng[7:0];
        end
        in_valid = 1'b0; in_data = 8'd0;
        cycle = 0; sent = 0; seen = 0; run_len = 0; bitno = 0; prev = 1'b1; busy = 1'b0; frame = 10'd0;
    end

    task fail;
        input [8*64-1:0] what;
        begin
            $display("FAIL ttfs_uart_tx: %0s (cycle %0d, byte %0d)", what, cycle, seen);
            failed = 1'b1;
            $finish;
        end
    endtask

    // Receiver model: measures the line cycle by cycle.
    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 100000) fail("timeout");
        if (!rst) begin
            if (!busy) begin
                if (!tx) begin
                    busy = 1'b1;
                    bitno = 0;
                    run_len = 1;
                end
            end else begin
                run_len = run_len + 1;
                if (run_len > BIT) begin
                    // One bit time has passed: the bit just ended had value `prev`.
                    frame[bitno] = prev;
                    bitno = bitno + 1;
                    run_len = 1;
                    if (bitno == 10) begin
                        if (frame[0] !== 1'b0) fail("no start bit");
                        if (frame[8:1] !== bytes[seen]) fail("wrong data bits");
                        seen = seen + 1;
                        busy = 1'b0;
                        if (!tx) fail("stop bit shorter than a bit time");
                    end
                end else if (tx !== prev && run_len != 1) begin
                    fail("the line changed inside a bit");
                end
            end
            prev = tx;
            // Driver: offer the next byte, sometimes after a gap.
            if (in_valid && in_ready) sent = sent + 1;
            rng = xorshift32(rng);
            if (sent < 200 && (sent < 100 || rng[2:0] == 3'd0)) begin
                in_valid <= 1'b1;
                in_data <= bytes[sent];
            end else begin
                in_valid <= 1'b0;
            end
            if (seen == 200) begin
                $display("ttfs_uart_tx_tb: 200 bytes, every bit %0d cycles", BIT);
                tb_finish;
            end
        end
    end

endmodule
`default_nettype wire
