`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_uart_framer (N_IN 6, QW 4): a byte
// stream of junk bytes and frames (0xA5 + 6 pixel bytes, xorshift32, fixed
// seed), with random gaps and a consumer with random ready. Checks: exactly
// the frames' pixels come out, in order, s_last on every sixth; junk
// between frames is skipped; `error` stays low for 4-bit pixels and rises
// after a pixel byte with a high bit set.
module ttfs_uart_framer_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(4)
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    localparam integer FRAMES = 80;
    reg        in_valid;
    wire       in_ready;
    reg  [7:0] in_data;
    wire       out_valid, out_last, error;
    reg        out_ready;
    wire [3:0] out_data;
    ttfs_uart_framer #(.N_IN(6), .QW(4)) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last), .out_data(out_data), .error(error));

    // The byte stream and the expected pixels.
    reg [7:0] stream [0:2047];
    reg [3:0] pixels [0:FRAMES*6-1];
    integer nbytes, npix, f, j, junk, cycle, sent, got;
    reg [31:0] rng;

    initial begin
        rng = 32'hF00D_0001;
        nbytes = 0; npix = 0;
        for (f = 0; f < FRAMES; f = f + 1) begin
            rng = xorshift32(rng);
            for (junk = 0; junk < rng[1:0]; junk = junk + 1) begin
                // junk that is never 0xA5
                stream[nbytes] = (rng[15:8] == 8'hA5) ? 8'h00 : rng[15:8];
                nbytes = nbytes + 1;
                rng = xorshift32(rng);
            end
            stream[nbytes] = 8'hA5;
            nbytes = nbytes + 1;
            for (j = 0; j < 6; j = j + 1) begin
                rng = xorshift32(rng);
                stream[nbytes] = {4'd0, rng[3:0]};
                pixels[npix] = rng[3:0];
                nbytes = nbytes + 1;
                npix = npix + 1;
            end
        end
        in_valid = 1'b0; in_data = 8'd0; out_ready = 1'b0;
        cycle = 0; sent = 0; got = 0;
    end

    task fail;
        input [8*64-1:0] what;
        begin
            $display("FAIL ttfs_uart_framer: %0s (pixel %0d)", what, got);
            failed = 1'b1;
            $finish;
        end
    endtask

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 50000) fail("timeout");
        if (!rst) begin
            if (out_valid && out_ready) begin
                if (out_data !== pixels[got]) fail("wrong pixel");
                if (out_last !== (got % 6 == 5)) fail("s_last misplaced");
                got = got + 1;
            end
            if (error) fail("error on well-formed frames");
            if (in_valid && in_ready) sent = sent + 1;
            rng = xorshift32(rng);
            if (!in_valid || in_ready) begin
                in_valid <= (sent < nbytes) && rng[1:0] != 2'd0;
                in_data <= stream[sent];
            end
            out_ready <= rng[4:2] != 3'd0;
            if (got == npix) begin
                // A pixel byte with a high bit set: error.
                @(negedge clk);
                in_valid = 1'b1; in_data = 8'hA5; out_ready = 1'b1;
                @(negedge clk);
                in_data = 8'h17;
                @(negedge clk);
                in_valid = 1'b0;
                @(negedge clk);
                if (!error) fail("no error on a pixel byte above QW bits");
                $display("ttfs_uart_framer_tb: %0d frames, %0d bytes", FRAMES, nbytes);
                tb_finish;
            end
        end
    end

endmodule
`default_nettype wire
