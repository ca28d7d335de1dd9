`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_record_framer: two instances, KEY_W 4
// and KEY_W 7 (no key check), take the same byte stream (each byte in the
// same cycle) and have their own consumers with random ready. The stream
// (xorshift32, fixed seed): junk bytes (never 0xA6) between records;
// records of 1 to 4 pairs with keys below 16 and random codes, some code
// bytes forced to 0xA6 (data inside a record); a record cut short after
// two bytes, then the ten 0x80 bytes of a resynchronisation and a record;
// random gaps. Checks: exactly the pairs come out of both, in order, with
// out_last on each record's final pair; `error` stays low; then a pair with
// key 0x55 raises `error` of the KEY_W 4 instance (which forwards key 5)
// and not that of the KEY_W 7 one (which forwards 0x55).
module ttfs_record_framer_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(4)
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    localparam integer RECORDS = 60;
    reg         in_valid;
    reg  [7:0]  in_data;
    wire        ready4, ready7;
    wire        valid4, valid7, last4, last7, error4, error7;
    reg         out_ready4, out_ready7;
    wire [3:0]  key4;
    wire [6:0]  key7;
    wire [31:0] code4, code7;
    // Both take a byte in the same cycle: each sees it valid only when the
    // other is ready (in_ready does not depend on in_valid).
    ttfs_record_framer #(.KEY_W(4)) dut4 (
        .clk(clk), .rst(rst), .in_valid(in_valid && ready7), .in_ready(ready4), .in_data(in_data),
        .out_valid(valid4), .out_ready(out_ready4), .out_last(last4), .out_key(key4), .out_code(code4),
        .error(error4));
    ttfs_record_framer #(.KEY_W(7)) dut7 (
        .clk(clk), .rst(rst), .in_valid(in_valid && ready4), .in_ready(ready7), .in_data(in_data),
        .out_valid(valid7), .out_ready(out_ready7), .out_last(last7), .out_key(key7), .out_code(code7),
        .error(error7));

    // The byte stream and the expected pairs.
    reg [7:0]  stream [0:4095];
    reg [6:0]  exp_key [0:511];
    reg [31:0] exp_code [0:511];
    reg        exp_last [0:511];
    integer nbytes, npairs, r, p, pairs, b, junk, cycle, sent, got4, got7;
    reg [31:0] rng, code;

    task put;
        input [7:0] x;
        begin
            stream[nbytes] = x;
            nbytes = nbytes + 1;
        end
    endtask

    task expect_pair;
        input [6:0] k;
        input [31:0] c;
        input l;
        begin
            exp_key[npairs] = k;
            exp_code[npairs] = c;
            exp_last[npairs] = l;
            npairs = npairs + 1;
        end
    endtask

    initial begin
        rng = 32'hBEEF_0003;
        nbytes = 0; npairs = 0;
        for (r = 0; r < RECORDS; r = r + 1) begin
            rng = xorshift32(rng);
            for (junk = 0; junk < rng[1:0]; junk = junk + 1) begin
                put((rng[15:8] == 8'hA6) ? 8'h00 : rng[15:8]);
                rng = xorshift32(rng);
            end
            rng = xorshift32(rng);
            pairs = 1 + rng[1:0];
            put(8'hA6);
            for (p = 0; p < pairs; p = p + 1) begin
                rng = xorshift32(rng);
                code = xorshift32(rng ^ 32'h1234_5678);
                if (rng[9:8] == 2'd0) code[15:8] = 8'hA6;
                put({p == pairs - 1, 3'd0, rng[3:0]});
                for (b = 3; b >= 0; b = b - 1) put(code[8*b +: 8]);
                expect_pair({3'd0, rng[3:0]}, code, p == pairs - 1);
            end
            if (r == RECORDS / 2) begin
                // A record cut short (a lost byte), ten 0x80, a record: the
                // cut pair is completed by three 0x80 and a pair {last, key
                // 0, 0x80808080} ends the record; the last two are skipped.
                put(8'hA6); put(8'h03); put(8'h11);
                for (b = 0; b < 10; b = b + 1) put(8'h80);
                expect_pair(7'd3, 32'h1180_8080, 1'b0);
                expect_pair(7'd0, 32'h8080_8080, 1'b1);
                put(8'hA6); put(8'h82); put(8'hDE); put(8'hAD); put(8'hBE); put(8'hEF);
                expect_pair(7'd2, 32'hDEAD_BEEF, 1'b1);
            end
        end
        in_valid = 1'b0; in_data = 8'd0; out_ready4 = 1'b0; out_ready7 = 1'b0;
        cycle = 0; sent = 0; got4 = 0; got7 = 0;
    end

    task fail;
        input [8*64-1:0] what;
        begin
            $display("FAIL ttfs_record_framer: %0s (pairs %0d, %0d)", what, got4, got7);
            failed = 1'b1;
            $finish;
        end
    endtask

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 100000) fail("timeout");
        if (!rst) begin
            if (valid4 && out_ready4) begin
                if (got4 >= npairs) fail("an extra pair (KEY_W 4)");
                if (key4 !== exp_key[got4][3:0] || code4 !== exp_code[got4]) fail("wrong pair (KEY_W 4)");
                if (last4 !== exp_last[got4]) fail("out_last misplaced (KEY_W 4)");
                got4 = got4 + 1;
            end
            if (valid7 && out_ready7) begin
                if (got7 >= npairs) fail("an extra pair (KEY_W 7)");
                if (key7 !== exp_key[got7] || code7 !== exp_code[got7]) fail("wrong pair (KEY_W 7)");
                if (last7 !== exp_last[got7]) fail("out_last misplaced (KEY_W 7)");
                got7 = got7 + 1;
            end
            if (error4 || error7) fail("error on well-formed records");
            if (in_valid && ready4 && ready7) sent = sent + 1;
            rng = xorshift32(rng);
            if (!in_valid || (ready4 && ready7)) begin
                in_valid <= (sent < nbytes) && rng[1:0] != 2'd0;
                in_data <= stream[sent];
            end
            out_ready4 <= rng[4:2] != 3'd0;
            out_ready7 <= rng[7:5] != 3'd0;
            if (got4 == npairs && got7 == npairs && sent == nbytes) begin
                // A pair with key 0x55: bits above KEY_W 4 set.
                @(negedge clk);
                in_valid = 1'b1; in_data = 8'hA6; out_ready4 = 1'b1; out_ready7 = 1'b1;
                @(negedge clk);
                in_data = 8'hD5;
                @(negedge clk);
                in_data = 8'h01;
                @(negedge clk);
                in_data = 8'h02;
                @(negedge clk);
                in_data = 8'h03;
                @(negedge clk);
                in_data = 8'h04;
                #1;
                if (!(valid4 && valid7 && last4 && last7)) fail("the bad pair is not offered with out_last");
                if (key4 !== 4'h5 || key7 !== 7'h55) fail("the bad pair's key");
                if (code4 !== 32'h0102_0304 || code7 !== 32'h0102_0304) fail("the bad pair's code");
                @(negedge clk);
                in_valid = 1'b0;
                if (!error4) fail("no error on a key above KEY_W bits");
                if (error7) fail("an error on a key that fits KEY_W 7");
                $display("ttfs_record_framer_tb: %0d records, %0d pairs, %0d bytes", RECORDS + 2, npairs, nbytes);
                tb_finish;
            end
        end
    end

endmodule
`default_nettype wire
