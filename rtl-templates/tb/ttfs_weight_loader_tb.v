`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_weight_loader: two loaders in a chain on
// one byte stream, A (DATA_W 20: 3 bytes a word, 4 padding bits; 37 words)
// writing a behavioural memory, then B (DATA_W 64; 5 words) writing a
// ttfs_weight_spram (SB_SPRAM256KA models), then 9 further bytes that pass
// through to a sink. The source's valid and the sink's ready are random
// (xorshift32, fixed seed); padding bits are random too.
// Checks: A's writes come in address order with the right words (padding
// ignored), one write per word; A's `done` rises exactly the cycle after its
// last write edge and B receives nothing before; B's SPRAM holds its words
// (read back after B's `done`); the pass-through bytes arrive in order;
// in_ready is 1 while loading; a reset in the middle restarts A at word 0.
module ttfs_weight_loader_tb;

    localparam integer A_W = 20;
    localparam integer A_WORDS = 37;
    localparam integer B_W = 64;
    localparam integer B_WORDS = 5;
    localparam integer EXTRA = 9;
    localparam integer A_BYTES = A_WORDS * 3;
    localparam integer TOTAL = A_BYTES + B_WORDS * 8 + EXTRA;

    `TTFS_TB_CLOCK
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT
    reg rst;

    task fail;
        input [8*64-1:0] what;
        begin
            $display("FAIL ttfs_weight_loader: %0s", what);
            failed = 1'b1;
            $finish;
        end
    endtask

    reg         in_valid;
    wire        in_ready;
    reg  [7:0]  in_data;
    wire        ab_valid, ab_ready;
    wire [7:0]  ab_data;
    wire        out_valid;
    reg         out_ready;
    wire [7:0]  out_data;
    wire        a_wr_en, b_wr_en, a_done, b_done;
    wire [5:0]  a_wr_addr;
    wire [13:0] b_wr_addr;
    wire [A_W-1:0] a_wr_data;
    wire [B_W-1:0] b_wr_data;
    reg         rd_en;
    reg  [13:0] rd_addr;
    wire [B_W-1:0] rd_data;

    ttfs_weight_loader #(.DATA_W(A_W), .WORDS(A_WORDS), .ADDR_W(6)) u_a (
        .clk(clk), .rst(rst),
        .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data),
        .out_valid(ab_valid), .out_ready(ab_ready), .out_data(ab_data),
        .wr_en(a_wr_en), .wr_addr(a_wr_addr), .wr_data(a_wr_data), .done(a_done));

    ttfs_weight_loader #(.DATA_W(B_W), .WORDS(B_WORDS), .ADDR_W(14)) u_b (
        .clk(clk), .rst(rst),
        .in_valid(ab_valid), .in_ready(ab_ready), .in_data(ab_data),
        .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data),
        .wr_en(b_wr_en), .wr_addr(b_wr_addr), .wr_data(b_wr_data), .done(b_done));

    ttfs_weight_spram #(.DATA_W(B_W)) u_mem (
        .clk(clk), .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(rd_data),
        .wr_en(b_wr_en), .wr_addr(b_wr_addr), .wr_data(b_wr_data));

    reg [7:0]     bytes [0:TOTAL-1];
    reg [A_W-1:0] a_expect [0:A_WORDS-1];
    reg [B_W-1:0] b_expect [0:B_WORDS-1];
    reg [31:0] rng;
    integer i, k, cycle, n_in, n_out, a_writes, a_last_write, phase, readback, restarted;

    initial begin
        rng = 32'hC0FF_EE01;
        for (i = 0; i < TOTAL; i = i + 1) begin
            rng = xorshift32(rng);
            bytes[i] = rng[7:0];
        end
        for (i = 0; i < A_WORDS; i = i + 1)
            a_expect[i] = {bytes[3 * i + 2][3:0], bytes[3 * i + 1], bytes[3 * i]};
        for (i = 0; i < B_WORDS; i = i + 1)
            for (k = 0; k < 8; k = k + 1) b_expect[i][8 * k +: 8] = bytes[A_BYTES + 8 * i + k];
        rst = 1'b1;
        in_valid = 1'b0; in_data = 8'd0; out_ready = 1'b0; rd_en = 1'b0; rd_addr = 14'd0;
        cycle = 0; n_in = 0; n_out = 0; a_writes = 0; a_last_write = -10; phase = 0; readback = 0; restarted = 0;
    end

    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 20000) fail("timeout");
        if (cycle == 4) rst <= 1'b0;
        // A reset after 20 of A's bytes, once: everything starts again.
        if (!rst && restarted == 0 && n_in == 20) begin
            rst <= 1'b1;
            restarted = 1;
            n_in = 0; a_writes = 0;
            in_valid <= 1'b0;
        end else if (rst && restarted == 1) begin
            rst <= 1'b0;
            restarted = 2;
        end else if (!rst) begin
            // State through the previous edge.
            if (n_in < A_BYTES && !in_ready) fail("in_ready low while A loads");
            if (a_done !== (a_last_write >= 0 && cycle > a_last_write)) fail("A's done not the cycle after its last write");
            if (ab_valid && !a_done) fail("bytes passed A before it was done");
            if (a_wr_en) begin
                if (a_wr_addr != a_writes[5:0]) fail("A wrote out of order");
                if (a_wr_data !== a_expect[a_writes]) fail("A wrote a wrong word");
                a_writes = a_writes + 1;
                if (a_writes == A_WORDS) a_last_write = cycle;
                if (a_writes > A_WORDS) fail("A wrote too many words");
            end
            // Transfers at this edge.
            if (in_valid && in_ready) n_in = n_in + 1;
            if (out_valid && out_ready) begin
                if (out_data !== bytes[A_BYTES + B_WORDS * 8 + n_out]) fail("pass-through byte wrong");
                n_out = n_out + 1;
            end
            // Drive the source and the sink.
            rng = xorshift32(rng);
            if (!in_valid || in_ready) begin
                if (n_in < TOTAL && rng[2:0] != 3'd0) begin
                    in_valid <= 1'b1;
                    in_data <= bytes[n_in];
                end else begin
                    in_valid <= 1'b0;
                end
            end
            out_ready <= rng[9:8] != 2'd0;
            // Read back B's memory once B is done.
            rd_en <= 1'b0;
            if (b_done && phase == 0) phase = 1;
            // Address r is read at the edge after rd_en is set and shows on
            // rd_data from the edge after that (sampled here 2 edges later).
            if (phase == 1) begin
                if (readback > 1 && rd_data !== b_expect[readback - 2]) fail("B's SPRAM holds a wrong word");
                if (readback == B_WORDS + 1) phase = 2;
                else begin
                    rd_en <= readback < B_WORDS;
                    rd_addr <= readback[13:0];
                    readback = readback + 1;
                end
            end
            if (phase == 2 && n_out == EXTRA) begin
                if (a_writes != A_WORDS) fail("A wrote too few words");
                $display("ttfs_weight_loader_tb: %0d bytes, %0d + %0d words, %0d passed through", TOTAL, A_WORDS, B_WORDS, EXTRA);
                tb_finish;
            end
        end
    end

endmodule
`default_nettype wire
