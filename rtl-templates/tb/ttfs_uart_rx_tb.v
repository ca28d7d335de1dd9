`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_uart_rx and ttfs_uart_tx together:
//   loop    ttfs_uart_tx -> ttfs_uart_rx at CLKS_PER_BIT 7, 300 random bytes
//           (xorshift32, fixed seed), random gaps, a consumer with random
//           ready that drains fast enough: every byte arrives, in order, no
//           overrun or frame error.
//   skew    the receiver at CLKS_PER_BIT 26 fed by a bench transmitter
//           whose bit time is 25, 26 or 27 cycles (3.8 % baud error, within
//           what 8N1 tolerates): 100 bytes arrive intact.
//   errors  a frame with a 0 stop bit sets frame_error and delivers no
//           byte; two bytes against a consumer that never takes one set
//           overrun and keep the first byte.
// A start-bit glitch shorter than half a bit is ignored (checked before the
// loop run: the receiver delivers nothing). The bench drives its inputs at
// falling edges, so no input changes with the rising edge that samples it.
module ttfs_uart_rx_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT
    reg rst;
    integer cycle;
    initial cycle = 0;
    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 200000) begin
            $display("FAIL ttfs_uart: timeout");
            $finish;
        end
    end

    task fail;
        input [8*64-1:0] what;
        begin
            $display("FAIL ttfs_uart: %0s", what);
            failed = 1'b1;
            $finish;
        end
    endtask

    // ---- loop: tx -> rx ----------------------------------------------------
    reg        t_valid;
    wire       t_ready;
    reg  [7:0] t_data;
    wire       line;
    wire       r_valid, r_ferr, r_ovr;
    reg        r_ready;
    wire [7:0] r_data;
    reg        glitch;   // forces the line low for a moment
    ttfs_uart_tx #(.CLKS_PER_BIT(7)) u_tx (
        .clk(clk), .rst(rst), .in_valid(t_valid), .in_ready(t_ready), .in_data(t_data), .tx(line));
    ttfs_uart_rx #(.CLKS_PER_BIT(7)) u_rx (
        .clk(clk), .rst(rst), .rx(line & !glitch), .out_valid(r_valid), .out_ready(r_ready),
        .out_data(r_data), .frame_error(r_ferr), .overrun(r_ovr));

    // ---- skew and errors: a bench transmitter into a second receiver -------
    reg        b_line;
    wire       s_valid, s_ferr, s_ovr;
    reg        s_ready;
    wire [7:0] s_data;
    ttfs_uart_rx #(.CLKS_PER_BIT(26)) u_rx2 (
        .clk(clk), .rst(rst), .rx(b_line), .out_valid(s_valid), .out_ready(s_ready),
        .out_data(s_data), .frame_error(s_ferr), .overrun(s_ovr));

    // Sends one frame on b_line with bit time `bt` and stop bit value `stop`.
    task send_frame;
        input [7:0] data;
        input integer bt;
        input stop;
        integer i, k;
        begin
            b_line = 1'b0;
            for (k = 0; k < bt; k = k + 1) @(negedge clk);
            for (i = 0; i < 8; i = i + 1) begin
                b_line = data[i];
                for (k = 0; k < bt; k = k + 1) @(negedge clk);
            end
            b_line = stop;
            for (k = 0; k < bt; k = k + 1) @(negedge clk);
            b_line = 1'b1;
            for (k = 0; k < 2 * bt; k = k + 1) @(negedge clk);
        end
    endtask

    reg [7:0]  sent [0:299];
    reg [31:0] rng;
    integer n, got, i, k;

    // Skew receiver: check bytes as they come (while s_ready is high).
    reg [7:0] s_exp [0:99];
    integer s_n;
    initial s_n = 0;
    always @(posedge clk) begin
        if (!rst && s_valid && s_ready && s_n < 100) begin
            if (s_data !== s_exp[s_n]) fail("skew: wrong byte");
            s_n = s_n + 1;
        end
    end

    // Loop receiver: count and check bytes as they come.
    always @(posedge clk) begin
        if (!rst && r_valid && r_ready) begin
            if (r_data !== sent[got]) fail("loop: wrong byte");
            got = got + 1;
        end
        if (!rst) r_ready <= (xorshift32(cycle) & 3) != 0;
    end

    initial begin
        rst = 1'b1;
        t_valid = 1'b0; t_data = 8'd0; r_ready = 1'b0; s_ready = 1'b0;
        b_line = 1'b1; glitch = 1'b0;
        got = 0;
        rng = 32'h0BAD_CAFE;
        for (i = 0; i < 300; i = i + 1) begin
            rng = xorshift32(rng);
            sent[i] = rng[7:0];
        end
        repeat (4) @(negedge clk);
        rst = 1'b0;
        // A glitch of 2 cycles (< half of 7) is not a start bit.
        repeat (10) @(negedge clk);
        glitch = 1'b1;
        repeat (2) @(negedge clk);
        glitch = 1'b0;
        repeat (40) @(negedge clk);
        if (got != 0 || r_valid) fail("a glitch became a byte");
        // loop
        for (n = 0; n < 300; n = n + 1) begin
            // Driven between edges; t_ready seen at a falling edge holds
            // through the next rising edge, which takes the byte.
            t_valid = 1'b1;
            t_data = sent[n];
            while (!t_ready) @(negedge clk);
            @(negedge clk);
            t_valid = 1'b0;
            rng = xorshift32(rng);
            for (k = 0; k < rng[3:0]; k = k + 1) @(negedge clk);
        end
        repeat (200) @(negedge clk);
        if (got != 300) fail("loop: bytes missing");
        if (r_ferr || r_ovr) fail("loop: error flags");
        // skew: bit times 12, 13, 14
        s_ready = 1'b1;
        for (n = 0; n < 100; n = n + 1) begin
            rng = xorshift32(rng);
            s_exp[n] = rng[15:8];
            send_frame(rng[15:8], 25 + (n % 3), 1'b1);
        end
        if (s_n != 100) fail("skew: bytes missing");
        if (s_ferr || s_ovr) fail("skew: error flags");
        // errors: a 0 stop bit
        send_frame(8'h5A, 26, 1'b0);
        repeat (30) @(negedge clk);
        if (!s_ferr) fail("no frame error on a 0 stop bit");
        if (s_valid) fail("a byte with a bad stop bit was delivered");
        // overrun: nobody takes the bytes
        s_ready = 1'b0;
        send_frame(8'h11, 26, 1'b1);
        send_frame(8'h22, 26, 1'b1);
        repeat (30) @(negedge clk);
        if (!s_ovr) fail("no overrun");
        if (!s_valid || s_data !== 8'h11) fail("overrun lost the first byte");
        $display("ttfs_uart_rx_tb: 300 looped bytes, 100 skewed bytes, frame error and overrun seen");
        tb_finish;
    end

endmodule
`default_nettype wire
