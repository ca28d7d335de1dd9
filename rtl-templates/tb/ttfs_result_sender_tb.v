`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_result_sender (N 3, VW 10: 2 bytes per
// logit, sign-extended; CLS_W 2): 60 random results (xorshift32, fixed
// seed) offered with random gaps, bytes taken with a random ready. Checks
// every byte (0x5A, class, logits least significant byte first,
// sign-extended), data held while out_valid && !out_ready, and that a
// result is accepted exactly with its last byte.
module ttfs_result_sender_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(4)
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    localparam integer RESULTS = 60;
    localparam integer BYTES = 2 + 3 * 2;
    reg         in_valid;
    wire        in_ready;
    reg  [1:0]  in_class;
    reg  [29:0] in_logits;
    wire        out_valid;
    reg         out_ready;
    wire [7:0]  out_data;
    ttfs_result_sender #(.N(3), .VW(10), .CLS_W(2)) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_class(in_class),
        .in_logits(in_logits), .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));

    reg [1:0]  cls [0:RESULTS-1];
    reg [29:0] lgt [0:RESULTS-1];
    reg [7:0]  expect_byte [0:RESULTS*BYTES-1];
    integer i, j, cycle, sent, got, accepted;
    reg [31:0] rng;
    reg [15:0] wide;
    reg        held;
    reg [7:0]  held_data;

    initial begin
        rng = 32'h5E4D_0001;
        for (i = 0; i < RESULTS; i = i + 1) begin
            rng = xorshift32(rng);
            cls[i] = rng[1:0];
            rng = xorshift32(rng);
            lgt[i] = rng[29:0];
            expect_byte[i*BYTES] = 8'h5A;
            expect_byte[i*BYTES + 1] = {6'd0, cls[i]};
            for (j = 0; j < 3; j = j + 1) begin
                wide = {{6{lgt[i][j*10 + 9]}}, lgt[i][j*10 +: 10]};
                expect_byte[i*BYTES + 2 + 2*j] = wide[7:0];
                expect_byte[i*BYTES + 3 + 2*j] = wide[15:8];
            end
        end
        in_valid = 1'b0; in_class = 2'd0; in_logits = 30'd0; out_ready = 1'b0;
        cycle = 0; sent = 0; got = 0; accepted = 0; held = 1'b0; held_data = 8'd0;
    end

    task fail;
        input [8*64-1:0] what;
        begin
            $display("FAIL ttfs_result_sender: %0s (byte %0d)", what, got);
            failed = 1'b1;
            $finish;
        end
    endtask

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 50000) fail("timeout");
        if (!rst) begin
            if (held && (!out_valid || out_data !== held_data)) fail("byte changed while not taken");
            if (out_valid && out_ready) begin
                if (out_data !== expect_byte[got]) fail("wrong byte");
                got = got + 1;
            end
            if (in_valid && in_ready) begin
                accepted = accepted + 1;
                if (got != accepted * BYTES) fail("result accepted before its last byte");
                sent = sent + 1;
            end
            held = out_valid && !out_ready;
            held_data = out_data;
            rng = xorshift32(rng);
            if (!in_valid || in_ready) begin
                in_valid <= (sent < RESULTS) && rng[2:0] != 3'd0;
                in_class <= cls[sent];
                in_logits <= lgt[sent];
            end
            out_ready <= rng[5:4] != 2'd0;
            if (got == RESULTS * BYTES) begin
                $display("ttfs_result_sender_tb: %0d results, %0d bytes", RESULTS, got);
                tb_finish;
            end
        end
    end

endmodule
`default_nettype wire
